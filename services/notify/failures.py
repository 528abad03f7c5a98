"""What an SMTP failure means, and when to try again. Pure: no sockets here.

Transient (try later): the server cannot be reached, the connection drops or times out, or it
answers 4xx. Permanent (record, tell staff, never retry): it answers 5xx, or a transient failure
has lasted longer than the retry policy allows.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from enum import Enum

from shared.retry import Backoff


class FailureKind(Enum):
    TRANSIENT = "transient"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    detail: str
    code: int | None = None

    @property
    def transient(self) -> bool:
        return self.kind is FailureKind.TRANSIENT


def classify(error: BaseException) -> Failure:
    """Map an exception raised while sending one mail to a transient or permanent failure."""
    detail = _describe(error)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return _by_code(max(codes) if codes else 554, detail)
    if isinstance(error, smtplib.SMTPResponseException):
        return _by_code(error.smtp_code, detail)
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return Failure(FailureKind.TRANSIENT, detail)
    if isinstance(error, ssl.SSLCertVerificationError):
        # A certificate that does not verify will not verify on the next attempt either.
        return Failure(FailureKind.PERMANENT, detail)
    if isinstance(error, smtplib.SMTPException):
        # smtplib's errors are OSErrors too; the rest of them (SMTPNotSupportedError, …) repeat.
        return Failure(FailureKind.PERMANENT, detail)
    if isinstance(error, OSError):
        # Connection refused or reset, timeouts (socket.timeout is TimeoutError), DNS hiccups.
        return Failure(FailureKind.TRANSIENT, detail)
    # Anything else (no recipients, SMTPNotSupportedError, a bug) will fail the same way again.
    return Failure(FailureKind.PERMANENT, detail)


def _by_code(code: int, detail: str) -> Failure:
    if 400 <= code < 500:
        return Failure(FailureKind.TRANSIENT, detail, code)
    return Failure(FailureKind.PERMANENT, detail, code)


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        parts = [f"{code} {_text(msg)}" for code, msg in error.recipients.values()]
        return "recipient refused: " + "; ".join(parts)
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return f"{type(error).__name__}: {error}".strip()


def _text(message: bytes | str) -> str:
    if isinstance(message, bytes):
        return message.decode("utf-8", "replace")
    return str(message)


# 30 s, 1 min, 2 min ... up to an hour, exactly (no jitter), twelve tries in all.
RETRY = Backoff(30.0, 3600.0, jitter=0.0, max_attempts=12)


def next_step(failure: Failure, attempts: int, backoff: Backoff) -> Failure:
    """The failure to act on: a transient one becomes permanent once attempts run out."""
    if failure.transient and backoff.exhausted(attempts):
        return Failure(
            FailureKind.PERMANENT,
            f"gave up after {attempts} attempts: {failure.detail}",
            failure.code,
        )
    return failure
