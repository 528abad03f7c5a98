"""Intake's projection of the waves, through its inbox, on SQLite and on PostgreSQL: at least
once, in any order."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.intake import db as intake_db
from services.intake import waves
from services.intake.handlers import handlers
from services.intake.service import MIGRATIONS
from shared import db as shared_db
from shared import inbox
from shared.events import new_event

OPENED_AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
WAVE_4 = {
    "number": 4,
    "name": {"en": "Fourth wave (2026)", "fr": "Quatrième vague (2026)", "es": "Cuarta ola (2026)"},
    "theme": {"en": "Care", "fr": "Le soin", "es": "Los cuidados"},
    "opens_at": "2026-03-01T00:00:00+00:00",
    "closes_at": "2026-12-31T23:59:59+00:00",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/intake.db"
    else:
        url = request.getfixturevalue("postgres")("intake").url
    shared_db.migrate(url, MIGRATIONS)
    yield shared_db.database_for(url)
    shared_db.dispose_all()


def opened(data=None, at=OPENED_AT):
    return new_event("wave.opened", data or WAVE_4, occurred_at=at)


def closed(number=4, at=OPENED_AT + timedelta(days=90)):
    return new_event("wave.closed", {"number": number}, occurred_at=at)


def deliver(database, *events):
    """Each event stored in the inbox as the broker hands it over, then processed."""
    for event in events:
        inbox.store(database, event.as_message())
    inbox.InboxProcessor(database, handlers({})).process_due()


def current(database):
    with database.transaction() as session:
        return waves.current_wave(intake_db.known_waves(session))


def test_an_opened_wave_is_the_one_the_form_shows(database):
    deliver(database, opened())
    wave = current(database)
    assert wave.number == 4 and wave.named("fr") == "Quatrième vague (2026)"
    assert wave.theme_in("es") == "Los cuidados"
    assert wave.closes_at == datetime(2026, 12, 31, 23, 59, 59)


def test_the_same_opening_delivered_twice_is_one_wave(database):
    event = opened()
    deliver(database, event, event)
    deliver(database, opened())  # the registry's relay sent it again, under a new id
    with database.transaction() as session:
        assert [w.number for w in intake_db.known_waves(session)] == [4]
    assert current(database).number == 4


def test_a_closed_wave_leaves_the_waiting_list(database):
    deliver(database, opened(), closed())
    assert current(database) is None


def test_a_closing_processed_before_its_opening_still_closes_the_wave(database):
    deliver(database, closed())
    assert current(database) is None
    deliver(database, opened())
    assert current(database) is None
    with database.transaction() as session:
        [wave] = intake_db.known_waves(session)
    assert wave.closed and wave.named("en") == "Fourth wave (2026)"


def test_an_older_opening_arriving_late_does_not_undo_a_newer_one(database):
    renamed = {**WAVE_4, "name": {**WAVE_4["name"], "en": "Wave 4: care"}}
    deliver(database, opened(renamed, at=OPENED_AT + timedelta(minutes=5)), opened())
    assert current(database).named("en") == "Wave 4: care"


def test_the_next_wave_takes_over_once_the_last_one_closed(database):
    wave_5 = {**WAVE_4, "number": 5, "closes_at": None}
    deliver(database, opened(), closed(), opened(wave_5, at=OPENED_AT + timedelta(days=200)))
    wave = current(database)
    assert wave.number == 5 and wave.closes_at is None


def test_waves_told_again_rebuild_an_emptied_projection_and_change_nothing_known(database):
    """hrc waves announce: fresh event ids, dated when each wave opened or closed."""
    deliver(database, opened(), closed(3))
    with database.transaction() as session:
        before = intake_db.known_waves(session)
        session.execute(intake_db.WaveRow.__table__.delete())
    assert current(database) is None

    repeat = {**WAVE_4, "repeated": True}
    deliver(database, opened(repeat), closed(3))
    assert current(database).named("es") == "Cuarta ola (2026)"
    deliver(database, opened(repeat), closed(3))  # told again once more
    with database.transaction() as session:
        assert intake_db.known_waves(session) == before


def test_a_description_comes_with_the_opening_and_a_later_opening_replaces_it(database):
    deliver(database, opened({**WAVE_4, "description": {"fr": "Le soin, partout."}}))
    assert current(database).description_in("fr") == ["Le soin, partout."]
    assert current(database).description_in("en") == []
    deliver(database, opened({**WAVE_4, "description": None}, at=OPENED_AT + timedelta(hours=1)))
    assert current(database).texts is None
