import smtplib

import pytest

from services.notify.failures import RETRY, FailureKind, classify, next_step
from shared.retry import Backoff

T, P = FailureKind.TRANSIENT, FailureKind.PERMANENT


@pytest.mark.parametrize(("error", "kind"), [
    (ConnectionRefusedError(111, "Connection refused"), T),
    (TimeoutError("timed out"), T),
    (TimeoutError(), T),
    (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), T),
    (smtplib.SMTPConnectError(421, b"busy"), T),
    (smtplib.SMTPDataError(451, b"4.3.0 try again later"), T),
    (smtplib.SMTPSenderRefused(452, b"4.3.1 insufficient storage", "a@b"), T),
    (smtplib.SMTPRecipientsRefused({"a@b": (450, b"mailbox busy")}), T),
    (smtplib.SMTPRecipientsRefused({"a@b": (550, b"5.1.1 no such user")}), P),
    (smtplib.SMTPDataError(554, b"5.7.1 rejected"), P),
    (smtplib.SMTPAuthenticationError(535, b"bad credentials"), P),
    (smtplib.SMTPNotSupportedError("STARTTLS"), P),
    (ValueError("no recipients"), P),
])
def test_classify(error, kind):
    failure = classify(error)
    assert failure.kind is kind
    assert failure.detail


def test_the_smtp_code_and_text_are_kept():
    failure = classify(smtplib.SMTPRecipientsRefused({"a@b": (550, b"5.1.1 no such user")}))
    assert failure.code == 550
    assert "550 5.1.1 no such user" in failure.detail


def test_backoff_doubles_up_to_the_cap():
    backoff = Backoff(30.0, 300.0, jitter=0.0, max_attempts=5)
    assert [backoff.delay(n) for n in range(1, 7)] == [30, 60, 120, 240, 300, 300]
    assert backoff.delay(10_000) == 300
    assert [RETRY.delay(n) for n in (1, 2, 3, 12)] == [30, 60, 120, 3600]


def test_a_transient_failure_becomes_permanent_when_attempts_run_out():
    backoff = Backoff(30.0, 3600.0, max_attempts=3)
    failure = classify(ConnectionRefusedError())
    assert next_step(failure, 2, backoff).transient
    final = next_step(failure, 3, backoff)
    assert final.kind is P and "gave up after 3 attempts" in final.detail
    permanent = classify(smtplib.SMTPDataError(554, b"no"))
    assert next_step(permanent, 1, backoff) is permanent
