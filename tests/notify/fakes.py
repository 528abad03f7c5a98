"""An in-memory Directory: notify's projection as a test can read it; ``handle`` runs an event
through notify's handler over it."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from services.notify.domain import ERASED, Contact, Notification, Secretariat, Wave
from services.notify.handlers import Notifying, handlers
from shared.events import Event


@dataclass
class _Member:
    contact: Contact | None
    reference: str | None
    status: str = "active"


class FakeDirectory:
    def __init__(self) -> None:
        self.applicants: dict[str, Contact] = {}
        self.facts: dict[str, Mapping[str, Any]] = {}
        self.statuses: dict[str, str] = {}
        self.members: dict[int, _Member] = {}
        self.waves: dict[int, Wave] = {}
        self.unsubscribed_addresses: set[str] = set()

    def add_applicant(self, reference: str, contact: Contact, facts: Mapping[str, Any]) -> None:
        self.applicants[reference] = contact
        self.facts[reference] = dict(facts)
        self.statuses.setdefault(reference, "received")

    def applicant(self, reference: str) -> Contact | None:
        return self.applicants.get(reference)

    def applicant_facts(self, reference: str) -> Mapping[str, Any]:
        return self.facts.get(reference, {})

    def note_facts(self, reference: str, facts: Mapping[str, Any]) -> None:
        if reference in self.facts:
            self.facts[reference] = {**self.facts[reference], **facts}

    def application_status(self, reference: str) -> str | None:
        return self.statuses.get(reference)

    def set_application_status(self, reference: str, status: str) -> None:
        self.statuses[reference] = status

    def add_member(self, member_id: int, contact: Contact | None, reference: str | None) -> None:
        known = self.members.get(member_id)
        if known is None:
            self.members[member_id] = _Member(contact, reference)
            return
        known.contact = contact or known.contact
        known.reference = reference or known.reference

    def member(self, member_id: int) -> Contact | None:
        known = self.members.get(member_id)
        if known is None or known.status == ERASED:
            return None
        if known.contact is not None:
            return known.contact
        return self.applicants.get(known.reference or "")

    def member_status(self, member_id: int) -> str | None:
        known = self.members.get(member_id)
        return known.status if known else None

    def member_reference(self, member_id: int) -> str | None:
        known = self.members.get(member_id)
        return known.reference if known else None

    def set_member_status(self, member_id: int, status: str) -> None:
        self.members.setdefault(member_id, _Member(None, None)).status = status

    def active_members(self) -> Iterable[Contact]:
        for member_id, known in sorted(self.members.items()):
            contact = self.member(member_id)
            if known.status == "active" and contact is not None:
                yield contact

    def waitlisted_applicants(self) -> Iterable[Contact]:
        for reference, status in sorted(self.statuses.items()):
            if status == "waitlisted" and reference in self.applicants:
                yield self.applicants[reference]

    def add_wave(self, wave: Wave) -> None:
        known = self.waves.get(wave.number)
        self.waves[wave.number] = replace(
            wave, opened_at=(known.opened_at if known else None) or wave.opened_at,
            closed_at=known.closed_at if known else None)

    def close_wave(self, number: int, closed_at: str) -> None:
        known = self.waves.get(number) or Wave(number, {}, {})
        self.waves[number] = replace(known, closed_at=known.closed_at or closed_at)

    def wave(self, number: int) -> Wave | None:
        return self.waves.get(number)

    def open_wave(self) -> Wave | None:
        open_ = [w for w in self.waves.values() if w.opened_at and not w.closed_at]
        return max(open_, key=lambda w: w.number, default=None)

    def forget_member(self, member_id: int | None, references: Iterable[str]) -> None:
        known = self.members.get(member_id) if member_id is not None else None
        if member_id is not None:
            self.members[member_id] = _Member(None, known.reference if known else None, ERASED)
        for reference in {*references, *([known.reference] if known and known.reference else [])}:
            self.applicants.pop(reference, None)
            self.facts.pop(reference, None)
            self.statuses[reference] = ERASED

    def unsubscribed(self) -> set[str]:
        return self.unsubscribed_addresses


def handle(event: Event, directory: FakeDirectory, desk: Secretariat) -> list[Notification]:
    """The mails notify's handler of ``event`` queues, over ``directory``."""
    notifying = Notifying(directory, desk)
    handlers()[event.type](event, notifying)
    return notifying.queued
