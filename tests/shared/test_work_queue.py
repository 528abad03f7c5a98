"""The queue of leased work rows that the relay, the inbox and notify's mail extend, on SQLite
and PostgreSQL: what a failed attempt writes, when a row is given up, and that a row whose
lease was lost is neither worked on nor marked done."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from shared import inbox
from shared.clock import utcnow
from shared.events import new_event
from shared.inbox import DONE, PARKED, PENDING, InboxProcessor, InboxRow
from shared.outbox import OutboxRow, Relay, one_at_a_time, record
from shared.retry import Backoff
from shared.work_queue import WorkQueue


class Chores(WorkQueue):
    """A queue over the inbox table that gives a row up as parked, and says so."""

    model = InboxRow
    waiting = InboxRow.status == PENDING
    given_up = {"status": PARKED}

    def __init__(self, database, backoff: Backoff, lease: timedelta = timedelta(seconds=10)):
        super().__init__(database, backoff=backoff, batch_size=10, lease=lease)
        self.given_up_rows: list[tuple[int, str]] = []

    def gave_up(self, session, row, error):
        self.given_up_rows.append((row.id, error))


def _stored(database, count: int = 1) -> None:
    for number in range(count):
        inbox.store(database, new_event("wave.closed", {"number": number}).as_message())


def _rows(database) -> list[InboxRow]:
    with database.transaction() as session:
        return list(session.scalars(select(InboxRow).order_by(InboxRow.id)))


def test_a_failed_row_waits_out_the_backoff_and_is_let_go(database):
    _stored(database)
    queue = Chores(database, Backoff(60.0, 600.0, jitter=0.2, max_attempts=3))
    before = utcnow()
    with queue.claimed() as lease:
        (row,) = lease.rows
        assert queue.failed(row, "x" * 5000) is False
        lease.finished([row])
    after = utcnow()
    (row,) = _rows(database)
    assert row.status == PENDING and row.attempts == 1 and row.claimed_until is None
    assert row.last_error == "x" * 2000
    # The first failure waits the base, shortened by up to the jitter.
    assert before + timedelta(seconds=48) <= row.next_attempt_at <= after + timedelta(seconds=60)
    with queue.claimed() as lease:
        assert lease.rows == []  # not due before its time
    assert queue.given_up_rows == []


def test_a_row_is_given_up_when_the_backoff_s_attempts_run_out(database):
    _stored(database)
    queue = Chores(database, Backoff(0.0, 0.0, max_attempts=2))
    with queue.claimed() as lease:
        assert queue.failed(lease.rows[0], "first") is False
    with queue.claimed() as lease:
        (row,) = lease.rows
        assert queue.failed(row, "second") is True
    (row,) = _rows(database)
    assert row.status == PARKED and row.attempts == 2 and row.last_error == "second"
    assert queue.given_up_rows == [(row.id, "second")]
    with queue.claimed() as lease:
        assert lease.rows == []


def test_a_final_failure_gives_up_at_once(database):
    _stored(database)
    queue = Chores(database, Backoff(0.0, 0.0, max_attempts=5))
    with queue.claimed() as lease:
        assert queue.failed(lease.rows[0], "refused for good", give_up=True) is True
    (row,) = _rows(database)
    assert row.status == PARKED and row.attempts == 1


def test_a_row_finished_by_another_holder_is_not_failed_back(database):
    _stored(database)
    queue = Chores(database, Backoff(0.0, 0.0, max_attempts=1))
    with queue.claimed() as lease:
        (row,) = lease.rows
        with database.transaction() as session:
            queue.finish(session, [row], status=DONE)
        queue.failed(row, "late")
    (row,) = _rows(database)
    assert row.status == DONE and row.attempts == 0 and row.last_error is None
    assert queue.given_up_rows == []


def test_a_row_put_back_counts_no_attempt(database):
    _stored(database)
    queue = Chores(database, Backoff(0.0, 0.0, max_attempts=1))
    until = utcnow() + timedelta(hours=1)
    with queue.claimed() as lease:
        queue.put_back(lease.rows[0], until, last_error="waiting: for another")
    (row,) = _rows(database)
    assert row.status == PENDING and row.attempts == 0 and row.claimed_until is None
    assert row.next_attempt_at == until


def test_a_relay_that_lost_its_lease_publishes_nothing_and_marks_nothing(database):
    with database.transaction() as session:
        record(session, new_event("wave.closed", {"number": 1}))
    published: list[dict] = []
    # A lease of no length is lost as soon as it is taken.
    relay = Relay(database, one_at_a_time(published.append), lease=timedelta(0))
    assert relay.relay_due() == (0, None)
    assert published == []
    with database.transaction() as session:
        (row,) = session.scalars(select(OutboxRow))
    assert row.sent_at is None and row.attempts == 0


def test_an_inbox_that_lost_its_lease_neither_handles_nor_marks_done(database):
    _stored(database)
    handled: list[str] = []
    processor = InboxProcessor(database, {"wave.closed": lambda e, s: handled.append(e.type)},
                               lease=timedelta(0))
    assert processor.process_due() == 0
    assert handled == []
    (row,) = _rows(database)
    assert row.status == PENDING and row.attempts == 0


def test_backoff_doubles_to_its_cap_jittered_or_exact():
    exact = Backoff(1.0, 8.0, jitter=0.0)
    assert [exact.delay(n) for n in range(1, 6)] == [1, 2, 4, 8, 8]
    assert exact.delay(100_000) == 8
    jittered = Backoff(10.0, 10.0)
    assert all(8.0 <= jittered.delay(1) <= 10.0 for _ in range(50))
    assert not Backoff().exhausted(10**6)
    assert [Backoff(max_attempts=3).exhausted(n) for n in (2, 3, 4)] == [False, True, True]
