"""The outbox (rule 1): an event is written in the same transaction as the change it reports,
then a relay publishes it with publisher confirms and marks it sent once confirmed.

Delivery is at least once: a crash between publishing and marking re-publishes the event, and
every consumer's inbox drops the duplicate by ``event_id``.

The commit that adds events wakes the relays registered for its database (``wake_on_commit``),
so no entrypoint, handler or loop wakes one by hand; a rollback wakes no one.
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from itertools import takewhile
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    Index,
    Integer,
    String,
    Text,
    bindparam,
    cast,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.event import listens_for
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared import leases
from shared.broker import Confirms, Envelope
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
    """Publishes pending outbox rows in order, a claimed batch at a time; holds them, with
    backoff, while the broker is away (it never gives a row up).

    ``publish`` takes a batch of envelopes and says what the broker confirmed
    (``EventPublisher.publish_all``; ``one_at_a_time`` makes one of a publish per message). A
    row is marked sent only once the broker confirmed it. A row it refused (a nack, no queue)
    counts a failed attempt and waits for its backoff; when the connection is lost, or the
    confirms do not come, the first unanswered row counts the attempt and the others are
    given back as they were. Either way the rows confirmed behind a failed one stay sent: as
    before, a failed row is overtaken by the rows after it (each type has its own queue, and
    consumers never relied on the order across rows). Published but not confirmed means
    published again later: consumers' inboxes drop the copy by ``event_id``.
    """

    model = OutboxRow
    waiting = OutboxRow.sent_at.is_(None)
    # Plain rows, not ORM objects: the relay only reads them. The envelope as stored, as text:
    # published without being parsed and serialised again.
    columns = (OutboxRow.id, OutboxRow.type, OutboxRow.event_id, OutboxRow.attempts,
               cast(OutboxRow.payload, Text).label("body"))

    def __init__(
        self,
        database: Database,
        publish: Callable[[Sequence[Envelope]], Confirms],
        *,
        backoff: Backoff = Backoff(0.5, 30.0),
        batch_size: int = 200,
        lease: timedelta = leases.LEASE,
    ):
        super().__init__(database, backoff=backoff, batch_size=batch_size, lease=lease)
        self.publish = publish

    def relay_due(self) -> tuple[int, Exception | None]:
        """Publish what is due: how many were sent, and the failure that stopped the batch."""
        with self.claimed() as lease:
            rows = list(takewhile(lease.holds, lease.rows))
            if not rows:
                return 0, None
            confirms = self.publish([Envelope(r.type, r.event_id, r.body) for r in rows])
            sent = [rows[n] for n in sorted(confirms.confirmed)]
            if sent:
                self._mark_sent(sent)
                # Marked sent with claimed_until cleared: the lease lets them go without a
                # release of its own, a transaction fewer per batch (per event when they
                # trickle).
                lease.finished(sent)
            failure: Exception | None = None
            for n, error in sorted(confirms.refused.items()):
                self._failed(lease, rows[n], error)
                failure = failure or error
            if confirms.lost is not None:
                failure = confirms.lost
                answered = {*confirms.confirmed, *confirms.refused}
                unanswered = [row for n, row in enumerate(rows) if n not in answered]
                if unanswered:
                    self._failed(lease, unanswered[0], confirms.lost)
        return len(sent), failure

    def pending(self) -> int:
        with self.database.transaction() as session:
            return session.scalar(
                select(func.count()).select_from(OutboxRow).where(self.waiting)
            )

    def _mark_sent(self, rows: list[Any]) -> None:
        # One round trip on PostgreSQL, no BEGIN/COMMIT; the statement built once.
        self.database.execute_alone(_MARK_SENT, {"ids": [row.id for row in rows],
                                                 "marked_at": utcnow()})

    def _failed(self, lease: leases.Lease, row: Any, error: Exception) -> None:
        log.warning("outbox: %s %s not published (attempt %d): %r", row.type, row.event_id,
                    row.attempts + 1, error)
        self.failed(row, repr(error))
        lease.finished([row])


_outbox = OutboxRow.__table__
_MARK_SENT = (update(_outbox)
              .where(_outbox.c.id.in_(bindparam("ids", expanding=True)))
              .values(sent_at=bindparam("marked_at"), claimed_until=None))


def one_at_a_time(publish: Callable[[dict], None]) -> Callable[[Sequence[Envelope]], Confirms]:
    """A batch publisher from a publish of one message that returns once it is delivered, or
    raises (an in-memory transport, a test): the batch stops at the first that raises."""

    def publish_all(envelopes: Sequence[Envelope]) -> Confirms:
        confirms = Confirms()
        for n, envelope in enumerate(envelopes):
            try:
                publish(json.loads(envelope.body))
            except Exception as exc:
                confirms.lost = exc
                break
            confirms.confirmed.append(n)
        return confirms

    return publish_all
