"""The commit that adds events to the outbox wakes the relay registered for its database; a
rollback, a commit without events, a savepoint or another database's commit wakes no one."""
from __future__ import annotations

import eventlet
import pytest

from shared import db as shared_db
from shared import outbox
from shared.events import new_event
from shared.outbox import record
from shared.reliability import Outbox


def _event():
    return new_event("wave.closed", {"number": 1})


@pytest.fixture
def woken(database):
    calls: list[str] = []
    stop = outbox.wake_on_commit(database, lambda: calls.append("woken"))
    yield calls
    stop()


def test_the_commit_that_recorded_events_wakes_the_relay(database, woken):
    with database.transaction() as session:
        record(session, _event())
        assert woken == []  # not before the events are committed
    assert woken == ["woken"]
    with database.transaction() as session:
        record(session, _event(), _event())
        record(session, _event())
    assert woken == ["woken", "woken"]  # once per commit


def test_a_rollback_wakes_no_one_nor_does_the_next_commit_without_events(database, woken):
    with pytest.raises(RuntimeError), database.transaction() as session:
        record(session, _event())
        raise RuntimeError("the change failed")
    with database.transaction() as session:
        session.execute(outbox.select(outbox.OutboxRow.id))
    assert woken == []


def test_a_session_used_again_wakes_only_for_the_transaction_that_recorded(database, woken):
    with database.sessions() as session:
        with session.begin():
            record(session, _event())
        with session.begin():
            session.execute(outbox.select(outbox.OutboxRow.id))
    assert woken == ["woken"]


def test_a_savepoint_wakes_no_one_the_outer_commit_does(database, woken):
    with database.transaction() as session:
        with session.begin_nested():
            record(session, _event())
        assert woken == []
    assert woken == ["woken"]


def test_rows_a_service_wrote_itself_wake_once_it_says_so(database, woken):
    with database.transaction() as session:
        session.execute(outbox.insert(outbox.OutboxRow), [outbox.pending_row(_event())])
        outbox.recorded(session)
    assert woken == ["woken"]


def test_rows_a_service_committed_by_itself_wake_once_it_says_so(database, woken):
    with database.engine.begin() as connection:
        connection.execute(outbox.insert(outbox.OutboxRow), [outbox.pending_row(_event())])
    assert woken == []
    outbox.committed(database)
    assert woken == ["woken"]


def test_recording_nothing_wakes_no_one(database, woken):
    with database.transaction() as session:
        record(session)
    assert woken == []


def test_another_database_s_commit_wakes_no_one(database, woken, tmp_path):
    other = shared_db.Database(f"sqlite:///{tmp_path}/other.db")
    shared_db.Base.metadata.create_all(other.engine)
    with other.transaction() as session:
        record(session, _event())
    other.engine.dispose()
    assert woken == []


def test_a_relay_that_stopped_is_not_woken(database):
    calls: list[str] = []
    stop = outbox.wake_on_commit(database, lambda: calls.append("woken"))
    stop()
    with database.transaction() as session:
        record(session, _event())
    assert calls == []


def test_a_failing_wake_does_not_undo_the_commit(database):
    def broken() -> None:
        raise RuntimeError("loop gone")

    stop = outbox.wake_on_commit(database, broken)
    try:
        with database.transaction() as session:
            record(session, _event())
    finally:
        stop()
    with database.transaction() as session:
        assert len(list(session.scalars(outbox.select(outbox.OutboxRow)))) == 1


class _CountingLoop:
    def __init__(self) -> None:
        self.woken = 0

    def wake(self) -> None:
        self.woken += 1


def test_the_relay_gathers_the_wakes_of_its_delay_into_one_pass():
    relay = Outbox(wake_delay=lambda config: 0.01)
    relay.delay, relay._gathering, relay.loop = 0.01, None, _CountingLoop()
    for _ in range(5):
        relay.wake()
    assert relay.loop.woken == 0
    while relay._gathering is not None:
        eventlet.sleep(0.01)
    assert relay.loop.woken == 1


def test_a_relay_with_no_delay_is_woken_at_once():
    relay = Outbox()
    relay.delay, relay._gathering, relay.loop = 0.0, None, _CountingLoop()
    relay.wake()
    assert relay.loop.woken == 1
