"""Erasure in the event tables: the outbox and inbox payloads that name a person lose it.

Every service keeps the events it published (outbox) and received (inbox); those payloads hold
contact names, addresses and free text long after the tables the service reads from forgot them.
``scrub_events(session, person)`` rewrites, in the caller's transaction, every sent outbox row and
every processed inbox row that concerns ``person`` (by reference, member id or address): the
personal values become ``ERASED``, the rest of the event stays, so that what the event did (a
member joined wave 2 in Europe) can still be counted and replayed (reports rebuild from it).

Outbox rows not yet published are left (the relay would publish an event that no longer passes
its schema). Inbox rows are scrubbed whether processed or still pending: the inbox processes
events in batches, so those before the erasure in its own batch are not marked done yet, and
an event about the person that arrives late should not bring their data back (its handler
reads ``ERASED`` as "no value"). Parked rows are left for staff to replay as they are.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from shared.inbox import PARKED, InboxRow
from shared.outbox import OutboxRow

ERASED = "[erased]"
# What names or reaches a person, or is free text that may: the form's contact and authority,
# the commitment and frameworks, staff's messages and reasons, mail recipients, attachments.
PERSONAL_KEYS = frozenset({
    "contact_name", "contact_position", "contact_email", "contact_phone",
    "authority_name", "commitment", "frameworks", "message", "reason",
    "email", "recipient", "previous_contact_email", "filename",
})


@dataclass(frozen=True)
class Person:
    """Whom an erasure is about, as events name them."""

    references: frozenset[str] = field(default_factory=frozenset)
    member_ids: frozenset[int] = field(default_factory=frozenset)
    emails: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, references: Iterable[str] = (), member_ids: Iterable[int] = (),
           emails: Iterable[str | None] = ()) -> Person:
        return cls(frozenset(r for r in references if r), frozenset(member_ids),
                   frozenset(e.lower() for e in emails if e and e != ERASED))

    def named_in(self, data: Mapping[str, Any]) -> bool:
        if data.get("reference") in self.references or data.get("member_id") in self.member_ids:
            return True
        return any(isinstance(data.get(k), str) and data[k].lower() in self.emails
                   for k in ("contact_email", "recipient", "email", "previous_contact_email"))

    def _needles(self) -> list[str]:
        return [*self.references, *self.emails, *(f'"member_id": {i}' for i in self.member_ids)]


def scrubbed(data: Any) -> Any:
    """``data`` with every personal value replaced by ERASED, at any depth."""
    if isinstance(data, Mapping):
        return {k: (ERASED if k in PERSONAL_KEYS and v is not None else scrubbed(v))
                for k, v in data.items()}
    if isinstance(data, list):
        return [scrubbed(item) for item in data]
    return data


def scrub_events(session: Session, person: Person) -> int:
    """Scrub the sent outbox rows and unparked inbox rows about ``person``; how many changed."""
    needles = person._needles()
    if not needles:
        return 0
    changed = 0
    for model, settled in ((OutboxRow, OutboxRow.sent_at.is_not(None)),
                           (InboxRow, InboxRow.status != PARKED)):
        text = func.lower(cast(model.payload, String))
        # The text match only narrows the scan; each candidate is checked on its data.
        candidates = session.scalars(select(model).where(
            settled, or_(*(text.contains(n.lower(), autoescape=True) for n in needles))))
        for row in candidates:
            payload = row.payload or {}
            data = payload.get("data")
            if not isinstance(data, Mapping) or not person.named_in(data):
                continue
            clean = scrubbed(data)
            if clean != data:
                row.payload = {**payload, "data": clean}
                changed += 1
    return changed
