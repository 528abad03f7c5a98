"""The registry's event handlers: what an arriving event does, one function per event type.

Each takes its typed event (shared.events), built from the validated envelope, and runs in
the inbox's transaction (shared.inbox) over one RegistryStore; the use case it
calls lives in ``actions``, the rules in ``domain``. What it changes, and the events it emits
to the outbox, are written in that same transaction when the inbox commits it.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from services.registry import actions
from services.registry.db import RegistryStore
from shared.clock import now
from shared.events import (
    ApplicationInfoProvided,
    ApplicationReceived,
    ApplicationWithdrawalRequested,
)
from shared.inbox import Handlers, stored_event

handlers = Handlers()
# Every handler here takes a typed event, which refuses a stored payload that lacks one of its
# facts by name: the payload the inbox stored once validated is taken as kept, not validated
# again (the second validation was a seventh of the registry's CPU per application).
INBOX_OPTIONS = {"read_event": stored_event}


@handlers.handles(ApplicationReceived)
def receive_application(received: ApplicationReceived, session: Session) -> None:
    actions.receive_application(RegistryStore.of(session), received)


@handlers.handles(ApplicationInfoProvided)
def applicant_answered(answer: ApplicationInfoProvided, session: Session) -> None:
    actions.applicant_answered(RegistryStore.of(session), answer, now())


@handlers.handles(ApplicationWithdrawalRequested)
def applicant_withdrew(request: ApplicationWithdrawalRequested, session: Session) -> None:
    actions.applicant_withdrew(RegistryStore.of(session), request, now())
