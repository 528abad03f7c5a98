"""The registry's event handlers: what an arriving event does, one function per event type.

Each runs in the inbox's transaction (shared.inbox) over one RegistryStore; the use case it
calls lives in ``actions``, the rules in ``domain``. Events it emits go to the outbox in the
same transaction.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from services.registry import actions
from services.registry.db import RegistryStore
from shared.clock import now
from shared.events import Event
from shared.inbox import Handlers

handlers = Handlers()


@handlers.handles("application.received")
def receive_application(event: Event, session: Session) -> None:
    store = RegistryStore.of(session)
    actions.receive_application(store, event.data)
    store.sync()


@handlers.handles("application.info_provided")
def applicant_answered(event: Event, session: Session) -> None:
    store = RegistryStore.of(session)
    actions.applicant_answered(store, event.data, now())
    store.sync()


@handlers.handles("application.withdrawal_requested")
def applicant_withdrew(event: Event, session: Session) -> None:
    store = RegistryStore.of(session)
    actions.applicant_withdrew(store, event.data, now())
    store.sync()
