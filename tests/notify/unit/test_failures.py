import smtplib
from datetime import timedelta

import pytest

from services.notify.failures import FailureKind, RetryPolicy, classify

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
    policy = RetryPolicy(base=timedelta(seconds=30), cap=timedelta(minutes=5), max_attempts=5)
    assert [policy.delay(n).total_seconds() for n in range(1, 7)] == [30, 60, 120, 240, 300, 300]
    assert policy.delay(10_000) == timedelta(minutes=5)


def test_a_transient_failure_becomes_permanent_when_attempts_run_out():
    policy = RetryPolicy(max_attempts=3)
    failure = classify(ConnectionRefusedError())
    assert policy.next_step(failure, 2).transient
    final = policy.next_step(failure, 3)
    assert final.kind is P and "gave up after 3 attempts" in final.detail
    permanent = classify(smtplib.SMTPDataError(554, b"no"))
    assert policy.next_step(permanent, 1) is permanent
