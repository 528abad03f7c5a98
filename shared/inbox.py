"""The inbox (rule 2): an incoming event is stored and committed before its message is acked;
processing runs from the stored row, with retries and backoff, and what keeps failing is parked.

nameko acks a message whose handler raised and the message is gone; so the handler only stores
(``store``), and every failure after that point is the inbox's to retry, not the broker's.
"""
from __future__ import annotations

import json
import json.scanner
import logging
import traceback
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import eventlet.event
from sqlalchemy import (
    JSON,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    all_,
    any_,
    bindparam,
    cast,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared import leases
from shared.clock import utcnow
from shared.db import Base, Database
from shared.events import Event, InvalidEvent, TypedEvent, parse_event
from shared.retry import Backoff
from shared.work_queue import WorkQueue

log = logging.getLogger(__name__)

PENDING, DONE, PARKED = "pending", "done", "parked"

Handler = Callable[[Event, Session], None]


class Handlers:
    """A service's event handlers, one per event type, declared where they are written:

        handlers = Handlers()

        @handlers.handles(ApplicationReceived)
        def receive_application(received: ApplicationReceived, session): ...

    so that the path of an event reads from one module (the service's ``handlers.py``).
    ``Inbox(handlers)`` takes it as it is."""

    def __init__(self) -> None:
        self._by_type: dict[str, tuple[type[TypedEvent] | None, Any]] = {}

    def handles(self, *event_types: str | type[TypedEvent]) -> Callable[[Any], Any]:
        """For an event type's name the handler takes the Event; for a typed event (a
        ``shared.events.TypedEvent``) it takes that, built here from the validated Event.
        One handler may handle several types (``handles(*APPLICATION_STEPS)``)."""

        def register(handler: Any) -> Any:
            for event_type in event_types:
                name = event_type if isinstance(event_type, str) else event_type.type
                if name in self._by_type:
                    raise ValueError(f"{name} already has a handler")
                kind = None if isinstance(event_type, str) else event_type
                self._by_type[name] = (kind, handler)
            return handler

        return register

    def types(self) -> frozenset[str]:
        """The names of the event types handled."""
        return frozenset(self._by_type)

    def all_typed(self) -> bool:
        """Whether every handler takes a typed event: then a stored payload that lacks a fact
        is refused by name when its event is built, and the inbox may read what it stored as
        kept (``stored_event``) rather than validate it again."""
        return all(kind is not None for kind, _ in self._by_type.values())

    def __call__(self, config: object = None) -> dict[str, Handler]:
        return {name: handler if kind is None else _typed(kind, handler)
                for name, (kind, handler) in self._by_type.items()}


def _typed(kind: type[TypedEvent], handler: Any) -> Handler:
    return lambda event, session: handler(kind.of(event), session)


# ``last_error`` of an event that waits for another (see ``Waiting``) starts with this.
WAITING = "waiting: "


class Waiting(Exception):  # noqa: N818 - a state, not an error
    """Raised by a handler whose event depends on one not handled yet (events of different types
    come through different queues, in no guaranteed order). The event stays pending without
    counting an attempt, is tried again as soon as another event of this inbox is handled (or
    after ``wait_seconds``), and is parked only if it still waits ``wait_limit`` after arriving.
    """


class InboxRow(Base):
    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


def store(database: Database, message: object) -> bool:
    """Keep an incoming message. True if it is new; False for a duplicate delivery.

    An invalid event is kept too, parked with its error: nothing that arrives is dropped.
    """
    return store_many(database, [message])[0]


def store_many(database: Database, messages: list[object]) -> list[bool]:
    """Keep messages that arrived together, in one transaction: per message, True if it is new,
    False for a duplicate (of a stored one, or of an earlier one in ``messages``)."""
    now = utcnow()
    rows = [_row(message, now) for message in messages]
    fresh: list[dict] = []
    seen: set[str] = set()
    for row in rows:
        if row["event_id"] not in seen:
            seen.add(row["event_id"])
            fresh.append(row)
    # One statement, committed by itself (one round trip on PostgreSQL, where a transaction
    # around it took three), of the table, its rows as parameters: a multi-row VALUES of the
    # ORM entity was compiled again for every number of rows, a commit or two in five.
    table = InboxRow.__table__
    insert = pg_insert if database.is_postgresql else sqlite_insert
    statement = (insert(table).on_conflict_do_nothing(index_elements=["event_id"])
                 .returning(table.c.event_id))
    inserted = {row.event_id for row in database.execute_alone(statement, fresh)}
    answers = []
    for row in rows:
        answers.append(row["event_id"] in inserted)
        inserted.discard(row["event_id"])  # a second copy in this batch is a duplicate
    return answers


class GroupStore:
    """``store`` for a service's consumers, committing together what arrives together.

    Each consumer worker hands in its message and waits for the commit that holds it, then its
    message is acked: stored before acked, as with ``store``. A worker that finds no commit
    under way commits its message at once; those arriving during that commit wait for it to
    end, then the first of them commits them all. A burst costs a commit per handful of
    messages rather than one each (a commit is a round trip, and on a busy machine each round
    trip waits for the scheduler), and a lone message waits for no one.
    """

    def __init__(self, database: Database):
        self.database = database
        self._waiting: list[tuple[object, eventlet.event.Event]] = []
        self._committing: eventlet.event.Event | None = None

    def store(self, message: object) -> bool:
        done = eventlet.event.Event()
        self._waiting.append((message, done))
        while not done.ready():
            if self._committing is None:
                self._commit()
            else:
                self._committing.wait()
        return done.wait()

    def _commit(self) -> None:
        self._committing = finished = eventlet.event.Event()
        batch, self._waiting = self._waiting, []
        try:
            answers = store_many(self.database, [message for message, _ in batch])
        except Exception as exc:  # every message of the batch goes back to the broker
            for _, waiter in batch:
                waiter.send_exception(exc)
        else:
            for (_, waiter), new in zip(batch, answers, strict=True):
                waiter.send(new)
        finally:
            for _, waiter in batch:
                if not waiter.ready():  # the committing worker was killed
                    waiter.send_exception(ConnectionError("the inbox commit was interrupted"))
            self._committing = None
            finished.send(True)


def _row(message: object, now: datetime) -> dict:
    values: dict = {"received_at": now, "next_attempt_at": now, "attempts": 0,
                    "last_error": None}
    try:
        event = parse_event(message)
        values.update(event_id=event.event_id, type=event.type, payload=event.as_message(),
                      status=PENDING)
    except InvalidEvent as exc:
        event_id = message.get("event_id") if isinstance(message, dict) else None
        values.update(
            event_id=f"invalid-{event_id if isinstance(event_id, str) else ''}-{uuid.uuid4()}"[:64],
            type=message.get("type") if isinstance(message, dict) else None,
            payload={"message": message} if _jsonable(message) else {"repr": repr(message)},
            status=PARKED,
            last_error=f"invalid event: {exc.errors}",
        )
        log.error("inbox: parked an invalid event: %s", exc.errors)
    return values


def stored_event(payload: dict) -> Event:
    """An event as ``store`` kept it once validated, taken as it is: validating it again costs
    more than most handlers (a parked invalid event replayed fails here, and is parked again).
    """
    return Event(event_id=payload["event_id"], type=payload["type"],
                 occurred_at=payload["occurred_at"], version=payload["version"],
                 data=payload["data"])


def _jsonable(value: object) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


class InboxProcessor(WorkQueue):
    """Runs stored events through their handlers, each in its own transaction; an event that
    keeps failing is parked (after the backoff's ``max_attempts``)."""

    model = InboxRow
    waiting = InboxRow.status == PENDING
    given_up = {"status": PARKED}
    # Due first, then oldest: the order of the ix_inbox_due index (its entries end with the row
    # id), so a backlog of thousands is not sorted again for each batch.
    order = (InboxRow.next_attempt_at, InboxRow.id)
    # A claimed event is what processing reads of its row, not an ORM object; its payload as
    # the stored JSON text, parsed by ``_payload``.
    columns = (InboxRow.id, InboxRow.event_id, InboxRow.type,
               cast(InboxRow.payload, Text).label("payload"),
               InboxRow.attempts, InboxRow.received_at, InboxRow.next_attempt_at)
    error_length = 4000

    def __init__(
        self,
        database: Database,
        handlers: Mapping[str, Handler],
        *,
        backoff: Backoff = Backoff(1.0, 300.0, max_attempts=5),
        batch_size: int = 100,
        lease: timedelta = leases.LEASE,
        wait_seconds: float = 2.0,
        wait_limit: timedelta = timedelta(days=1),
        group_size: int = 25,
        read_event: Callable[[dict], Event] = parse_event,
        prepare: Callable[[list[Event], Session], None] | None = None,
    ):
        super().__init__(database, backoff=backoff, batch_size=batch_size, lease=lease)
        self.handlers = handlers
        self.wait_seconds = wait_seconds
        self.wait_limit = wait_limit
        # Events handled in one transaction when all goes well: a commit per event costs more
        # than most handlers, and a smaller group keeps the eventlet hub from being held long.
        self.group_size = group_size
        # How a stored payload becomes an Event again: validated anew by default; a service
        # whose handlers take what ``store`` validated and kept passes ``stored_event``.
        self.read_event = read_event
        # Called with a group's events before their handlers, in their transaction: where a
        # service reads at once what the group's handlers will read one by one.
        self.prepare = prepare
        self.more_due = False
        self._woken = 0

    def process_due(self) -> int:
        """Process every due event once. Returns how many were handled successfully.

        ``more_due`` then says whether another claim may find events due now: the claim was
        full, or handling woke events that waited. Otherwise an event stored since wakes the
        loop anyway, and a claim that finds nothing is a round trip (and a transaction) for
        nothing, once per lone event at a low rate."""
        handled, self._woken = 0, 0
        with self.claimed() as lease:
            rows = lease.rows
            for start in range(0, len(rows), self.group_size):
                handled += self._process_group(lease, rows[start:start + self.group_size])
        if self.database.is_postgresql:  # woken by each done mark, in its statement
            woken = self._woken
        else:
            woken = self._wake_waiting() if handled else 0
        self.more_due = len(rows) >= self.batch_size or woken > 0
        return handled

    def _process_group(self, lease: leases.Lease, rows: list[Any]) -> int:
        """Events in one transaction; if one of them fails, each half in its own, down to an
        event alone, so that one event's failure rolls back only its own effects and a large
        group costs a few more transactions, not one per event. In claim order throughout."""
        group = [row for row in rows if lease.holds(row)]
        if len(group) > 1:
            if self._process_together(group):
                lease.finished(group)
                return len(group)
            half = len(group) // 2
            return (self._process_group(lease, group[:half])
                    + self._process_group(lease, group[half:]))
        if group and self._process(group[0]):
            lease.finished(group)
            return 1
        return 0

    def _process_together(self, rows: list[Any]) -> bool:
        def read() -> list[Event]:
            return [self.read_event(_payload(row)) for row in rows]

        try:
            with self.database.transaction() as session:
                if self.database.is_postgresql:
                    # The done mark first, in the same transaction (all or nothing still), and
                    # the events read in a green thread meanwhile: PostgreSQL writes the rows
                    # on one core while this process parses on the other, where one waited
                    # for the other. Both were a third of a group's time.
                    reading = eventlet.spawn(read)
                    woken = self._done(session, rows)
                    events = reading.wait()
                else:  # SQLite blocks the hub: nothing to overlap, and its write lock waits
                    events = read()
                if self.prepare is not None:
                    self.prepare(events, session)
                for event in events:
                    handler = self.handlers.get(event.type)
                    if handler is not None:
                        handler(event, session)
                if not self.database.is_postgresql:
                    woken = self._done(session, rows)
            self._woken += woken
            return True
        except Exception:
            log.debug("inbox: a group of %d failed; each half on its own", len(rows),
                      exc_info=True)
            return False

    def _process(self, row: Any) -> bool:
        try:
            event = self.read_event(_payload(row))
            handler = self.handlers.get(event.type)
            with self.database.transaction() as session:
                if handler is not None:
                    handler(event, session)
                woken = self._done(session, [row])
            self._woken += woken
            return True
        except Waiting as exc:
            self._waiting(row, exc)
            return False
        except InvalidEvent as exc:
            # A payload its typed event refuses stays refused: parked now, with the reason.
            self._failed(row, exc, parked=True)
            return False
        except Exception as exc:
            self._failed(row, exc)
            return False

    def _done(self, session: Session, rows: list[Any]) -> int:
        """Mark rows done in the caller's transaction. On PostgreSQL the same statement wakes
        what waited (see ``Waiting``), due at the commit that makes these rows' effects seen,
        where the wake was a round trip of its own after every handled claim: returns how many
        it woke (0 elsewhere, where ``process_due`` wakes them after the claim)."""
        now = utcnow()
        if not self.database.is_postgresql:
            self.finish(session, rows, **_done(now))
            return 0
        return len(session.execute(_DONE_AND_WAKE, {"ids": [row.id for row in rows],
                                                    "now": now}).all())

    def _waiting(self, row: Any, exc: Waiting) -> None:
        now = utcnow()
        if now - row.received_at > self.wait_limit:
            self._failed(row, exc, parked=True)
            return
        log.info("inbox: %s %s waits: %s", row.type, row.event_id, exc)
        self.put_back(row, now + timedelta(seconds=self.wait_seconds),
                      last_error=f"{WAITING}{exc}"[:self.error_length])

    def _wake_waiting(self) -> int:
        """Something was handled: what waited may follow it now. Returns how many were woken."""
        # One round trip on PostgreSQL; the statement built once.
        return len(self.database.execute_alone(_WAKE_WAITING, {"now": utcnow()}))

    def _failed(self, row: Any, exc: Exception, parked: bool = False) -> None:
        attempts = row.attempts + 1
        parked = parked or self.backoff.exhausted(attempts)
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        (log.error if parked else log.warning)(
            "inbox: %s %s failed (attempt %d%s): %s", row.type, row.event_id, attempts,
            ", parked" if parked else "", error,
        )
        self.failed(row, error, give_up=parked)


def _done(processed_at: Any) -> dict[str, Any]:
    """What done means for an inbox row (its claim cleared with it by ``finish``)."""
    return {"status": DONE, "processed_at": processed_at, "attempts": InboxRow.attempts + 1,
            "last_error": None}


_inbox = InboxRow.__table__
_WAKE_WAITING = (update(_inbox)
                 .where(_inbox.c.status == PENDING,
                        _inbox.c.next_attempt_at > bindparam("now"),
                        _inbox.c.last_error.startswith(WAITING))
                 .values(next_attempt_at=bindparam("now"))
                 .returning(_inbox.c.id))
# PostgreSQL: the done mark as a data-modifying CTE of the wake, which leaves out the rows being
# marked (<> ALL): the one statement touches no row twice.
_DONE_IDS = bindparam("ids", type_=ARRAY(_inbox.c.id.type))
_DONE_AND_WAKE = (_WAKE_WAITING.where(_inbox.c.id != all_(_DONE_IDS))
                  .add_cte(update(_inbox).where(_inbox.c.id == any_(_DONE_IDS))
                           .values(claimed_until=None, **_done(bindparam("now")))
                           .cte("done")))


# json's C scanner without json.loads' Python wrapper around it (JSONDecoder.decode and its
# whitespace matching): that wrapper was a fifth of a large claim's time on PostgreSQL, where
# psycopg2 parses a json column with json.loads.
_scan_json = json.scanner.make_scanner(json.JSONDecoder())


def _payload(row: Any) -> Any:
    """A claimed row's payload, stored as one JSON value as json.dumps wrote it."""
    try:
        return _scan_json(row.payload, 0)[0]
    except StopIteration:  # not what json.dumps writes: let json say why
        return json.loads(row.payload)


def parked(session: Session) -> list[InboxRow]:
    return list(session.scalars(
        select(InboxRow).where(InboxRow.status == PARKED).order_by(InboxRow.id)
    ))


def replay(session: Session, event_ids: list[str] | None = None) -> int:
    """Put parked events back in line, all of them or the ones named. Returns how many."""
    query = update(InboxRow).where(InboxRow.status == PARKED)
    if event_ids:
        query = query.where(InboxRow.event_id.in_(event_ids))
    result = session.execute(
        query.values(status=PENDING, attempts=0, next_attempt_at=utcnow(), claimed_until=None)
    )
    return result.rowcount


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(InboxRow.status, func.count()).group_by(InboxRow.status))
    return {status: count for status, count in rows}


class UnknownParkedEvent(Exception):
    http_status = 404
    error_code = "not_found"


class NotParked(Exception):
    http_status = 409
    error_code = "not_parked"


# Parked events a listing shows; there should be a handful, and never thousands on a page.
PARKED_LISTED = 500


def parked_events(session: Session) -> dict[str, Any]:
    """The parked events as staff see them, oldest first: what each is about, never its whole
    payload (it may hold a person's data)."""
    rows = session.scalars(select(InboxRow).where(InboxRow.status == PARKED)
                           .order_by(InboxRow.id).limit(PARKED_LISTED))
    total = session.scalar(select(func.count()).select_from(InboxRow)
                           .where(InboxRow.status == PARKED))
    return {"items": [parked_event(row) for row in rows], "total": total}


def parked_event(row: InboxRow) -> dict[str, Any]:
    data = row.payload.get("data") if isinstance(row.payload, dict) else None
    data = data if isinstance(data, dict) else {}
    lines = (row.last_error or "").strip().splitlines()
    return {
        "id": row.id,
        "type": row.type,
        "event_id": row.event_id,
        "reference": data.get("reference") if isinstance(data.get("reference"), str) else None,
        "member_id": data.get("member_id") if isinstance(data.get("member_id"), int) else None,
        "attempts": row.attempts,
        "last_error": lines[-1] if lines else None,
        "received_at": row.received_at.isoformat(),
        "parked_at": row.next_attempt_at.isoformat(),
    }


def replay_parked(session: Session, row_id: int) -> dict[str, Any]:
    """Put one parked event back in line (``UnknownParkedEvent``, ``NotParked`` otherwise).

    The update is conditional, so two staff replaying the same event at once replay it once.
    """
    result = session.execute(
        update(InboxRow).where(InboxRow.id == row_id, InboxRow.status == PARKED)
        .values(status=PENDING, attempts=0, next_attempt_at=utcnow(), claimed_until=None)
    )
    row = session.get(InboxRow, row_id)
    if row is None:
        raise UnknownParkedEvent(f"no inbox event {row_id}")
    if result.rowcount != 1:
        raise NotParked(f"inbox event {row_id} is {row.status}, not parked")
    return {"id": row.id, "type": row.type, "event_id": row.event_id, "status": PENDING}
