"""The registry's event handlers: what an arriving event does, one function per event type.

Each takes its typed event (shared.events), built from the validated envelope, and runs in
the inbox's transaction (shared.inbox) over one RegistryStore; the use case it
calls lives in ``actions``, the rules in ``domain``. Events it emits go to the outbox in the
same transaction.
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
from shared.inbox import Handlers

handlers = Handlers()


@handlers.handles(ApplicationReceived)
def receive_application(received: ApplicationReceived, session: Session) -> None:
    store = RegistryStore.of(session)
    actions.receive_application(store, received)
    store.sync()


@handlers.handles(ApplicationInfoProvided)
def applicant_answered(answer: ApplicationInfoProvided, session: Session) -> None:
    store = RegistryStore.of(session)
    actions.applicant_answered(store, answer, now())
    store.sync()


@handlers.handles(ApplicationWithdrawalRequested)
def applicant_withdrew(request: ApplicationWithdrawalRequested, session: Session) -> None:
    store = RegistryStore.of(session)
    actions.applicant_withdrew(store, request, now())
    store.sync()
