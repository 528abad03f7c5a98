"""What a relay batch writes, on SQLite and PostgreSQL: the claim and the sent mark, and no
release for rows it marked sent (they are let go with the mark); a row it could not publish
waits with its error, and the rest of the batch is given back."""
from __future__ import annotations

from sqlalchemy import event, select

from shared.events import new_event
from shared.outbox import OutboxRow, Relay, record
from shared.retry import Backoff


def _commits(database) -> list[int]:
    counted = [0]

    def count(_connection) -> None:
        counted[0] += 1

    event.listen(database.engine, "commit", count)
    return counted


def test_a_published_batch_costs_its_claim_and_its_mark_only(database):
    published: list[dict] = []
    relay = Relay(database, published.append)
    with database.transaction() as session:
        record(session, *[new_event("wave.closed", {"number": n}) for n in range(3)])
    commits = _commits(database)
    assert relay.relay_due() == (3, None)
    assert commits[0] == 2  # the claim, the mark; before: a third to release what was marked
    with database.transaction() as session:
        rows = list(session.scalars(select(OutboxRow)))
    assert all(r.sent_at is not None and r.claimed_until is None for r in rows)


def test_a_failed_publish_keeps_its_row_and_gives_the_rest_back(database):
    calls: list[dict] = []

    def publish(message: dict) -> None:
        calls.append(message)
        if len(calls) == 2:
            raise ConnectionRefusedError("broker away")

    relay = Relay(database, publish, backoff=Backoff(0.0, 0.0))
    with database.transaction() as session:
        record(session, *[new_event("wave.closed", {"number": n}) for n in range(3)])
    sent, failure = relay.relay_due()
    assert sent == 1 and isinstance(failure, ConnectionRefusedError)
    with database.transaction() as session:
        rows = list(session.scalars(select(OutboxRow).order_by(OutboxRow.id)))
    assert [r.sent_at is not None for r in rows] == [True, False, False]
    assert [r.attempts for r in rows] == [0, 1, 0]
    assert all(r.claimed_until is None for r in rows)  # nothing left claimed
