"""Outbox and inbox on SQLite and PostgreSQL, with a fake publisher (no broker)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from shared import inbox, leases
from shared.events import new_event
from shared.inbox import InboxProcessor, InboxRow
from shared.outbox import OutboxRow, Relay, one_at_a_time, record
from shared.retry import Backoff, utcnow


class FlakyBroker:
    def __init__(self):
        self.up = True
        self.published: list[dict] = []

    def publish(self, message: dict) -> None:
        if not self.up:
            raise ConnectionRefusedError("broker away")
        self.published.append(message)


def test_events_leave_the_outbox_only_if_the_transaction_commits(database):
    broker = FlakyBroker()
    relay = Relay(database, one_at_a_time(broker.publish))
    with pytest.raises(RuntimeError), database.transaction() as session:
        record(session, new_event("wave.closed", {"number": 1}))
        raise RuntimeError("the change failed")
    with database.transaction() as session:
        record(session, new_event("wave.closed", {"number": 2}))
    assert relay.relay_due() == (1, None)
    assert [m["data"]["number"] for m in broker.published] == [2]
    assert relay.pending() == 0


def test_the_relay_keeps_order_and_waits_out_a_broker_outage(database):
    broker = FlakyBroker()
    relay = Relay(database, one_at_a_time(broker.publish), backoff=Backoff(0.0, 0.0))
    with database.transaction() as session:
        record(session, *[new_event("wave.closed", {"number": n}) for n in range(5)])
    broker.up = False
    sent, failure = relay.relay_due()
    assert sent == 0 and isinstance(failure, ConnectionRefusedError)
    with database.transaction() as session:
        row = session.scalars(select(OutboxRow).order_by(OutboxRow.id)).first()
        assert row.attempts == 1 and "broker away" in row.last_error
    broker.up = True
    assert relay.relay_due() == (5, None)
    assert [m["data"]["number"] for m in broker.published] == [0, 1, 2, 3, 4]
    assert relay.relay_due() == (0, None)


def test_a_duplicate_delivery_is_stored_once(database):
    message = new_event("wave.closed", {"number": 1}).as_message()
    assert inbox.store(database, message) is True
    assert inbox.store(database, message) is False
    with database.transaction() as session:
        assert len(session.scalars(select(InboxRow)).all()) == 1


def test_an_invalid_message_is_parked_with_its_error_not_dropped(database):
    assert inbox.store(database, {"type": "wave.closed", "data": {"number": "x"}}) is True
    assert inbox.store(database, b"\x00 not json") is True
    with database.transaction() as session:
        rows = inbox.parked(session)
    assert [r.status for r in rows] == ["parked", "parked"]
    assert "invalid event" in rows[0].last_error


def test_a_failing_handler_leaves_no_partial_effect_and_is_parked_after_max_attempts(database):
    effects = []

    def handler(event, session):
        record(session, new_event("wave.closed", {"number": 99}))  # would be an effect
        effects.append(event.event_id)
        raise ValueError("not yet")

    processor = InboxProcessor(database, {"wave.closed": handler},
                               backoff=Backoff(0.0, 0.0, max_attempts=3))
    inbox.store(database, new_event("wave.closed", {"number": 1}).as_message())
    for _ in range(5):
        processor.process_due()
    assert len(effects) == 3
    with database.transaction() as session:
        (row,) = session.scalars(select(InboxRow)).all()
        assert (row.status, row.attempts) == ("parked", 3)
        assert session.scalars(select(OutboxRow)).all() == []
        assert inbox.replay(session) == 1
    processor.handlers = {"wave.closed": lambda event, session: None}
    assert processor.process_due() == 1


def test_one_failing_event_in_a_group_does_not_hold_back_the_others(database):
    seen: list[int] = []

    def handler(event, session):
        if event.data["number"] == 3:
            raise ValueError("this one is broken")
        record(session, new_event("wave.opened", {
            "number": event.data["number"], "name": {"en": "n", "fr": "n", "es": "n"},
            "theme": {"en": "t", "fr": "t", "es": "t"}, "opens_at": "2026-01-01"}))
        seen.append(event.data["number"])

    processor = InboxProcessor(database, {"wave.closed": handler},
                               backoff=Backoff(0.0, 0.0, max_attempts=1))
    for number in range(6):
        inbox.store(database, new_event("wave.closed", {"number": number}).as_message())
    assert processor.process_due() == 5
    with database.transaction() as session:
        statuses = [r.status for r in session.scalars(select(InboxRow).order_by(InboxRow.id))]
        effects = sorted(r.payload["data"]["number"] for r in session.scalars(select(OutboxRow)))
    assert statuses == ["done", "done", "done", "parked", "done", "done"]
    # The group's first try was rolled back whole: each effect exists once.
    assert effects == [0, 1, 2, 4, 5]


def test_erasure_scrubs_sent_outbox_rows_and_inbox_rows_about_the_person(database):
    from shared.erasure import ERASED, Person, scrub_events

    about = new_event("member.joined", {"member_id": 5, "wave": 1, "government_name": "Grigny",
                                        "country": "FR", "region": "Europe",
                                        "contact_email": "a@example.org", "contact_name": "A"})
    other = new_event("member.joined", {"member_id": 50, "wave": 1, "government_name": "Other",
                                        "country": "FR", "region": "Europe",
                                        "contact_email": "b@example.org", "contact_name": "B"})
    with database.transaction() as session:
        record(session, about, other)
    Relay(database, one_at_a_time(FlakyBroker().publish)).relay_due()
    inbox.store(database, about.as_message())
    with database.transaction() as session:
        record(session, new_event("member.joined", {**about.data, "member_id": 6}))
        assert scrub_events(session, Person.of(member_ids=[5, 6])) == 2
    with database.transaction() as session:
        rows = {(r.payload["data"]["member_id"], r.sent_at is not None): r.payload["data"]
                for r in session.scalars(select(OutboxRow))}
        stored = session.scalars(select(InboxRow)).one().payload["data"]
    assert rows[(5, True)]["contact_email"] == ERASED and stored["contact_name"] == ERASED
    assert rows[(5, True)]["government_name"] == "Grigny"
    assert rows[(50, True)]["contact_email"] == "b@example.org"
    assert rows[(6, False)]["contact_email"] == "a@example.org"  # not published yet: left


def test_stored_events_are_taken_as_kept_and_a_replayed_invalid_one_is_parked_again(database):
    seen: list[tuple] = []
    processor = InboxProcessor(
        database, {"wave.closed": lambda event, session: seen.append(
            (event.event_id, event.type, event.data))},
        backoff=Backoff(0.0, 0.0, max_attempts=1), read_event=inbox.stored_event)
    event = new_event("wave.closed", {"number": 7})
    inbox.store(database, event.as_message())
    inbox.store(database, {"type": "wave.closed", "data": {"number": "x"}})
    assert processor.process_due() == 1
    assert seen == [(event.event_id, "wave.closed", {"number": 7})]
    with database.transaction() as session:
        assert inbox.replay(session) == 1
    assert processor.process_due() == 0
    with database.transaction() as session:
        assert inbox.counts(session) == {"done": 1, "parked": 1}


def test_a_group_is_prepared_in_its_own_transaction_before_its_handlers(database):
    calls: list = []

    def prepare(events, session):
        calls.append(("prepare", [e.data["number"] for e in events], session))

    processor = InboxProcessor(
        database, {"wave.closed": lambda event, session: calls.append(
            ("handle", event.data["number"], session))},
        group_size=10, prepare=prepare)
    for number in range(3):
        inbox.store(database, new_event("wave.closed", {"number": number}).as_message())
    assert processor.process_due() == 3
    assert [c[:2] for c in calls] == [("prepare", [0, 1, 2]), ("handle", 0), ("handle", 1),
                                      ("handle", 2)]
    assert len({id(c[2]) for c in calls}) == 1


def test_the_due_are_claimed_first_and_a_finished_lease_writes_nothing_more(database):
    for number in range(3):
        inbox.store(database, new_event("wave.closed", {"number": number}).as_message())
    with database.transaction() as session:
        # The oldest row was retried and is due last.
        first = min(session.scalars(select(InboxRow.id)))
        session.execute(update(InboxRow).where(InboxRow.id == first)
                        .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        session.execute(update(InboxRow).where(InboxRow.id != first)
                        .values(next_attempt_at=utcnow() - timedelta(seconds=5)))
    due = [InboxRow.status == inbox.PENDING, InboxRow.next_attempt_at <= utcnow()]
    lease = leases.claim(database, InboxRow, due, limit=2,
                         order=(InboxRow.next_attempt_at, InboxRow.id))
    assert first not in [row.id for row in lease.rows] and len(lease.rows) == 2
    lease.finished(lease.rows)
    assert not any(lease.holds(row) for row in lease.rows)
    lease.release()  # nothing left to give back: the claims stay as the worker left them
    with database.transaction() as session:
        claimed = session.scalars(select(InboxRow.id).where(
            InboxRow.claimed_until.is_not(None))).all()
    assert sorted(claimed) == sorted(row.id for row in lease.rows)


def test_a_failing_event_in_a_large_group_costs_a_few_halves_not_one_transaction_each(database):
    calls: list[int] = []

    def handler(event, session):
        calls.append(event.data["number"])
        if event.data["number"] == 11:
            raise ValueError("this one is broken")
        record(session, new_event("wave.closed", {"number": event.data["number"]}))

    processor = InboxProcessor(database, {"wave.closed": handler}, group_size=16,
                               backoff=Backoff(0.0, 0.0, max_attempts=1))
    inbox.store_many(database, [new_event("wave.closed", {"number": n}).as_message()
                                for n in range(16)])
    assert processor.process_due() == 15
    with database.transaction() as session:
        statuses = [r.status for r in session.scalars(select(InboxRow).order_by(InboxRow.id))]
        effects = sorted(r.payload["data"]["number"] for r in session.scalars(select(OutboxRow)))
    assert statuses == ["done"] * 11 + ["parked"] + ["done"] * 4
    assert effects == [n for n in range(16) if n != 11]  # the failed tries left nothing
    # The group, then halves down to the broken one alone, each in claim order: 9
    # transactions where one event at a time took 17.
    assert calls == [*range(12), *range(8), *range(8, 12), *range(8, 12), 8, 9, 10, 11, 10, 11,
                     12, 13, 14, 15]


def _zero_waits_for_one(handled: list[int]):
    """A handler of wave.closed whose number 0 waits until number 1 is handled."""
    def handler(event, session):
        number = event.data["number"]
        if number == 0 and 1 not in handled:
            raise inbox.Waiting("wave 1 first")
        handled.append(number)

    return handler


def test_another_claim_is_due_only_after_a_full_one_or_a_wake_of_waiting_events(database):
    """``more_due`` ends the inbox loop's step: no claim that can only come back empty after a
    lone event, one more after a full claim or once handling woke an event that waited."""
    handled: list[int] = []
    handler = _zero_waits_for_one(handled)
    processor = InboxProcessor(database, {"wave.closed": handler}, batch_size=2,
                               wait_seconds=60)
    inbox.store(database, new_event("wave.closed", {"number": 0}).as_message())
    assert processor.process_due() == 0 and not processor.more_due  # it waits, for a minute
    inbox.store(database, new_event("wave.closed", {"number": 1}).as_message())
    assert processor.process_due() == 1 and processor.more_due  # 0 is woken: due again now
    assert processor.process_due() == 1 and handled == [1, 0] and not processor.more_due
    inbox.store_many(database, [new_event("wave.closed", {"number": n}).as_message()
                                for n in (2, 3, 4)])
    assert processor.process_due() == 2 and processor.more_due  # a full claim
    assert processor.process_due() == 1 and not processor.more_due
    assert handled == [1, 0, 2, 3, 4]


def test_on_postgresql_the_done_mark_wakes_what_waited_in_its_own_statement(
        postgresql_database):
    """No wake of its own after a handled claim: the done mark's statement wakes the waiting
    event, seen due at the commit of the effects it waited for (SQLite wakes after the claim,
    in a statement of its own: the test above)."""
    database = postgresql_database
    handled: list[int] = []
    handler = _zero_waits_for_one(handled)
    processor = InboxProcessor(database, {"wave.closed": handler}, wait_seconds=60)
    inbox.store(database, new_event("wave.closed", {"number": 0}).as_message())
    assert processor.process_due() == 0
    inbox.store_many(database, [new_event("wave.closed", {"number": n}).as_message()
                                for n in (1, 2)])
    statements: list[str] = []

    def seen(_connection, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    for engine in (database.engine, database._autocommit_engine()):
        event.listen(engine, "before_cursor_execute", seen)
    try:
        assert processor.process_due() == 2 and processor.more_due
    finally:
        for engine in (database.engine, database._autocommit_engine()):
            event.remove(engine, "before_cursor_execute", seen)
    updates = [s for s in statements if "UPDATE inbox" in s]
    assert len(updates) == 2 and "FOR UPDATE SKIP LOCKED" in updates[0]  # the claim
    assert updates[1].startswith("WITH done AS (UPDATE inbox SET status")
    assert processor.process_due() == 1 and handled == [1, 2, 0]
    with database.transaction() as session:
        assert inbox.counts(session) == {"done": 3}
