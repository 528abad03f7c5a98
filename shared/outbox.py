"""The outbox (rule 1): an event is written in the same transaction as the change it reports,
then a relay publishes it with publisher confirms and marks it sent.

Delivery is at least once: a crash between publishing and marking re-publishes the event, and
every consumer's inbox drops the duplicate by ``event_id``.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text, func, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared import leases
from shared.clock import utcnow
from shared.db import Base, Database
from shared.events import Event
from shared.retry import Backoff
from shared.work_queue import WorkQueue

log = logging.getLogger(__name__)


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


def record(session: Session, *events: Event) -> None:
    """Add events to the caller's transaction; they leave only if it commits."""
    if not events:
        return
    now = utcnow()
    # A Core insert of the table, not ORM objects nor an ORM bulk insert: this runs on every
    # submission and every mail sent, and the ORM's bookkeeping cost more than the insert.
    session.execute(insert(OutboxRow.__table__), [pending_row(event, now) for event in events])


def pending_row(event: Event, now: datetime | None = None) -> dict:
    """The outbox row of an event not yet published (the columns a writer gives): for a
    service that writes it within a statement of its own."""
    now = now or utcnow()
    return {"event_id": event.event_id, "type": event.type, "payload": event.as_message(),
            "created_at": now, "next_attempt_at": now, "attempts": 0}


class Relay(WorkQueue):
    """Publishes pending outbox rows in order; holds them, with backoff, while the broker is
    away (it never gives a row up)."""

    model = OutboxRow
    waiting = OutboxRow.sent_at.is_(None)

    def __init__(
        self,
        database: Database,
        publish: Callable[[dict], None],
        *,
        backoff: Backoff = Backoff(0.5, 30.0),
        batch_size: int = 200,
        lease: timedelta = leases.LEASE,
    ):
        super().__init__(database, backoff=backoff, batch_size=batch_size, lease=lease)
        self.publish = publish

    def relay_due(self) -> tuple[int, Exception | None]:
        """Publish what is due: how many were sent, and the failure that stopped the batch."""
        sent: list[OutboxRow] = []
        failure: Exception | None = None
        with self.claimed() as lease:
            for row in lease.rows:
                if not lease.holds(row):
                    break
                try:
                    self.publish(row.payload)
                except Exception as exc:  # any broker failure: keep the row, try again later
                    failure = exc
                    log.warning("outbox: %s %s not published (attempt %d): %r", row.type,
                                row.event_id, row.attempts + 1, exc)
                    self.failed(row, repr(exc))
                    lease.finished([row])
                    break
                sent.append(row)
            if sent:
                with self.database.transaction() as session:
                    self.finish(session, sent, sent_at=utcnow())
            # Marked sent (or failed) with claimed_until cleared: the lease lets them go without
            # a release of its own, a transaction fewer per batch (per event when they trickle).
            lease.finished(sent)
        return len(sent), failure

    def pending(self) -> int:
        with self.database.transaction() as session:
            return session.scalar(
                select(func.count()).select_from(OutboxRow).where(self.waiting)
            )
