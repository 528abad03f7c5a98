"""Intake's event handlers: what an arriving event does, one function per event type.

Each takes its typed event (shared.events), built from the validated envelope, and runs in the
inbox's transaction (shared.inbox). Intake follows the registry's review of each application
(the applicant's page shows it), the waves (the form says which one is open), erasures, and
the staff tokens the registry announced.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from services.intake import casefile
from services.intake import db as intake_db
from shared.erasure import Person, scrub_events
from shared.events import (
    APPLICATION_STEPS,
    ApplicationErased,
    ApplicationStep,
    MemberErased,
    StaffTokenIssued,
    WaveClosed,
    WaveOpened,
)
from shared.inbox import Handlers, stored_event

handlers = Handlers()
# Every handler here takes a typed event, which refuses a stored payload that lacks one of its
# facts by name: the payload the inbox stored once validated is taken as kept, not validated
# again (the second validation was a seventh of the registry's CPU per application).
INBOX_OPTIONS = {"read_event": stored_event}


@handlers.handles(*APPLICATION_STEPS)
def follow_step(step: ApplicationStep, session: Session) -> None:
    casefile.follow(step, session)


@handlers.handles(MemberErased)
def forget_erased_member(erased: MemberErased, session: Session) -> None:
    intake_db.forget_references(session, list(erased.references))
    scrub_events(session, Person.of(erased.references))


@handlers.handles(ApplicationErased)
def forget_erased_application(erased: ApplicationErased, session: Session) -> None:
    intake_db.forget_references(session, [erased.reference])
    scrub_events(session, Person.of([erased.reference]))


@handlers.handles(WaveOpened)
def remember_wave_opened(opened: WaveOpened, session: Session) -> None:
    intake_db.wave_opened(
        session, opened.number, opened.name, opened.theme,
        casefile.stored_time(opened.closes_at) if opened.closes_at else None,
        casefile.stored_time(opened.occurred_at), opened.description)


@handlers.handles(WaveClosed)
def remember_wave_closed(closed: WaveClosed, session: Session) -> None:
    intake_db.wave_closed(session, closed.number, casefile.stored_time(closed.occurred_at))


@handlers.handles(StaffTokenIssued)
def remember_token(issued: StaffTokenIssued, session: Session) -> None:
    intake_db.announced_tokens.remember(issued, session)
