"""Notify's event handlers: what an arriving event does, one function per event type.

Each takes its typed event (shared.events), built from the validated envelope, and the
``Notifying`` it works on: notify's projection of people (the ``Directory``), the secretariat,
and the mails it queues. The rules of which mails an event calls for are in ``domain``; the
inbox (``inbox_handlers``) runs each handler in its own transaction, over the database's
directory, and queues its mails in the notification log there. Nothing is sent from here.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from services.notify import db, domain
from services.notify import settings as notify_settings
from services.notify.domain import Directory, Notification, Secretariat
from shared.config import service_settings
from shared.events import (
    ApplicationAccepted,
    ApplicationDeclined,
    ApplicationErased,
    ApplicationInfoProvided,
    ApplicationInfoRequested,
    ApplicationLinkRequested,
    ApplicationReceived,
    ApplicationUnderReview,
    ApplicationWaitlisted,
    ApplicationWithdrawn,
    DigestReady,
    MemberContactChanged,
    MemberErased,
    MemberJoined,
    MemberWithdrawn,
    StaffPasswordResetRequested,
    StaffTokenIssued,
    TypedEvent,
    WaveClosed,
    WaveOpened,
)
from shared.inbox import Handler, Handlers, Waiting

handlers = Handlers()

# A rule of ``domain``: what an event tells the directory, and the mails it calls for.
Rule = Callable[[Any, Directory, Secretariat], list[Notification]]


@dataclass
class Notifying:
    """What a handler works on: in the inbox, one transaction's (``session``)."""

    directory: Directory
    secretariat: Secretariat
    session: Session | None = None
    queued: list[Notification] = field(default_factory=list)

    def apply(self, rule: Rule, event: TypedEvent) -> None:
        """The domain's rule for the event: the directory learns what it tells, its mails are
        queued."""
        self.queued.extend(rule(event, self.directory, self.secretariat))


def inbox_handlers(config: Mapping[str, Any]) -> dict[str, Handler]:
    """Every handler as the inbox runs it: over the database's directory, its mails queued in
    the log in the same transaction. An event that arrives before the one it follows
    (``domain.NotYet``) waits for it in the inbox without using up its retries; one that fails
    otherwise is rolled back, retried, and parked when it keeps failing."""
    secretariat = service_settings(config, notify_settings.load).secretariat

    def in_transaction(handler: Handler) -> Handler:
        def run(event, session: Session) -> None:
            notifying = Notifying(db.SqlDirectory(session), secretariat, session)
            try:
                handler(event, notifying)
            except domain.NotYet as exc:
                raise Waiting(str(exc)) from exc
            db.queue(session, notifying.queued)

        return run

    return {name: in_transaction(handler) for name, handler in handlers().items()}


@handlers.handles(ApplicationReceived)
def application_received(received: ApplicationReceived, notifying: Notifying) -> None:
    notifying.apply(domain.application_received, received)


@handlers.handles(ApplicationWaitlisted, ApplicationUnderReview)
def application_filed(filed: ApplicationWaitlisted | ApplicationUnderReview,
                      notifying: Notifying) -> None:
    notifying.apply(domain.application_filed, filed)


@handlers.handles(ApplicationInfoRequested)
def info_requested(request: ApplicationInfoRequested, notifying: Notifying) -> None:
    notifying.apply(domain.info_requested, request)


@handlers.handles(ApplicationInfoProvided)
def info_provided(answer: ApplicationInfoProvided, notifying: Notifying) -> None:
    notifying.apply(domain.info_provided, answer)


@handlers.handles(ApplicationLinkRequested)
def link_requested(request: ApplicationLinkRequested, notifying: Notifying) -> None:
    notifying.apply(domain.link_requested, request)


@handlers.handles(ApplicationAccepted)
def accepted(acceptance: ApplicationAccepted, notifying: Notifying) -> None:
    notifying.apply(domain.accepted, acceptance)


@handlers.handles(ApplicationDeclined)
def declined(decision: ApplicationDeclined, notifying: Notifying) -> None:
    notifying.apply(domain.declined, decision)


@handlers.handles(ApplicationWithdrawn)
def application_withdrawn(withdrawal: ApplicationWithdrawn, notifying: Notifying) -> None:
    notifying.apply(domain.application_withdrawn, withdrawal)


@handlers.handles(ApplicationErased)
def application_erased(erased: ApplicationErased, notifying: Notifying) -> None:
    notifying.apply(domain.application_erased, erased)


@handlers.handles(MemberJoined)
def member_joined(joined: MemberJoined, notifying: Notifying) -> None:
    notifying.apply(domain.member_joined, joined)


@handlers.handles(MemberWithdrawn)
def member_withdrawn(withdrawal: MemberWithdrawn, notifying: Notifying) -> None:
    notifying.apply(domain.member_withdrawn, withdrawal)


@handlers.handles(MemberErased)
def member_erased(erased: MemberErased, notifying: Notifying) -> None:
    notifying.apply(domain.member_erased, erased)


@handlers.handles(MemberContactChanged)
def member_contact_changed(change: MemberContactChanged, notifying: Notifying) -> None:
    notifying.apply(domain.member_contact_changed, change)


@handlers.handles(WaveOpened)
def wave_opened(opened: WaveOpened, notifying: Notifying) -> None:
    notifying.apply(domain.wave_opened, opened)


@handlers.handles(WaveClosed)
def wave_closed(closed: WaveClosed, notifying: Notifying) -> None:
    notifying.apply(domain.wave_closed, closed)


@handlers.handles(DigestReady)
def digest_ready(ready: DigestReady, notifying: Notifying) -> None:
    notifying.apply(domain.digest_ready, ready)


@handlers.handles(StaffPasswordResetRequested)
def password_reset(request: StaffPasswordResetRequested, notifying: Notifying) -> None:
    notifying.apply(domain.password_reset, request)


@handlers.handles(StaffTokenIssued)
def remember_token(issued: StaffTokenIssued, notifying: Notifying) -> None:
    """The registry generated the deployment's staff token: staff routes here take it."""
    db.announced_tokens.remember(issued, notifying.session)
