"""Parked events as staff see them and replay them one by one, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from shared import inbox
from shared.events import new_event
from shared.inbox import InboxProcessor, InboxRow, NotParked, UnknownParkedEvent
from shared.retry import Backoff


def _park(database, event, error="the database was away"):
    def failing(event, session):
        raise RuntimeError(error)

    processor = InboxProcessor(database, {event.type: failing},
                               backoff=Backoff(0.0, 0.0, max_attempts=2))
    inbox.store(database, event.as_message())
    processor.process_due()
    processor.process_due()
    return processor


def test_a_parked_event_says_what_it_is_about_and_when_it_was_parked(database):
    event = new_event("application.withdrawn", {"application_id": 7, "reference": "HRC-2026-0007",
                                                "reason": "merged with another"})
    _park(database, event)
    with database.transaction() as session:
        listing = inbox.parked_events(session)
        row = session.scalars(select(InboxRow)).one()
    [item] = listing["items"]
    assert listing["total"] == 1
    assert item == {"id": row.id, "type": "application.withdrawn", "event_id": event.event_id,
                    "reference": "HRC-2026-0007", "member_id": None, "attempts": 2,
                    "last_error": "RuntimeError: the database was away",
                    "received_at": row.received_at.isoformat(),
                    "parked_at": row.next_attempt_at.isoformat()}
    # Parked, not scheduled: the moment is when it gave up, not a retry in the future.
    assert row.received_at <= row.next_attempt_at
    assert "merged with another" not in str(item)  # what it is about, not its whole payload


def test_an_invalid_message_is_listed_too(database):
    inbox.store(database, {"type": "wave.closed", "data": {"number": "x"}})
    with database.transaction() as session:
        [item] = inbox.parked_events(session)["items"]
    assert item["type"] == "wave.closed" and item["last_error"].startswith("invalid event")
    assert item["reference"] is None


def test_replaying_one_puts_only_it_back_in_line_and_it_is_handled(database):
    first = new_event("wave.closed", {"number": 1})
    second = new_event("wave.closed", {"number": 2})
    processor = _park(database, first)
    _park(database, second)
    with database.transaction() as session:
        ids = {row.event_id: row.id for row in session.scalars(select(InboxRow))}
        answer = inbox.replay_parked(session, ids[first.event_id])
    assert answer == {"id": ids[first.event_id], "type": "wave.closed",
                      "event_id": first.event_id, "status": "pending"}
    handled = []
    processor.handlers = {"wave.closed": lambda event, session: handled.append(event.data)}
    assert processor.process_due() == 1
    assert handled == [{"number": 1}]
    with database.transaction() as session:
        assert [i["event_id"] for i in inbox.parked_events(session)["items"]] == [
            second.event_id]


def test_an_unknown_id_is_not_found_and_one_not_parked_is_a_conflict(database):
    event = new_event("wave.closed", {"number": 3})
    inbox.store(database, event.as_message())
    with database.transaction() as session:
        row_id = session.scalars(select(InboxRow.id)).one()
        with pytest.raises(UnknownParkedEvent):
            inbox.replay_parked(session, row_id + 1000)
        with pytest.raises(NotParked, match="pending, not parked"):
            inbox.replay_parked(session, row_id)
    with database.transaction() as session:
        row = session.get(InboxRow, row_id)
        assert (row.status, row.attempts) == ("pending", 0)  # unchanged


def test_a_second_replay_of_the_same_event_is_a_conflict(database):
    _park(database, new_event("wave.closed", {"number": 4}))
    with database.transaction() as session:
        row_id = session.scalars(select(InboxRow.id)).one()
        inbox.replay_parked(session, row_id)
    with database.transaction() as session, pytest.raises(NotParked):
        inbox.replay_parked(session, row_id)
