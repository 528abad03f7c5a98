"""The outbox (rule 1): an event is written in the same transaction as the change it reports,
then a relay publishes it with publisher confirms and marks it sent.

Delivery is at least once: a crash between publishing and marking re-publishes the event, and
every consumer's inbox drops the duplicate by ``event_id``.

The commit that adds events wakes the relays registered for its database (``wake_on_commit``),
so no entrypoint, handler or loop wakes one by hand; a rollback wakes no one.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import JSON, DateTime, Engine, Index, Integer, String, Text, func, insert, select
from sqlalchemy.event import listens_for
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
    """Add events to the caller's transaction; they leave only if it commits, and its commit
    wakes the relay."""
    if not events:
        return
    now = utcnow()
    # A Core insert of the table, not ORM objects nor an ORM bulk insert: this runs on every
    # submission and every mail sent, and the ORM's bookkeeping cost more than the insert.
    session.execute(insert(OutboxRow.__table__), [pending_row(event, now) for event in events])
    recorded(session)


def pending_row(event: Event, now: datetime | None = None) -> dict:
    """The outbox row of an event not yet published (the columns a writer gives): for a
    service that writes it within a statement of its own."""
    now = now or utcnow()
    return {"event_id": event.event_id, "type": event.type, "payload": event.as_message(),
            "created_at": now, "next_attempt_at": now, "attempts": 0}


def recorded(session: Session) -> None:
    """The caller's transaction holds outbox rows it wrote itself (``pending_row``, within a
    statement of its own): its commit wakes the relay, as ``record``'s does."""
    session.info[_RECORDED] = session.get_bind()


def committed(database: Database) -> None:
    """Outbox rows a service committed by itself, outside a session (an autocommit statement,
    with ``pending_row``): wake the relay now, as the commit of a recording session would."""
    _wake(database.engine)


# In a session's info while its transaction holds events: the engine whose relays its commit
# wakes.
_RECORDED = "outbox.recorded"
_wakers: dict[Engine, tuple[Callable[[], None], ...]] = {}
_wakers_lock = threading.Lock()


def wake_on_commit(database: Database, wake: Callable[[], None]) -> Callable[[], None]:
    """Call ``wake`` after every commit on ``database`` that recorded events; returns the call
    that stops it (a relay's loop registers its wake while it runs)."""
    with _wakers_lock:
        _wakers[database.engine] = (*_wakers.get(database.engine, ()), wake)

    def stop() -> None:
        with _wakers_lock:
            left = tuple(w for w in _wakers.get(database.engine, ()) if w is not wake)
            if left:
                _wakers[database.engine] = left
            else:
                _wakers.pop(database.engine, None)

    return stop


@listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the events leave with the outer commit, or not at all
    engine = session.info.pop(_RECORDED, None)
    if engine is not None:
        _wake(engine)


def _wake(engine: Engine) -> None:
    for wake in _wakers.get(engine, ()):
        try:
            wake()
        except Exception:  # the commit stands; the relay's poll publishes the events
            log.exception("outbox: waking the relay after a commit failed")


@listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction) -> None:
    if transaction.parent is None:
        # Committed (the wake is done) or rolled back (the events are gone): nothing to wake.
        session.info.pop(_RECORDED, None)


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
