"""The read model on SQLite and PostgreSQL, fed through the real inbox."""
import random
from dataclasses import asdict

import eventlet
from sqlalchemy import select

from services.reports import db
from services.reports.domain import InMemoryStore, overview
from services.reports.handlers import INBOX_OPTIONS, inbox_handlers, project
from services.reports.reporting import rebuild, snapshot
from services.reports.service import MIGRATIONS
from shared import inbox
from shared.db import Database, migrate
from shared.inbox import InboxProcessor, InboxRow
from shared.retry import Backoff
from tests.reports.streams import at, erased, joined, received, seeded_stream


def feed(database, events, **options) -> None:
    for event in events:
        assert inbox.store(database, event.as_message())
    # As the service runs it: a batch per transaction, read ahead, events taken as stored.
    processor = InboxProcessor(database, inbox_handlers({}), **{**INBOX_OPTIONS, **options})
    while processor.process_due():
        pass
    with database.transaction() as session:
        assert inbox.counts(session) == {"done": len(events)} or not events


def state(model: InMemoryStore) -> dict:
    return {
        "applications": sorted(map(asdict, model.applications()), key=lambda a: a["reference"]),
        "members": sorted(map(asdict, model.members()), key=lambda m: m["member_id"]),
        "decisions": sorted(map(asdict, model.decisions()), key=lambda d: d["event_id"]),
        "waves": sorted(map(asdict, model.waves()), key=lambda w: w["number"]),
    }


def test_the_stored_model_equals_the_pure_projection(database):
    events = seeded_stream()
    random.Random(7).shuffle(events)
    feed(database, events)
    pure = InMemoryStore()
    for event in events:
        project(event, pure)
    stored = snapshot(database)
    assert state(stored) == state(pure)
    end = at("2024-01-08T08:00:00")
    assert overview(stored, end) == overview(pure, end)


def test_rows_written_back_by_many_small_groups_equal_the_pure_projection(database):
    """Groups of a few events: most rows are read back and rewritten (the upsert of known
    rows), not only inserted."""
    events = seeded_stream()
    feed(database, events, group_size=3, batch_size=7)
    pure = InMemoryStore()
    for event in events:
        project(event, pure)
    assert state(snapshot(database)) == state(pure)


def test_two_replicas_projecting_one_inbox_count_each_event_once(postgres):
    """Two processes' inboxes on one PostgreSQL database (their own engines), side by side on
    the same backlog in small groups: each event is projected once, and the model is the pure
    projection (rows created by both at once collide, and are retried)."""
    database_url = postgres("reports").url
    migrate(database_url, MIGRATIONS)
    events = seeded_stream()
    replicas = [Database(database_url) for _ in range(2)]
    inbox.store_many(replicas[0], [event.as_message() for event in events])
    handled: dict[int, int] = {0: 0, 1: 0}

    def run(replica, database):
        processor = InboxProcessor(database, inbox_handlers({}), **{
            **INBOX_OPTIONS, "group_size": 4, "batch_size": 8,
            "backoff": Backoff(0.0, 0.0, max_attempts=50)})
        while True:
            handled[replica] += processor.process_due()
            with database.transaction() as session:
                if not inbox.counts(session).get("pending"):
                    return

    workers = [eventlet.spawn(run, n, database) for n, database in enumerate(replicas)]
    for worker in workers:
        worker.wait()
    with replicas[0].transaction() as session:
        assert inbox.counts(session) == {"done": len(events)}
        attempts = sorted(set(session.scalars(select(InboxRow.attempts))))
    assert sum(handled.values()) == len(events) and all(handled.values()), handled
    pure = InMemoryStore()
    for event in events:
        project(event, pure)
    assert state(snapshot(replicas[0])) == state(pure)
    print(f"handled by each replica: {handled}; attempts per event: {attempts}")
    for database in replicas:
        database.dispose()


def test_a_value_too_long_for_its_column_parks_its_event_alone(postgres):
    """A group's rows go to PostgreSQL as one JSON text, read into the columns' own types: a
    name longer than its column is refused there, never cut short, and only its event is
    parked; the others of its group are projected. (SQLite keeps any length.)"""
    database_url = postgres("reports").url
    migrate(database_url, MIGRATIONS)
    database = Database(database_url)
    events = [joined(1, "2024-01-05T00:00:00"),
              joined(2, "2024-01-06T00:00:00", government_name="Ville " + "x" * 200),
              joined(3, "2024-01-07T00:00:00", government_name="Élancourt")]
    for event in events:
        assert inbox.store(database, event.as_message())
    processor = InboxProcessor(database, inbox_handlers({}), **{
        **INBOX_OPTIONS, "backoff": Backoff(0.0, 0.0, max_attempts=1)})
    while processor.process_due():
        pass
    with database.transaction() as session:
        assert inbox.counts(session) == {"done": 2, "parked": 1}
        (parked,) = inbox.parked(session)
        assert parked.payload["data"]["member_id"] == 2
        assert "value too long" in parked.last_error
    members = sorted(snapshot(database).members(), key=lambda member: member.member_id)
    assert [(m.member_id, m.government_name) for m in members] == [
        (1, "Member 1"), (3, "Élancourt")]
    database.dispose()


def test_a_rebuild_equals_the_incrementally_built_model(database):
    feed(database, seeded_stream())
    incremental = state(snapshot(database))
    with database.transaction() as session:
        db.clear_read_model(session)
    assert state(snapshot(database))["members"] == []
    assert rebuild(database) == len(seeded_stream())
    assert state(snapshot(database)) == incremental
    # And twice in a row changes nothing.
    rebuild(database)
    assert state(snapshot(database)) == incremental


def test_erasure_of_a_contact_empties_the_inbox_copies_and_keeps_the_member(database):
    feed(database, [
        received("R-0007", "2024-01-01T00:00:00", government_name="Villeneuve",
                 contact_email="maire@villeneuve.example"),
        joined(7, "2024-01-05T00:00:00", government_name="Villeneuve", reference="R-0007",
               contact_email="maire@villeneuve.example"),
        joined(70, "2024-01-06T00:00:00", government_name="Saint-Denis", reference="R-0070"),
        erased(7, "2024-02-01T00:00:00", references=["R-0007"]),
    ])
    with database.transaction() as session:
        payloads = [p for (p,) in session.execute(select(InboxRow.payload))]
    assert "maire@" not in repr(payloads) and "C. Person" not in repr(payloads)
    assert "We commit" not in repr(payloads)
    assert "Saint-Denis" in repr(payloads)
    before = state(snapshot(database))
    rebuild(database)
    assert state(snapshot(database)) == before
    member = snapshot(database).member(7)
    assert (member.government_name, member.wave, member.left_at) == ("Villeneuve", 1, None)
