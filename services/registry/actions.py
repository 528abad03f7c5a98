"""What the registry does, one transaction's worth at a time: an application arrives, staff
decide, waves open and close, members leave or are erased.

Each function takes the store of the current transaction, loads domain objects, lets the domain
decide, and writes the resulting events to the outbox and the staff action to the audit log, all
in that same transaction. Nothing here knows about HTTP or nameko.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from services.registry.access import AuditEntry
from services.registry.db import RegistryStore
from services.registry.domain import (
    Application,
    ApplicationStatus,
    DomainError,
    Event,
    Member,
    Wave,
    WaveConflict,
)
from services.registry.duplicates import possible_duplicates
from services.registry.member_csv import MemberRow, RefusedRow
from shared.erasure import Person
from shared.events import (
    ApplicationInfoProvided,
    ApplicationReceived,
    ApplicationWithdrawalRequested,
)


def receive_application(store: RegistryStore,
                        received: ApplicationReceived) -> Application | None:
    """application.received: store it, flag possible duplicates, review or waitlist it.

    The inbox already drops a redelivered event; the reference's unique index (the insert
    does nothing on it) also makes a re-sent application with a new event_id a no-op.
    """
    application = Application.receive(received.as_data())
    duplicates = possible_duplicates(
        application.government_name,
        application.country,
        store.duplicate_candidates(application.country, excluding=application.reference),
    )
    application.sort(store.open_wave(share_lock=True), duplicates)
    if store.add_received(application) is None:
        return None
    store.emit(application.filed())
    return application


# --- what the applicant does from their page (events from intake) -----------------------------

APPLICANT = "applicant"


class ApplicationNotYetKnown(DomainError):
    """An event about an application this registry has not received yet: retried."""


def applicant_answered(store: RegistryStore, answer: ApplicationInfoProvided,
                       now: datetime) -> None:
    """application.info_provided: the answer joins the application's audit trail and, if the
    information was still awaited, the application goes back under review."""
    application = _by_reference(store, answer.reference)
    before = application.state()
    if application.status is ApplicationStatus.INFO_REQUESTED:
        store.emit(application.resume_review())
    store.audit(AuditEntry(APPLICANT, "info_provided", "application", str(application.id), now,
                           before, {**application.state(), "answer": answer.message,
                                    "attachments": list(answer.attachments)}))


def applicant_withdrew(store: RegistryStore, request: ApplicationWithdrawalRequested,
                       now: datetime) -> None:
    """application.withdrawal_requested: withdrawn by the usual rule; an application already
    closed (withdrawn, decided) stays as it is, so a replay changes nothing."""
    application = _by_reference(store, request.reference)
    if not application.is_open:
        return
    before = application.state()
    store.emit(application.withdraw(request.reason))
    _audit(store, APPLICANT, "withdraw", application, before, now)


def _by_reference(store: RegistryStore, reference: str) -> Application:
    found = store.application_by_reference(reference)
    if found is None:
        raise ApplicationNotYetKnown(f"application {reference} is not known yet")
    return store.application(found.id, for_update=True)


# --- staff decisions on applications ------------------------------------------------------------

def accept(
    store: RegistryStore, who: str, application_id: int, wave_number: int | None, now: datetime
) -> tuple[Application, Member]:
    application = store.application(application_id, for_update=True)
    application.check_allowed("accept")
    before = application.state()
    member = store.add_member(
        Member.admit(application, _acceptance_wave(store, application, wave_number), now)
    )
    store.emit(application.accept(member))
    _audit(store, who, "accept", application, before, now)
    return application, member


def decline(
    store: RegistryStore, who: str, application_id: int, reason: str, now: datetime
) -> Application:
    return _decide(store, who, application_id, "decline", lambda a: a.decline(reason), now)


def request_info(
    store: RegistryStore, who: str, application_id: int, message: str, now: datetime
) -> Application:
    return _decide(
        store, who, application_id, "request_info", lambda a: a.request_info(message), now
    )


def resume_review(
    store: RegistryStore, who: str, application_id: int, now: datetime
) -> Application:
    return _decide(store, who, application_id, "resume_review", Application.resume_review, now)


def withdraw_application(
    store: RegistryStore, who: str, application_id: int, reason: str | None, now: datetime
) -> Application:
    return _decide(store, who, application_id, "withdraw", lambda a: a.withdraw(reason), now)


def _decide(
    store: RegistryStore,
    who: str,
    application_id: int,
    action: str,
    step: Callable[[Application], list[Event]],
    now: datetime,
) -> Application:
    application = store.application(application_id, for_update=True)
    before = application.state()
    store.emit(step(application))
    _audit(store, who, action, application, before, now)
    return application


def _acceptance_wave(
    store: RegistryStore, application: Application, wave_number: int | None
) -> Wave:
    if wave_number is not None:
        return store.wave(wave_number)
    wave = store.open_wave()
    if wave is None and application.wave is not None:
        wave = store.wave(application.wave)
    if wave is None:
        raise WaveConflict(
            f"cannot accept application {application.reference}: no wave is open; open one first"
        )
    return wave


# --- waves --------------------------------------------------------------------------------------

def create_wave(store: RegistryStore, who: str, fields: Mapping[str, Any], now: datetime) -> Wave:
    wave = store.add_wave(Wave.create(existing=store.waves(), **fields))
    store.audit(AuditEntry(who, "create", "wave", str(wave.number), now, None, wave.state()))
    return wave


def open_wave(store: RegistryStore, who: str, number: int, now: datetime) -> tuple[Wave, int]:
    """Open a wave; returns it and how many waitlisted applications went under review in it."""
    wave = store.wave(number, for_update=True)
    before = wave.state()
    waitlist = store.waitlist()
    states = {id(a): a.state() for a in waitlist}
    store.emit(wave.open(store.waves(), waitlist, store.active_members()))
    store.audit(AuditEntry(who, "open", "wave", str(number), now, before, wave.state()))
    for application in waitlist:
        _audit(store, who, f"review_in_wave_{number}", application, states[id(application)], now)
    return wave, len(waitlist)


def close_wave(store: RegistryStore, who: str, number: int, now: datetime) -> Wave:
    wave = store.wave(number, for_update=True)
    before = wave.state()
    store.emit(wave.close())
    store.audit(AuditEntry(who, "close", "wave", str(number), now, before, wave.state()))
    return wave


def announce_waves(store: RegistryStore, who: str, now: datetime) -> list[tuple[Wave, str]]:
    """Tell every service again what the waves are now: ``wave.opened`` for the open wave,
    ``wave.closed`` for each closed one, with fresh event ids (the inbox would drop the old
    ones). For a service that missed them: it subscribed after the wave opened, or its
    database was rebuilt. Every consumer takes a repeat as a no-op when it knew already.
    Returns each wave told and the event that told it."""
    announced = []
    for wave in store.waves():
        trail = store.audit_trail("wave", str(wave.number))
        announcement = wave.announcement(_last(trail, "open"), _last(trail, "close"))
        if announcement is None:
            continue
        store.emit([(announcement.type, announcement.data)],
                   occurred_at=announcement.occurred_at)
        store.audit(AuditEntry(who, "announce", "wave", str(wave.number), now, None,
                               {**wave.state(), "event": announcement.type}))
        announced.append((wave, announcement.type))
    return announced


def _last(trail: list[AuditEntry], action: str) -> datetime | None:
    return next((entry.at for entry in reversed(trail) if entry.action == action), None)


# --- members ------------------------------------------------------------------------------------

def withdraw_member(
    store: RegistryStore, who: str, member_id: int, reason: str | None, now: datetime
) -> Member:
    member = store.member(member_id, for_update=True)
    before = member.state()
    store.emit(member.withdraw(reason, now))
    store.audit(AuditEntry(who, "withdraw", "member", str(member_id), now, before, member.state()))
    return member


def change_listing(
    store: RegistryStore, who: str, member_id: int, listing_consent: bool, now: datetime
) -> Member:
    """Staff record that the member gives or withdraws consent to the public directory."""
    member = store.member(member_id, for_update=True)
    before = {"listing_consent": member.listing_consent}
    events = member.change_listing(listing_consent)
    store.emit(events)
    if events:
        store.audit(AuditEntry(who, "change_listing", "member", str(member_id), now, before,
                               {"listing_consent": member.listing_consent}))
    return member


def erase_member(store: RegistryStore, who: str, member_id: int, now: datetime) -> Member:
    """Erase the member's contact person and its applications' personal facts, here and in the
    registry's event tables; the member stays. The audit log keeps that it happened."""
    member = store.member(member_id, for_update=True)
    before = member.state()
    applications = store.applications_filed_by(member)
    states = {id(a): a.state() for a in applications}
    person = Person.of(references=[a.reference for a in applications] + [member.reference],
                       member_ids=[member_id],
                       emails=[member.contact_email, *(a.contact_email for a in applications)])
    store.emit(member.erase(applications, now))
    store.scrub_events(person)
    store.audit(AuditEntry(who, "erase", "member", str(member_id), now, before, member.state()))
    for application in applications:
        _audit(store, who, "erase", application, states[id(application)], now)
    return member


@dataclass
class ImportOutcome:
    """What an import did (or, refused or tried, would do): nothing is half-imported."""

    imported: list[Member] = field(default_factory=list)
    already_members: list[MemberRow] = field(default_factory=list)
    refused: list[RefusedRow] = field(default_factory=list)
    dry_run: bool = False

    @property
    def done(self) -> bool:
        return not self.refused and not self.dry_run


def import_members(
    store: RegistryStore,
    who: str,
    rows: list[MemberRow],
    refused: list[RefusedRow],
    now: datetime,
    *,
    dry_run: bool = False,
) -> ImportOutcome:
    """Bring in the campaign's members from before the platform, each announced by member.joined.

    All or nothing: with one refused row nothing is stored, so that a corrected file can be
    imported again as it is. A government that is a member already (same ``government_key``,
    imported or accepted) is left as it is: importing a file twice changes nothing.
    """
    outcome = ImportOutcome(refused=list(refused), dry_run=dry_run)
    members = store.member_keys()
    waves = {wave.number: wave for wave in store.waves()}
    new_rows = []
    for row in rows:
        (outcome.already_members if row.key in members else new_rows).append(row)
    if not outcome.done:
        outcome.imported = [_imported_member(row, waves[row.wave]) for row in new_rows]
        return outcome
    for row in new_rows:
        outcome.imported.append(_bring_in(store, who, row, waves[row.wave], now))
    return outcome


def _imported_member(row: MemberRow, wave: Wave) -> Member:
    """The member a row would become (a dry run shows it without storing it)."""
    application = Application.of_imported_member(
        _import_reference(row), asdict(row), wave, _joined_at(row))
    application.id = 0
    return Member.bring_in(application, wave, _joined_at(row))


def _bring_in(store: RegistryStore, who: str, row: MemberRow, wave: Wave,
              now: datetime) -> Member:
    joined_at = _joined_at(row)
    application = store.add_application(Application.of_imported_member(
        _import_reference(row), asdict(row), wave, joined_at))
    member = store.add_member(Member.bring_in(application, wave, joined_at))
    application.member_id = member.id
    store.emit([("member.joined", member.joined_event_data())])
    store.audit(AuditEntry(who, "import", "member", str(member.id), now, None,
                           {**member.state(), "line": row.line}))
    return member


def _import_reference(row: MemberRow) -> str:
    # Derived from the government, so that two imports racing on one row collide on it.
    return "IMP-" + hashlib.sha256(row.key.encode("utf-8")).hexdigest()[:10].upper()


def _joined_at(row: MemberRow) -> datetime:
    return datetime.combine(row.joined_on, time(12, 0), tzinfo=UTC)


def replace_contact(store: RegistryStore, who: str, member_id: int, fields: Mapping[str, Any],
                    now: datetime) -> Member:
    member = store.member(member_id, for_update=True)
    store.emit(member.replace_contact(fields["contact_name"], fields["contact_email"],
                                      fields.get("language")))
    # The audit says that the contact changed, not who it is (that is personal data).
    store.audit(AuditEntry(who, "replace_contact", "member", str(member_id), now, None,
                           {"language": member.language}))
    return member


def erase_application(store: RegistryStore, who: str, application_id: int,
                      now: datetime) -> Application:
    """Erase an applicant who never became a member (declined, withdrawn): every service
    forgets the person (application.erased); the registry keeps that the application was."""
    application = store.application(application_id, for_update=True)
    before = application.state()
    person = Person.of(references=[application.reference], emails=[application.contact_email])
    store.emit(application.erase_applicant())
    store.scrub_events(person)
    _audit(store, who, "erase", application, before, now)
    return application


def export_member(store: RegistryStore, member_id: int) -> dict[str, Any]:
    """Everything the registry holds about a member: the member, its applications, the audit."""
    member = store.member(member_id)
    applications = store.applications_filed_by(member)
    return {
        "member": member,
        "applications": applications,
        "audit": store.audit_trail("member", str(member_id))
        + [e for a in applications for e in store.audit_trail("application", str(a.id))],
    }


def export_application(store: RegistryStore, application_id: int) -> dict[str, Any]:
    """Everything held about an applicant that is not (or not yet) a member."""
    return {
        "application": store.application(application_id),
        "audit": store.audit_trail("application", str(application_id)),
    }


def _audit(
    store: RegistryStore,
    who: str,
    action: str,
    application: Application,
    before: dict[str, Any],
    now: datetime,
) -> None:
    store.audit(
        AuditEntry(who, action, "application", str(application.id), now, before,
                   application.state())
    )
