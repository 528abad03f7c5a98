"""The applicant's case file, one transaction at a time: open the page with its key, follow the
registry's steps, store an answer with its attachments and its event, record a withdrawal
request, mail the link again. The rules are in ``applicant``; the tables in ``db``.

An answer, its files and its ``application.info_provided`` outbox row commit together: nothing
is announced that is not stored, and nothing is stored that is not announced.
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.intake import applicant, db
from services.intake.applicant import CheckedFile, Standing
from services.intake.domain import DomainError
from shared.clock import naive_utc
from shared.db import Database
from shared.events import ApplicationInfoRequested, ApplicationStep, Event, new_event
from shared.outbox import record


class PageNotFound(DomainError):
    """An unknown reference, an erased one, or a key that does not open this page: the same."""


@dataclass(frozen=True)
class CaseFile:
    reference: str
    facts: Mapping[str, Any]
    standing: Standing
    attachments: Mapping[int, list[Any]]


def open_page(database: Database, reference: str, key: str) -> CaseFile:
    """The case file behind a page address; PageNotFound unless the key opens it."""
    with database.transaction() as session:
        return _opened(session, reference, key)


def _case_file(session, submission: db.Submission) -> CaseFile:
    reference = submission.reference
    files: dict[int, list[Any]] = {}
    for row in db.attachments(session, reference):
        files.setdefault(row.answer_id, []).append(row)
    answers = [
        applicant.Answer(row.request_event_id, row.message, row.answered_at,
                         tuple(attachment_data(f) for f in files.get(row.id, [])))
        for row in db.answers(session, reference)
    ]
    withdrawal = db.withdrawal(session, reference)
    standing = Standing(
        received_at=submission.received_at,
        steps=tuple(applicant.Step(s.event_id, s.kind, s.occurred_at, s.wave, s.text)
                    for s in db.steps(session, reference)),
        answers=tuple(answers),
        withdrawal_requested_at=withdrawal.requested_at if withdrawal else None,
    )
    return CaseFile(reference, dict(submission.payload), standing, files)


def follow(step: ApplicationStep, session) -> None:
    """A step of the registry's review: one more step in the projection, with its text (the
    question asked, or the reason given) and its wave, for the steps that carry them."""
    kind = applicant.STEP_EVENTS[step.type]
    text = (step.message if isinstance(step, ApplicationInfoRequested)
            else getattr(step, "reason", None))
    db.add_step(session, step.event_id, step.reference, kind, stored_time(step.occurred_at),
                step.application_id, getattr(step, "wave", None), text)


def answer(database: Database, reference: str, key: str, message: str,
           files: list[CheckedFile], now: datetime | None = None) -> Event:
    """Store the answer to the open information request with its files and its event.

    NothingToAnswer if no request is open (none made, already answered, being withdrawn); a
    second answer racing this one fails on the unique request and gets the same.
    """
    now = now or datetime.now(UTC)
    try:
        with database.transaction() as session:
            case = _opened(session, reference, key)
            request = case.standing.request_to_answer()
            rows = [
                db.AttachmentRow(id=uuid.uuid4().hex, reference=reference, position=position,
                                 filename=f.filename, content_type=f.content_type, size=f.size,
                                 sha256=f.sha256, content=f.content)
                for position, f in enumerate(files)
            ]
            event = new_event("application.info_provided", {
                "reference": reference,
                "message": message,
                "attachments": [attachment_data(row) for row in rows],
            }, occurred_at=now)
            db.add_answer(session, db.AnswerRow(
                reference=reference, request_event_id=request.event_id, message=message,
                answered_at=stored_time(now), event_id=event.event_id), rows)
            record(session, event)
            return event
    except IntegrityError:
        raise applicant.NothingToAnswer("already answered") from None


def request_withdrawal(database: Database, reference: str, key: str, reason: str | None,
                       now: datetime | None = None) -> bool:
    """Record the applicant's withdrawal and its event; False for a replay (nothing new).
    CannotWithdraw once the application is decided."""
    now = now or datetime.now(UTC)
    with database.transaction() as session:
        case = _opened(session, reference, key)
        if case.standing.withdrawal_requested_at is not None:
            return False
        case.standing.check_withdrawable()
        event = new_event("application.withdrawal_requested",
                          {"reference": reference, "reason": reason}, occurred_at=now)
        if not db.claim_withdrawal(session, reference, reason, stored_time(now),
                                   event.event_id):
            return False
        record(session, event)
        return True


def mail_link_again(database: Database, reference: str, email: str, base_url: str,
                    now: datetime | None = None) -> bool:
    """If ``email`` is the application's contact address, a fresh key and the event that mails
    it; the old keys keep working (losing a link is not having it stolen). Returns whether a
    mail was asked for; the page says the same either way."""
    now = now or datetime.now(UTC)
    with database.transaction() as session:
        submission = db.submission(session, reference)
        if submission is None or submission.payload == db.ERASED:
            return False
        if not _same_address(submission.payload.get("contact_email"), email):
            return False
        key = applicant.new_key()
        db.add_page_key(session, reference, applicant.key_digest(key), stored_time(now))
        record(session, new_event("application.link_requested", {
            "reference": reference, "page_url": applicant.page_url(base_url, reference, key),
        }, occurred_at=now))
        return True


def _opened(session, reference: str, key: str) -> CaseFile:
    digests = db.page_key_digests(session, reference)
    if not digests or not applicant.key_matches(key, digests):
        raise PageNotFound(reference)
    submission = db.submission(session, reference)
    if submission is None or submission.payload == db.ERASED:
        raise PageNotFound(reference)
    return _case_file(session, submission)


def _same_address(stored: Any, typed: str) -> bool:
    if not isinstance(stored, str):
        return False
    return stored.strip().casefold() == typed.strip().casefold()


def attachment_data(row: Any) -> dict[str, Any]:
    return {"id": row.id, "filename": row.filename, "content_type": row.content_type,
            "size": row.size, "sha256": row.sha256}


def stored_time(moment: datetime | str) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return naive_utc(moment)
