"""The console's event handlers: what an arriving event does, one function per event type.

Each takes its typed event (shared.events), built from the validated envelope, and runs in the
inbox's transaction (shared.inbox).
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from services.console.db import announced_tokens
from shared.events import StaffTokenIssued
from shared.inbox import Handlers

handlers = Handlers()


@handlers.handles(StaffTokenIssued)
def remember_token(issued: StaffTokenIssued, session: Session) -> None:
    """The registry generated the deployment's staff token: ``hrc staff`` may use it here."""
    announced_tokens.remember(issued, session)
