"""Leases with a heartbeat, on SQLite and PostgreSQL: a live holder keeps its rows past the
lease, a SIGKILLed one loses them within the lease, and the relay and the inbox processor pick
them up then."""
from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import event as sa_event
from sqlalchemy import func, select, update

from shared import inbox, leases
from shared.clock import utcnow
from shared.events import new_event
from shared.inbox import InboxProcessor, InboxRow
from shared.outbox import OutboxRow, Relay, one_at_a_time, record
from tests.support.holder import Holder
from tests.support.infra import wait_for

LEASE = 1.5


def test_a_lease_is_renewed_while_held_and_released_at_the_end(database):
    with database.transaction() as session:
        record(session, *[new_event("wave.closed", {"number": n}) for n in range(3)])
    due = [OutboxRow.sent_at.is_(None)]
    duration = timedelta(seconds=0.6)
    with leases.hold(database, OutboxRow, due, limit=10, duration=duration) as held:
        assert len(held.rows) == 3
        time.sleep(3 * duration.total_seconds())  # the heartbeat renews meanwhile
        assert all(held.holds(row) for row in held.rows)
        assert leases.claim(database, OutboxRow, due, limit=10).rows == []
    again = leases.claim(database, OutboxRow, due, limit=10)
    assert len(again.rows) == 3


def test_a_lost_lease_is_known_to_its_holder(database):
    with database.transaction() as session:
        record(session, new_event("wave.closed", {"number": 1}))
    due = [OutboxRow.sent_at.is_(None)]
    first = leases.claim(database, OutboxRow, due, limit=10,
                         duration=timedelta(milliseconds=100))
    time.sleep(0.2)
    second = leases.claim(database, OutboxRow, due, limit=10)
    assert len(second.rows) == 1
    first.renew()
    assert not first.holds(first.rows[0])
    assert second.holds(second.rows[0])
    first.release()  # leaves the new holder's claim alone
    assert leases.claim(database, OutboxRow, due, limit=10).rows == []


def _held_then_reclaimed(database, what: str, reclaim) -> None:
    holder = Holder(database.url, what, LEASE)
    holder.wait_holding()
    # Alive past three leases: the heartbeat keeps the rows its own.
    time.sleep(3 * LEASE)
    assert reclaim() == 0, "a live holder's rows were taken"
    died = holder.kill()
    wait_for(lambda: reclaim(), 10 * LEASE, 0.05, f"the killed {what} holder's rows")
    print(f"{what} on {database.engine.dialect.name}: rows picked up "
          f"{time.monotonic() - died:.2f} s after SIGKILL (lease {LEASE} s)")


def test_a_killed_relay_s_rows_are_published_by_another_within_the_lease(database):
    with database.transaction() as session:
        record(session, *[new_event("wave.closed", {"number": n}) for n in range(3)])
    published: list[dict] = []
    relay = Relay(database, one_at_a_time(published.append), lease=timedelta(seconds=LEASE))
    _held_then_reclaimed(database, "outbox", lambda: relay.relay_due()[0])
    assert sorted(m["data"]["number"] for m in published) == [0, 1, 2]
    assert relay.pending() == 0


def test_a_killed_inbox_processor_s_events_are_processed_by_another(database):
    events = [new_event("wave.closed", {"number": n}) for n in range(3)]
    for event in events:
        inbox.store(database, event.as_message())
    handled: list[str] = []
    processor = InboxProcessor(database, {"wave.closed": lambda e, s: handled.append(e.event_id)},
                               lease=timedelta(seconds=LEASE))
    _held_then_reclaimed(database, "inbox", processor.process_due)
    assert sorted(handled) == sorted(e.event_id for e in events)
    with database.transaction() as session:
        statuses = set(session.scalars(select(InboxRow.status)))
    assert statuses == {inbox.DONE}


def test_a_renewal_never_waits_on_a_row_being_finished(database):
    """The heartbeat skips a row another transaction has locked (the holder marking it done),
    so the two cannot deadlock; the row stays held on the lease it has."""
    with database.transaction() as session:
        record(session, *[new_event("wave.closed", {"number": n}) for n in range(2)])
    lease = leases.claim(database, OutboxRow, [OutboxRow.sent_at.is_(None)], limit=10)
    first, second = lease.rows
    with database.engine.connect() as other:
        other.begin()
        other.execute(select(OutboxRow).where(OutboxRow.id == first.id).with_for_update())
        lease.renew()
        assert lease.holds(first) and lease.holds(second)
        other.rollback()
    lease.renew()
    lease.release()
    assert len(leases.claim(database, OutboxRow, [OutboxRow.sent_at.is_(None)], limit=10).rows) == 2


def test_a_claim_of_columns_takes_the_due_first_in_one_statement_and_hides_them(database):
    events = [new_event("wave.closed", {"number": n}) for n in range(3)]
    inbox.store_many(database, [event.as_message() for event in events])
    with database.transaction() as session:
        last = max(session.scalars(select(InboxRow.id)))
        session.execute(update(InboxRow).where(InboxRow.id == last)
                        .values(next_attempt_at=utcnow() - timedelta(seconds=5)))
    due = [InboxRow.status == inbox.PENDING, InboxRow.next_attempt_at <= utcnow()]
    order = (InboxRow.next_attempt_at, InboxRow.id)
    columns = (InboxRow.id, InboxRow.payload, InboxRow.next_attempt_at)
    first = leases.claim(database, InboxRow, due, limit=2, order=order, columns=columns)
    assert [row.id for row in first.rows] == [last, last - 2]
    assert first.rows[0].payload["data"] == {"number": 2}
    second = leases.claim(database, InboxRow, due, limit=2, order=order, columns=columns)
    assert [row.id for row in second.rows] == [last - 1]
    assert leases.claim(database, InboxRow, due, limit=2, order=order, columns=columns).rows == []
    first.release()
    assert [row.id for row in leases.claim(database, InboxRow, due, limit=5, order=order,
                                           columns=columns).rows] == [last, last - 2]


def test_a_claim_in_index_order_takes_its_planner_setting_in_its_one_round_trip(
        postgresql_database):
    """On PostgreSQL the claim's ``SET LOCAL`` travels in the claim's own query string: the
    setting holds for that statement and is gone after it, on the same pooled connection."""
    database = postgresql_database
    executed: list[str] = []
    database.execute_alone(select(InboxRow.id).limit(1))  # the autocommit pool exists now

    def seen(_conn, _cursor, statement, *_):
        executed.append(statement)

    sa_event.listen(database._autocommit, "after_cursor_execute", seen)
    try:
        inbox.store(database, new_event("wave.closed", {"number": 1}).as_message())
        due = [InboxRow.status == inbox.PENDING, InboxRow.next_attempt_at <= utcnow()]
        lease = leases.claim(database, InboxRow, due, limit=5,
                             order=(InboxRow.next_attempt_at, InboxRow.id),
                             columns=(InboxRow.id, InboxRow.next_attempt_at))
        setting = database.execute_alone(select(func.current_setting("enable_bitmapscan")))
        inside = database.execute_alone(select(func.current_setting("enable_bitmapscan")),
                                        settings="SET LOCAL enable_bitmapscan = off")
    finally:
        sa_event.remove(database._autocommit, "after_cursor_execute", seen)
    assert len(lease.rows) == 1
    claims = [s for s in executed if s.startswith("SET LOCAL enable_bitmapscan = off; UPDATE")]
    assert len(claims) == 1 and not any(s.strip() in ("BEGIN", "COMMIT") for s in executed)
    assert setting == [("on",)] and inside == [("off",)]
