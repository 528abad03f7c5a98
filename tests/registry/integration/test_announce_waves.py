"""``hrc waves announce`` on a real database (SQLite and PostgreSQL): the waves' present state
goes to the outbox again, with fresh event ids, dated when each wave opened or closed."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from services.registry import actions
from services.registry.db import registry
from shared.events import parse_event
from shared.outbox import OutboxRow
from tests.registry.integration.test_store import NOW, WAVE_4

ANNOUNCED = datetime(2026, 4, 1, 8, tzinfo=UTC)


def events(database) -> list:
    with database.transaction() as session:
        return [parse_event(row.payload)
                for row in session.scalars(select(OutboxRow).order_by(OutboxRow.id))]


def test_the_open_wave_and_the_closed_ones_are_told_again_once_per_call(database):
    with registry(database) as store:
        actions.create_wave(store, "alice", WAVE_4, NOW)
        actions.create_wave(store, "alice", {**WAVE_4, "number": 5}, NOW)  # planned: not told
    with registry(database) as store:
        actions.open_wave(store, "alice", 4, NOW)
    [first_opening] = [e for e in events(database) if e.type == "wave.opened"]

    with registry(database) as store:
        told = actions.announce_waves(store, "bob", ANNOUNCED)

    assert [(wave.number, event) for wave, event in told] == [
        (1, "wave.closed"), (2, "wave.closed"), (3, "wave.closed"), (4, "wave.opened")]
    repeats = events(database)[-4:]
    assert [(e.type, e.data["number"]) for e in repeats] == [
        ("wave.closed", 1), ("wave.closed", 2), ("wave.closed", 3), ("wave.opened", 4)]
    opening = repeats[-1]
    assert opening.event_id != first_opening.event_id
    assert opening.data["repeated"] is True and first_opening.data["repeated"] is False
    assert opening.data["name"] == first_opening.data["name"]
    # Dated when wave 4 opened (its audit entry), not when it was told again.
    assert datetime.fromisoformat(opening.occurred_at) == NOW
    assert datetime.fromisoformat(repeats[0].occurred_at) == datetime(
        2022, 12, 31, 23, 59, 59, tzinfo=UTC)
    with registry(database) as store:
        trail = store.audit_trail("wave", "4")
    assert (trail[-1].who, trail[-1].action, trail[-1].after) == (
        "bob", "announce", {"status": "open", "event": "wave.opened"})

    with registry(database) as store:
        actions.announce_waves(store, "bob", ANNOUNCED)
    assert len({e.event_id for e in events(database)}) == len(events(database))
    assert sum(e.type == "wave.opened" for e in events(database)) == 3


def test_a_wave_closed_since_is_told_closed_dated_by_its_closing(database):
    with registry(database) as store:
        actions.create_wave(store, "alice", WAVE_4, NOW)
    with registry(database) as store:
        actions.open_wave(store, "alice", 4, NOW)
    closed_at = datetime(2026, 3, 15, 10, tzinfo=UTC)
    with registry(database) as store:
        actions.close_wave(store, "alice", 4, closed_at)
    with registry(database) as store:
        told = actions.announce_waves(store, "bob", ANNOUNCED)
    assert [event for _, event in told] == ["wave.closed"] * 4
    last = events(database)[-1]
    assert (last.type, last.data, datetime.fromisoformat(last.occurred_at)) == (
        "wave.closed", {"number": 4}, closed_at)


def test_a_description_is_stored_in_the_languages_given_and_told_with_the_opening(database):
    described = {**WAVE_4, "description": {"en": "The care wave.", "es": "La ola del cuidado."}}
    with registry(database) as store:
        actions.create_wave(store, "alice", described, NOW)
    with registry(database) as store:
        assert store.wave(4).description == {"en": "The care wave.", "es": "La ola del cuidado."}
        assert store.wave(3).description == {}
        actions.open_wave(store, "alice", 4, NOW)
    with registry(database) as store:
        actions.announce_waves(store, "bob", ANNOUNCED)
    first, repeat = [e for e in events(database) if e.type == "wave.opened"]
    assert first.data["description"] == repeat.data["description"] == {
        "en": "The care wave.", "es": "La ola del cuidado."}
