"""The read model: what reports knows of the campaign, built from events only.

The projection is order-tolerant. The events of one application come from two services (intake,
registry) on separate queues, a retried event arrives after its successors, and a rebuild replays
the stream in another order than it first arrived. So every state change is decided by a total
order on the changes themselves, never by arrival: the same set of events gives the same model in
any order, which is what makes a rebuild equal to the incrementally built model.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from shared.clock import parse_instant
from shared.events import (
    ApplicationAccepted,
    ApplicationDeclined,
    ApplicationInfoRequested,
    ApplicationReceived,
    ApplicationStep,
    ApplicationUnderReview,
    ApplicationWaitlisted,
    ApplicationWithdrawn,
    MemberJoined,
    MemberListingChanged,
    MemberWithdrawn,
    TypedEvent,
    WaveClosed,
    WaveOpened,
)

PENDING = ("received", "waitlisted", "under_review", "info_requested")
STATUSES = (*PENDING, "accepted", "declined", "withdrawn")
OUTCOMES = ("accepted", "declined")

# Breaks ties between two changes stamped with the same instant, so that arrival never decides.
_STEP = {status: rank for rank, status in enumerate(STATUSES)}


@dataclass
class ApplicationView:
    reference: str
    application_id: int | None = None
    received_at: datetime | None = None
    government_name: str | None = None
    country: str | None = None
    jurisdiction_type: str | None = None
    population: int | None = None
    themes: tuple[str, ...] = ()
    language: str | None = None
    status: str | None = None
    status_at: datetime | None = None
    wave: int | None = None
    member_id: int | None = None
    erased: bool = False

    @property
    def pending(self) -> bool:
        return self.status in PENDING

    @property
    def since(self) -> datetime | None:
        """When the application entered the campaign's hands: its submission."""
        return self.received_at or self.status_at

    def age(self, now: datetime) -> timedelta:
        since = self.since
        return now - since if since is not None else timedelta(0)

    def move_to(self, status: str, at: datetime) -> None:
        current = self.status
        if current is None or _change_key(status, at) > _change_key(current, self.status_at):
            self.status, self.status_at = status, at


def _change_key(status: str, at: datetime | None) -> tuple[int, datetime, int]:
    # Intake stamps "received" with its own clock; any step the registry took comes after it,
    # whatever the two clocks say.
    return (0 if status == "received" else 1, at or _EPOCH, _STEP[status])


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class MemberView:
    member_id: int
    wave: int | None = None
    government_name: str | None = None
    country: str | None = None
    region: str | None = None
    jurisdiction_type: str | None = None
    population: int | None = None
    themes: tuple[str, ...] = ()
    reference: str | None = None
    joined_at: datetime | None = None
    left_at: datetime | None = None
    left_reason: str | None = None
    erased: bool = False
    website: str | None = None
    # Consent to the public directory, and when it was last given or withdrawn: the latest
    # change wins, whatever order the events arrive in.
    listing_consent: bool = False
    listing_at: datetime | None = None

    @property
    def listed(self) -> bool:
        """In the public directory: it said yes, and is a member still (neither left nor
        erased)."""
        return (self.listing_consent and not self.erased and self.left_at is None
                and self.joined_at is not None and bool(self.government_name))

    def change_listing(self, consent: bool, at: datetime) -> None:
        if self.listing_at is None or at >= self.listing_at:
            self.listing_consent, self.listing_at = consent, at

    def active_at(self, at: datetime) -> bool:
        """A member just before ``at``: what joins exactly at a period's end counts in the next."""
        return (
            self.joined_at is not None
            and self.joined_at < at
            and (self.left_at is None or self.left_at >= at)
        )

    def leave(self, at: datetime, reason: str) -> None:
        if self.left_at is None or (at, reason) < (self.left_at, self.left_reason or ""):
            self.left_at, self.left_reason = at, reason


@dataclass(frozen=True)
class Decision:
    event_id: str
    reference: str
    outcome: str
    decided_at: datetime
    wave: int | None = None


@dataclass
class WaveView:
    number: int
    name: dict[str, str] = field(default_factory=dict)
    theme: dict[str, str] = field(default_factory=dict)
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    opened_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None and (
            self.closed_at is None or self.closed_at < self.opened_at
        )


class ReadModelStore(Protocol):
    """Where the read model lives: a dict in tests and benchmarks, tables in the service."""

    def application(self, reference: str) -> ApplicationView | None: ...

    def save_application(self, view: ApplicationView) -> None: ...

    def member(self, member_id: int) -> MemberView | None: ...

    def save_member(self, view: MemberView) -> None: ...

    def record_decision(self, decision: Decision) -> None:
        """Keep a decision once, whatever the number of times it is recorded."""

    def wave(self, number: int) -> WaveView | None: ...

    def save_wave(self, view: WaveView) -> None: ...

    def applications(self) -> Iterable[ApplicationView]: ...

    def members(self) -> Iterable[MemberView]: ...

    def decisions(self) -> Iterable[Decision]: ...

    def waves(self) -> Iterable[WaveView]: ...


class InMemoryStore:
    def __init__(self) -> None:
        self._applications: dict[str, ApplicationView] = {}
        self._members: dict[int, MemberView] = {}
        self._decisions: dict[str, Decision] = {}
        self._waves: dict[int, WaveView] = {}

    @classmethod
    def copy_of(cls, store: ReadModelStore) -> InMemoryStore:
        """A snapshot of another store, to compute on without holding its transaction open."""
        copy = cls()
        copy._applications = {view.reference: view for view in store.applications()}
        copy._members = {view.member_id: view for view in store.members()}
        for decision in store.decisions():
            copy._decisions.setdefault(decision.event_id, decision)
        copy._waves = {view.number: view for view in store.waves()}
        return copy

    def application(self, reference: str) -> ApplicationView | None:
        return self._applications.get(reference)

    def save_application(self, view: ApplicationView) -> None:
        self._applications[view.reference] = view

    def member(self, member_id: int) -> MemberView | None:
        return self._members.get(member_id)

    def save_member(self, view: MemberView) -> None:
        self._members[view.member_id] = view

    def record_decision(self, decision: Decision) -> None:
        self._decisions.setdefault(decision.event_id, decision)

    def wave(self, number: int) -> WaveView | None:
        return self._waves.get(number)

    def save_wave(self, view: WaveView) -> None:
        self._waves[view.number] = view

    def applications(self) -> Iterable[ApplicationView]:
        return self._applications.values()

    def members(self) -> Iterable[MemberView]:
        return self._members.values()

    def decisions(self) -> Iterable[Decision]:
        return self._decisions.values()

    def waves(self) -> Iterable[WaveView]:
        return self._waves.values()


# --- the projection: one function per event type (reports' handlers call them) ---------------
# Each takes its typed event; the instant it applies at is the event's ``occurred_at``.


def _application(store: ReadModelStore, reference: str) -> ApplicationView:
    return store.application(reference) or ApplicationView(reference=reference)


def _member(store: ReadModelStore, member_id: int) -> MemberView:
    return store.member(member_id) or MemberView(member_id=member_id)


def _at(event: TypedEvent) -> datetime | None:
    return parse_instant(event.occurred_at)


def application_received(received: ApplicationReceived, store: ReadModelStore) -> None:
    view = _application(store, received.reference)
    view.received_at = parse_instant(received.submitted_at) or _at(received)
    if not view.erased:
        view.government_name = received.government_name
    view.country = received.country.upper()
    view.jurisdiction_type = received.jurisdiction_type
    view.population = received.population
    view.themes = tuple(sorted(set(received.themes)))
    view.language = received.language
    view.move_to("received", view.received_at)
    store.save_application(view)


# The status each step of the registry's review moves an application to.
STEP_STATUS: dict[type[ApplicationStep], str] = {
    ApplicationWaitlisted: "waitlisted",
    ApplicationUnderReview: "under_review",
    ApplicationInfoRequested: "info_requested",
    ApplicationAccepted: "accepted",
    ApplicationDeclined: "declined",
    ApplicationWithdrawn: "withdrawn",
}


def application_step(step: ApplicationStep, store: ReadModelStore) -> None:
    status, at = STEP_STATUS[type(step)], _at(step)
    wave = getattr(step, "wave", None)
    view = _application(store, step.reference)
    view.application_id = step.application_id
    if wave is not None:
        view.wave = wave
    if isinstance(step, ApplicationAccepted):
        view.member_id = step.member_id
    view.move_to(status, at)
    store.save_application(view)
    if status in OUTCOMES:
        store.record_decision(
            Decision(
                event_id=step.event_id,
                reference=view.reference,
                outcome=status,
                decided_at=at,
                wave=wave,
            )
        )


def member_joined(joined: MemberJoined, store: ReadModelStore) -> None:
    view = _member(store, joined.member_id)
    view.wave = joined.wave
    if not view.erased:
        view.government_name = joined.government_name
    view.country = joined.country.upper()
    view.region = joined.region
    view.jurisdiction_type = joined.jurisdiction_type
    view.population = joined.population
    view.themes = tuple(sorted(set(joined.themes or ())))
    view.reference = joined.reference
    view.joined_at = parse_instant(joined.joined_at) or _at(joined)
    if not view.erased:
        view.website = joined.website
    # The form's answer, unless staff changed it since (a change always comes after joining).
    view.change_listing(bool(joined.listing_consent), view.joined_at)
    store.save_member(view)


def listing_changed(change: MemberListingChanged, store: ReadModelStore) -> None:
    view = _member(store, change.member_id)
    view.change_listing(bool(change.listing_consent), _at(change))
    store.save_member(view)


def member_withdrawn(withdrawal: MemberWithdrawn, store: ReadModelStore) -> None:
    view = _member(store, withdrawal.member_id)
    view.leave(_at(withdrawal), "withdrawn")
    store.save_member(view)


def wave_opened(opened: WaveOpened, store: ReadModelStore) -> None:
    at = _at(opened)
    view = store.wave(opened.number) or WaveView(number=opened.number)
    if view.opened_at is None or at >= view.opened_at:
        view.name, view.theme = dict(opened.name), dict(opened.theme)
        view.opens_at = parse_instant(opened.opens_at)
        view.closes_at = parse_instant(opened.closes_at)
        view.opened_at = at
    store.save_wave(view)


def wave_closed(closed: WaveClosed, store: ReadModelStore) -> None:
    view = store.wave(closed.number) or WaveView(number=closed.number)
    view.closed_at = max(filter(None, (view.closed_at, _at(closed))))
    store.save_wave(view)
