"""The consumers' inbox store (shared.inbox.GroupStore) on SQLite and PostgreSQL: messages that
arrive together are committed together, each worker learns whether its message was new only
once it is committed, and a failed commit sends every message of it back."""
from __future__ import annotations

import eventlet
import pytest
from sqlalchemy import func, select

from shared import inbox
from shared.events import new_event
from shared.inbox import PARKED, PENDING, GroupStore, InboxRow


def _commits(monkeypatch) -> list[int]:
    """How many times the store commits: each ``store_many`` is one commit (one statement
    committed by itself on PostgreSQL, a transaction on SQLite)."""
    counted = [0]
    store_many = inbox.store_many

    def count(*args):
        counted[0] += 1
        return store_many(*args)

    monkeypatch.setattr(inbox, "store_many", count)
    return counted


def test_a_burst_is_stored_in_fewer_commits_than_messages_each_answered(database, monkeypatch):
    stored = GroupStore(database)
    store_many = inbox.store_many

    def slow(*args):  # a commit that takes a while, as on a busy server (SQLite never yields)
        eventlet.sleep(0.01)
        return store_many(*args)

    monkeypatch.setattr(inbox, "store_many", slow)
    earlier = new_event("wave.closed", {"number": 0}).as_message()
    inbox.store(database, earlier)
    burst = [new_event("wave.closed", {"number": n}).as_message() for n in range(1, 9)]
    messages = [*burst, burst[0], earlier, {"type": "wave.closed", "data": {"number": "x"}}]
    commits = _commits(monkeypatch)
    workers = [eventlet.spawn(stored.store, message) for message in messages]
    answers = [worker.wait() for worker in workers]
    # New, new, ...; the second copy within the burst and the one stored before: duplicates;
    # the invalid message is kept (parked), so it is new too.
    assert answers == [True] * 8 + [False, False, True]
    assert 1 <= commits[0] < len(messages)
    with database.transaction() as session:
        statuses = dict(session.execute(
            select(InboxRow.status, func.count()).group_by(InboxRow.status)).all())
    assert statuses == {PENDING: 9, PARKED: 1}


def test_a_lone_message_is_committed_alone(database, monkeypatch):
    stored = GroupStore(database)
    commits = _commits(monkeypatch)
    assert stored.store(new_event("wave.closed", {"number": 1}).as_message()) is True
    assert commits[0] == 1


def test_a_failed_commit_raises_in_every_worker_whose_message_it_held(database, monkeypatch):
    stored = GroupStore(database)

    def unreachable(*_args):
        eventlet.sleep(0.01)  # the others arrive while this commit is under way
        raise ConnectionRefusedError("database away")

    monkeypatch.setattr(inbox, "store_many", unreachable)
    workers = [eventlet.spawn(stored.store, new_event("wave.closed", {"number": n}).as_message())
               for n in range(4)]
    for worker in workers:
        with pytest.raises(ConnectionRefusedError):
            worker.wait()
    monkeypatch.undo()
    assert stored.store(new_event("wave.closed", {"number": 9}).as_message()) is True
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(InboxRow)) == 1
