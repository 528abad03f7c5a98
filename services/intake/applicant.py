"""The applicant's side of an application, as pure rules: the key of their private page, the
status they read there, what they may do next, and what an answer's attachments must be.

Nothing here touches a database, a broker or nameko; ``casefile`` stores what these rules decide.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from services.intake.domain import N_, DomainError, FieldProblem, multi_line

KEY_BYTES = 32
ANSWER_MAX = 5000
WITHDRAWAL_REASON_MAX = 2000
MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
FILENAME_MAX = 255

# What the page accepts, recognised by the first bytes of the content (never by the name).
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
EXTENSIONS = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg",
              ".jpeg": "image/jpeg"}
TYPE_NAMES = {"application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG"}

# The registry's steps, as the registry's events name them.
RECEIVED = "received"
WAITLISTED = "waitlisted"
UNDER_REVIEW = "under_review"
INFO_REQUESTED = "info_requested"
ACCEPTED = "accepted"
DECLINED = "declined"
WITHDRAWN = "withdrawn"
OPEN_STATUSES = frozenset({RECEIVED, WAITLISTED, UNDER_REVIEW, INFO_REQUESTED})
STEP_EVENTS = {
    "application.waitlisted": WAITLISTED,
    "application.under_review": UNDER_REVIEW,
    "application.info_requested": INFO_REQUESTED,
    "application.accepted": ACCEPTED,
    "application.declined": DECLINED,
    "application.withdrawn": WITHDRAWN,
}


class NothingToAnswer(DomainError):
    """An answer when no information is requested (or the request was already answered)."""


class CannotWithdraw(DomainError):
    """The application is decided: there is nothing left to withdraw."""


# -- the key of the private page -----------------------------------------------------------------

def new_key() -> str:
    """The secret part of the page's address: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(KEY_BYTES)


def key_digest(key: str) -> str:
    """What is stored: a SHA-256 of the key (the key itself is only in the applicant's mail)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_matches(key: str, digests: Iterable[str]) -> bool:
    """Does ``key`` open a page whose stored digests are ``digests``? Compared in constant time,
    against every digest (a page may have several keys: the first, and each one mailed again)."""
    presented = key_digest(key)
    found = False
    for digest in digests:
        found |= hmac.compare_digest(presented, digest)
    return found


def page_url(base: str, reference: str, key: str) -> str:
    return f"{base.rstrip('/')}/applications/{reference}/{key}"


# -- the status the applicant reads --------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One event of the registry about this application, as intake keeps it."""

    event_id: str
    kind: str
    occurred_at: datetime
    wave: int | None = None
    text: str | None = None


@dataclass(frozen=True)
class Answer:
    request_event_id: str
    message: str
    answered_at: datetime
    attachments: Sequence[dict] = field(default_factory=tuple)


@dataclass(frozen=True)
class Standing:
    """Where an application stands, from the registry's steps and the applicant's own acts."""

    received_at: datetime
    steps: Sequence[Step] = ()
    answers: Sequence[Answer] = ()
    withdrawal_requested_at: datetime | None = None

    @property
    def latest(self) -> Step | None:
        return max(self.steps, key=lambda s: s.occurred_at) if self.steps else None

    @property
    def status(self) -> str:
        latest = self.latest
        return latest.kind if latest else RECEIVED

    @property
    def wave(self) -> int | None:
        waves = [s.wave for s in sorted(self.steps, key=lambda s: s.occurred_at) if s.wave]
        return waves[-1] if waves else None

    @property
    def open_request(self) -> Step | None:
        """The information request still waiting for an answer, if any."""
        latest = self.latest
        if latest is None or latest.kind != INFO_REQUESTED:
            return None
        if any(a.request_event_id == latest.event_id for a in self.answers):
            return None
        return latest

    @property
    def answered_latest_request(self) -> bool:
        latest = self.latest
        return (latest is not None and latest.kind == INFO_REQUESTED
                and self.open_request is None)

    @property
    def withdrawal_pending(self) -> bool:
        return self.withdrawal_requested_at is not None and self.status in OPEN_STATUSES

    @property
    def may_answer(self) -> bool:
        return self.open_request is not None and not self.withdrawal_pending

    @property
    def may_withdraw(self) -> bool:
        return self.status in OPEN_STATUSES and self.withdrawal_requested_at is None

    def request_to_answer(self) -> Step:
        """The request an answer now answers; NothingToAnswer if there is none."""
        request = self.open_request
        if request is None or self.withdrawal_pending:
            raise NothingToAnswer(self.status)
        return request

    def check_withdrawable(self) -> None:
        if self.status not in OPEN_STATUSES:
            raise CannotWithdraw(self.status)

    def timeline(self) -> list[tuple[datetime, str, Step | Answer | None]]:
        """(when, what, details) in order: received, the registry's steps, the applicant's
        answers and withdrawal request."""
        items: list[tuple[datetime, str, Step | Answer | None]] = [
            (self.received_at, RECEIVED, None)]
        items += [(s.occurred_at, s.kind, s) for s in self.steps]
        items += [(a.answered_at, "answered", a) for a in self.answers]
        if self.withdrawal_requested_at is not None:
            items.append((self.withdrawal_requested_at, "withdrawal_requested", None))
        return sorted(items, key=lambda item: item[0])


# -- what an answer must be ----------------------------------------------------------------------

@dataclass(frozen=True)
class Upload:
    """A file as the browser sent it: the name it gave, the bytes."""

    filename: str
    content: bytes


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def answer_text(value: object) -> str:
    text = multi_line(value if isinstance(value, str) else "")
    if not text:
        raise FieldProblem(N_("Write your answer."))
    if len(text) > ANSWER_MAX:
        raise FieldProblem(N_("Enter at most %(max)d characters."), {"max": ANSWER_MAX})
    return text


def withdrawal_reason(value: object) -> str | None:
    text = multi_line(value if isinstance(value, str) else "")
    if len(text) > WITHDRAWAL_REASON_MAX:
        raise FieldProblem(N_("Enter at most %(max)d characters."),
                           {"max": WITHDRAWAL_REASON_MAX})
    return text or None


def check_attachments(uploads: Sequence[Upload]) -> list[CheckedFile]:
    """Every file checked: at most five, each at most 5 MB, a PDF, PNG or JPEG by its content,
    and named as what it is. The first problem is raised (nothing is kept of a refused answer)."""
    if len(uploads) > MAX_ATTACHMENTS:
        raise FieldProblem(N_("Attach at most %(max)d files."), {"max": MAX_ATTACHMENTS})
    return [check_file(upload) for upload in uploads]


def check_file(upload: Upload) -> CheckedFile:
    name = clean_filename(upload.filename)
    if not upload.content:
        raise FieldProblem(N_("The file %(name)s is empty."), {"name": name})
    if len(upload.content) > MAX_ATTACHMENT_BYTES:
        raise FieldProblem(N_("The file %(name)s is larger than 5 MB."), {"name": name})
    detected = content_type_of(upload.content)
    claimed = EXTENSIONS.get(_extension(name))
    if detected is None:
        raise FieldProblem(N_("The file %(name)s is not a PDF, PNG or JPEG file."),
                           {"name": name})
    if claimed != detected:
        raise FieldProblem(
            N_("The file %(name)s is named like another kind of file than it contains (%(kind)s)."),
            {"name": name, "kind": TYPE_NAMES[detected]})
    return CheckedFile(name, detected, upload.content)


def content_type_of(content: bytes) -> str | None:
    for signature, content_type in SIGNATURES:
        if content.startswith(signature):
            return content_type
    return None


_UNSAFE_IN_NAME = re.compile(r'[\\/:*?"<>|]')


def clean_filename(filename: str) -> str:
    """The name without a path, control characters or characters that break a header."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", filename or ""))[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C")
    base = _UNSAFE_IN_NAME.sub("_", base).strip().strip(".") or "attachment"
    if len(base) > FILENAME_MAX:
        stem, dot, extension = base.rpartition(".")
        base = (stem[: FILENAME_MAX - len(extension) - 1] + dot + extension) if dot else \
            base[:FILENAME_MAX]
    return base


def _extension(name: str) -> str:
    _, dot, extension = name.rpartition(".")
    return f".{extension.lower()}" if dot else ""
