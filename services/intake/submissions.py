"""Receiving a valid application exactly once: the submission and its application.received
event are committed together (the outbox), and a repeat gets the first reference back.

A repeat is the same ``Idempotency-Key``, or the same payload within ten minutes (a double
click, a browser retry). Both are recognised through unique keys in the database, so two
replicas receiving the same application at the same moment still make one submission.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from services.intake import applicant, db, domain
from services.intake.domain import DomainError
from services.intake.guards import Admission
from shared.clock import naive_utc, utcnow
from shared.db import Database
from shared.events import checked_event

# How long an Idempotency-Key keeps its submission: longer than any client's retries.
KEY_LIFETIME = timedelta(hours=24)
DEFAULT_PAGE_BASE = "http://localhost:8000"
_REFERENCE_DRAWS = 8


class KeyReused(DomainError):
    """An Idempotency-Key sent again with a different application."""


class _Raced(Exception):
    """Lost a race for a unique key: roll back and start again."""


@dataclass(frozen=True)
class Receipt:
    reference: str
    # False when this was a repeat: nothing was stored and no event was published.
    new: bool


def receive(
    database: Database,
    application: dict[str, Any],
    *,
    idempotency_key: str | None = None,
    admission: Admission | None = None,
    now: datetime | None = None,
    page_base: str = DEFAULT_PAGE_BASE,
) -> Receipt:
    """Store a checked application (schemas.ApplicationForm's output) and its event.

    ``admission`` (the rate limit) is counted in the same transaction: one commit per
    submission, not two; over the limit it raises TooManyRequests and nothing is stored. A new
    application gets the key of its page (``page_base``/applications/<reference>/<key>): its
    digest is stored, the key itself travels only in the event, to the acknowledgement mail.
    """
    now = now or datetime.now(UTC)
    stored_at = naive_utc(now)
    fingerprint = domain.fingerprint(application)
    for _ in range(_REFERENCE_DRAWS):
        try:
            if idempotency_key is None and database.is_postgresql:
                # One statement, committed by itself: no transaction needed around it.
                stored = db.store_alone(
                    database, _new_submission(application, fingerprint, now, stored_at,
                                              page_base),
                    stored_at - domain.IDEMPOTENCY_WINDOW, admission)
                return Receipt(stored.reference, new=stored.new)
            with database.transaction() as session:
                return _store(session, application, fingerprint, idempotency_key, now,
                              stored_at, page_base, admission)
        except (db.ReferenceTaken, _Raced):
            continue
    raise RuntimeError(f"no free reference after {_REFERENCE_DRAWS} draws")


def _store(session: Session, application, fingerprint, key, now, stored_at, page_base: str,
           admission: Admission | None) -> Receipt:
    if key is not None:
        bound = db.key_binding(session, key)
        if bound is not None:
            if admission is not None:
                admission.check(db.count_request(session, *admission.counter))
            return _repeat_of(bound, fingerprint, key)
    stored = db.store_submission(
        session, _new_submission(application, fingerprint, now, stored_at, page_base),
        stored_at - domain.IDEMPOTENCY_WINDOW, admission)
    if key is not None:
        bound = db.claim_key(session, key, stored.reference, fingerprint, stored_at)
        if bound != (stored.reference, fingerprint):
            # Another request bound this key in the meantime: start again, and find it.
            raise _Raced(key)
    return Receipt(stored.reference, new=stored.new)


def _new_submission(application, fingerprint: str, now: datetime, stored_at: datetime,
                    page_base: str) -> db.NewSubmission:
    reference = domain.new_reference(now.year)
    page_key = applicant.new_key()
    payload = {**application, "reference": reference, "submitted_at": now.isoformat()}
    # The form's rules are stricter than the catalogue's: checked once, at the edge.
    event = checked_event(
        "application.received",
        {**payload, "page_url": applicant.page_url(page_base, reference, page_key)},
        occurred_at=now,
    )
    return db.NewSubmission(reference, fingerprint, stored_at, payload,
                            applicant.key_digest(page_key), event)


def _repeat_of(bound: tuple[str, str], fingerprint: str, key: str) -> Receipt:
    reference, bound_fingerprint = bound
    if bound_fingerprint != fingerprint:
        raise KeyReused(key)
    return Receipt(reference, new=False)


def forget_expired(database: Database, now: datetime | None = None) -> None:
    stored_now = naive_utc(now) if now is not None else utcnow()
    with database.transaction() as session:
        db.forget_expired(session, stored_now, domain.IDEMPOTENCY_WINDOW, KEY_LIFETIME)
        db.scrub_page_links(session)
