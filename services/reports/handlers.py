"""Reports' event handlers: what an arriving event does, one function per event type.

Each takes its typed event (shared.events), built from the validated envelope. Two registries:

- ``projections``: the read model's, over a ``ReadModelStore`` (the database's in the inbox, a
  model in memory when ``reporting.rebuild`` replays the inbox); the rules are in
  ``domain.readmodel``. A rebuild replays only these.
- ``handlers``: what the inbox does besides, over its session: an erased person's data taken
  out of the stored payloads a rebuild would replay, and the staff tokens the registry announced.

``inbox_handlers`` is both, as the inbox runs them, each in the event's transaction.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from services.reports import db
from services.reports.domain import readmodel
from services.reports.domain.readmodel import ReadModelStore
from shared.erasure import Person, scrub_events
from shared.events import (
    APPLICATION_STEPS,
    ApplicationErased,
    ApplicationReceived,
    ApplicationStep,
    Event,
    MemberErased,
    MemberJoined,
    MemberListingChanged,
    MemberWithdrawn,
    StaffTokenIssued,
    WaveClosed,
    WaveOpened,
)
from shared.inbox import Handler, Handlers, stored_event

projections = Handlers()
handlers = Handlers()


def project(event: Event, store: ReadModelStore) -> None:
    """Apply one event to the read model; the events it does not project change nothing."""
    projection = _projections().get(event.type)
    if projection is not None:
        projection(event, store)


@functools.cache
def _projections() -> dict[str, Handler]:
    return projections()


def inbox_handlers(config: Mapping[str, Any]) -> dict[str, Handler]:
    """Every event reports follows, as the inbox runs it."""
    table: dict[str, Handler] = {
        name: _on_database(projection) for name, projection in projections().items()}
    table.update(handlers())
    return table


def _on_database(projection: Handler) -> Handler:
    def run(event: Event, session: Session) -> None:
        projection(event, db.SqlStore.for_session(session))

    return run


def read_ahead(events: list[Event], session: Session) -> None:
    """The rows a group of events will project onto, read in three statements instead of one
    per event (the inbox's ``prepare``)."""
    db.SqlStore.for_session(session).read_ahead(
        references=(e.data["reference"] for e in events
                    if isinstance(e.data.get("reference"), str)),
        member_ids=(e.data["member_id"] for e in events
                    if isinstance(e.data.get("member_id"), int)),
        wave_numbers=(e.data["number"] for e in events
                      if e.type.startswith("wave.") and isinstance(e.data.get("number"), int)))


# How reports' inbox runs (the service and its benchmark): 2,000 events claimed at once and
# projected 1,000 to a transaction (a projection is a few small writes; each commit waits for
# the disk, and each statement costs the same in Python whatever its rows: at 100 a group
# the claim, the commits and the statements' own cost were most of an event's time; 500 to
# 1,000 still bought 10-25% on PostgreSQL), and the events taken as the inbox validated and
# stored them, as a rebuild does. A group of 1,000 holds the hub for up to about a hundred
# milliseconds between its round trips (its handlers, then its rows written back).
INBOX_OPTIONS: dict[str, Any] = {"group_size": 1000, "batch_size": 2000,
                                 "read_event": stored_event, "prepare": read_ahead}


# --- the read model ------------------------------------------------------------------------


@projections.handles(ApplicationReceived)
def application_received(received: ApplicationReceived, store: ReadModelStore) -> None:
    readmodel.application_received(received, store)


@projections.handles(*APPLICATION_STEPS)
def application_step(step: ApplicationStep, store: ReadModelStore) -> None:
    readmodel.application_step(step, store)


@projections.handles(MemberJoined)
def member_joined(joined: MemberJoined, store: ReadModelStore) -> None:
    readmodel.member_joined(joined, store)


@projections.handles(MemberListingChanged)
def listing_changed(change: MemberListingChanged, store: ReadModelStore) -> None:
    readmodel.listing_changed(change, store)


@projections.handles(MemberWithdrawn)
def member_withdrawn(withdrawal: MemberWithdrawn, store: ReadModelStore) -> None:
    readmodel.member_withdrawn(withdrawal, store)


@projections.handles(WaveOpened)
def wave_opened(opened: WaveOpened, store: ReadModelStore) -> None:
    readmodel.wave_opened(opened, store)


@projections.handles(WaveClosed)
def wave_closed(closed: WaveClosed, store: ReadModelStore) -> None:
    readmodel.wave_closed(closed, store)


# --- besides the read model ------------------------------------------------------------------
# Erasure is about a person, and the read model names none (a government's name is not
# personal data): the member stays, counted in its wave. The inbox copies a rebuild would replay
# lose the person's data (``shared.erasure``).


@handlers.handles(MemberErased)
def forget_member(erased: MemberErased, session: Session) -> None:
    scrub_events(session, Person.of(erased.references, [erased.member_id]))


@handlers.handles(ApplicationErased)
def forget_applicant(erased: ApplicationErased, session: Session) -> None:
    scrub_events(session, Person.of([erased.reference]))


@handlers.handles(StaffTokenIssued)
def remember_token(issued: StaffTokenIssued, session: Session) -> None:
    db.announced_tokens.remember(issued, session)
