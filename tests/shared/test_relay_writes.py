"""What a relay batch writes, on SQLite and PostgreSQL: the claim and the sent mark (on
PostgreSQL two statements, each committed by itself), and no release for rows it marked sent
(they are let go with the mark). A row is marked sent only when the broker confirmed it: a row
it refused, or left unanswered when the connection was lost, waits (the first with its error),
and the rest of the batch is given back."""
from __future__ import annotations

import json

import pytest
from amqp.exceptions import MessageNacked
from sqlalchemy import Engine, event, select

from shared.broker import Confirms, Envelope
from shared.events import new_event
from shared.outbox import OutboxRow, Relay, one_at_a_time, record
from shared.retry import Backoff


@pytest.fixture
def statements():
    """The statements and commits run on any engine (the autocommit one included)."""
    seen: dict[str, list] = {"statements": [], "commits": []}

    def executed(_conn, _cursor, statement, *_args) -> None:
        seen["statements"].append(statement.split()[0])

    def committed(_conn) -> None:
        seen["commits"].append(1)

    event.listen(Engine, "before_cursor_execute", executed)
    event.listen(Engine, "commit", committed)
    yield seen
    event.remove(Engine, "before_cursor_execute", executed)
    event.remove(Engine, "commit", committed)


def _record(database, count: int) -> list[dict]:
    events = [new_event("wave.closed", {"number": n}) for n in range(count)]
    with database.transaction() as session:
        record(session, *events)
    return [e.as_message() for e in events]


def _rows(database) -> list[OutboxRow]:
    with database.transaction() as session:
        return list(session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def _answering(confirms: Confirms):
    batches: list[list[Envelope]] = []

    def publish_all(envelopes):
        batches.append(list(envelopes))
        return confirms

    publish_all.batches = batches
    return publish_all


def test_a_published_batch_costs_its_claim_and_its_mark_only(database, statements):
    published: list[dict] = []
    relay = Relay(database, one_at_a_time(published.append))
    messages = _record(database, 3)
    statements["statements"].clear()
    statements["commits"].clear()
    assert relay.relay_due() == (3, None)
    if database.is_postgresql:
        # The claim (UPDATE ... RETURNING) and the mark, each its own commit: no BEGIN, no
        # SELECT ... FOR UPDATE, no COMMIT round trip.
        assert statements["statements"] == ["UPDATE", "UPDATE"]
    else:
        assert statements["commits"] == [1, 1]  # the claim, the mark
    assert published == messages  # as recorded, in order
    assert all(r.sent_at is not None and r.claimed_until is None for r in _rows(database))


def test_the_batch_is_published_as_stored_without_parsing_it(database):
    publish_all = _answering(Confirms(confirmed=[0, 1]))
    messages = _record(database, 2)
    Relay(database, publish_all).relay_due()
    [batch] = publish_all.batches
    assert [(e.type, e.event_id) for e in batch] == [(m["type"], m["event_id"])
                                                     for m in messages]
    assert [json.loads(e.body) for e in batch] == messages


def test_a_failed_publish_keeps_its_row_and_gives_the_rest_back(database):
    calls: list[dict] = []

    def publish(message: dict) -> None:
        calls.append(message)
        if len(calls) == 2:
            raise ConnectionRefusedError("broker away")

    relay = Relay(database, one_at_a_time(publish), backoff=Backoff(0.0, 0.0))
    _record(database, 3)
    sent, failure = relay.relay_due()
    assert sent == 1 and isinstance(failure, ConnectionRefusedError)
    rows = _rows(database)
    assert [r.sent_at is not None for r in rows] == [True, False, False]
    assert [r.attempts for r in rows] == [0, 1, 0]
    assert all(r.claimed_until is None for r in rows)  # nothing left claimed


def test_rows_the_broker_refused_wait_and_those_it_confirmed_are_sent(database):
    nacked = MessageNacked("refused")
    relay = Relay(database, _answering(Confirms(confirmed=[0, 2], refused={1: nacked, 3: nacked})),
                  backoff=Backoff(0.0, 0.0))
    _record(database, 4)
    sent, failure = relay.relay_due()
    assert (sent, failure) == (2, nacked)
    rows = _rows(database)
    assert [r.sent_at is not None for r in rows] == [True, False, True, False]
    assert [r.attempts for r in rows] == [0, 1, 0, 1]
    assert all(r.claimed_until is None for r in rows)


def test_a_connection_lost_mid_batch_leaves_the_unconfirmed_pending_and_they_go_later(database):
    lost = ConnectionResetError("connection lost")
    relay = Relay(database, _answering(Confirms(confirmed=[0], lost=lost)),
                  backoff=Backoff(0.0, 0.0))
    messages = _record(database, 4)
    assert relay.relay_due() == (1, lost)
    rows = _rows(database)
    # Only the confirmed row is sent; the first unanswered counts the attempt, the others are
    # given back untouched.
    assert [r.sent_at is not None for r in rows] == [True, False, False, False]
    assert [r.attempts for r in rows] == [0, 1, 0, 0]
    assert all(r.claimed_until is None for r in rows)

    published: list[dict] = []
    relay.publish = one_at_a_time(published.append)
    assert relay.relay_due() == (3, None)
    assert published == messages[1:]
    assert relay.pending() == 0
