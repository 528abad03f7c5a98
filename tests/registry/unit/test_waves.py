from datetime import UTC, datetime

import pytest

from services.registry.domain import (
    ApplicationStatus,
    IllegalTransition,
    InvalidRequest,
    Member,
    Wave,
    WaveConflict,
    WaveStatus,
)
from tests.registry.unit.fakes import NOW, application, assert_valid, wave

NAMES = {"en": "Wave 4", "fr": "Vague 4", "es": "Ola 4"}


def test_a_wave_needs_its_name_and_theme_in_the_three_languages():
    with pytest.raises(InvalidRequest, match="theme.*es"):
        Wave.create(4, NAMES, {"en": "Care", "fr": "Soins"}, NOW, None)


def test_a_wave_closes_after_it_opens():
    with pytest.raises(InvalidRequest, match="closes after"):
        Wave.create(4, NAMES, NAMES, NOW, datetime(2020, 1, 1, tzinfo=UTC))


def test_wave_numbers_are_unique():
    with pytest.raises(WaveConflict, match="already exists"):
        Wave.create(4, NAMES, NAMES, NOW, None, existing=[wave(4)])


def test_opening_a_wave_moves_the_waitlist_under_review_in_it():
    waitlist = [application(), application()]
    for app in waitlist:
        app.triage(None)
    new = wave(4)
    events = new.open([wave(3, WaveStatus.CLOSED), new], waitlist)
    assert new.status is WaveStatus.OPEN
    assert assert_valid(events) == [
        "wave.opened",
        "application.under_review",
        "application.under_review",
    ]
    assert all(a.status is ApplicationStatus.UNDER_REVIEW and a.wave == 4 for a in waitlist)
    opened = events[0][1]
    assert opened["name"] == {"en": "Wave 4", "fr": "Vague 4", "es": "Ola 4"}


def test_at_most_one_wave_is_open():
    open_one, new = wave(4, WaveStatus.OPEN), wave(5)
    with pytest.raises(WaveConflict, match="wave 4 is open"):
        new.open([open_one, new])
    assert (new.status, open_one.status) == (WaveStatus.PLANNED, WaveStatus.OPEN)


def test_closing_then_opening_the_next():
    four, five = wave(4, WaveStatus.OPEN), wave(5)
    assert assert_valid(four.close()) == ["wave.closed"]
    assert assert_valid(five.open([four, five]))[0] == "wave.opened"
    assert (four.status, five.status) == (WaveStatus.CLOSED, WaveStatus.OPEN)


@pytest.mark.parametrize("status, action", [("open", "open"), ("closed", "open"),
                                            ("planned", "close"), ("closed", "close")])
def test_wave_illegal_transitions(status, action):
    w = wave(4, WaveStatus(status))
    with pytest.raises(IllegalTransition, match=f"cannot {action} wave 4: it is {status}"):
        w.open([w]) if action == "open" else w.close()


def test_active_members_take_part_in_a_newly_opened_wave():
    app = application()
    app.triage(wave(4, WaveStatus.OPEN))
    member = Member.admit(app, wave(4, WaveStatus.OPEN), NOW)
    withdrawn = Member.admit(app, wave(4, WaveStatus.OPEN), NOW)
    withdrawn.withdraw("left", NOW)
    five = wave(5)
    five.open([five], members=[member, withdrawn])
    assert (member.joined_wave, member.waves) == (4, [4, 5])
    assert withdrawn.waves == [4]


# --- telling the waves again (hrc waves announce) ---------------------------------------------

OPENED_AT = datetime(2026, 2, 1, 9, 30, tzinfo=UTC)
CLOSED_AT = datetime(2026, 6, 30, 17, 0, tzinfo=UTC)


def test_the_open_wave_is_told_again_as_a_repeat_dated_when_it_opened():
    told = wave(4, WaveStatus.OPEN).announcement(OPENED_AT, None)
    assert (told.type, told.occurred_at) == ("wave.opened", OPENED_AT)
    assert told.data["repeated"] is True
    assert told.data["name"]["fr"] == "Vague 4"
    assert assert_valid([(told.type, told.data)]) == ["wave.opened"]


def test_a_closed_wave_is_told_closed_dated_when_it_closed_never_as_an_opening():
    told = wave(3, WaveStatus.CLOSED).announcement(OPENED_AT, CLOSED_AT)
    assert (told.type, told.data, told.occurred_at) == ("wave.closed", {"number": 3}, CLOSED_AT)
    assert assert_valid([(told.type, told.data)]) == ["wave.closed"]


def test_without_an_audit_entry_a_repeat_is_dated_by_the_waves_own_dates():
    # The historic waves were stored closed by the first migration: nobody opened or closed them.
    historic = wave(2, WaveStatus.CLOSED)
    assert historic.announcement(None, None).occurred_at == historic.closes_at
    assert wave(4, WaveStatus.OPEN).announcement(None, None).occurred_at == wave(4).opens_at


def test_a_planned_wave_is_not_told():
    assert wave(5).announcement(None, None) is None


# --- a wave's description, in the languages it was written in ---------------------------------

def test_a_description_is_kept_in_the_languages_given_and_travels_with_the_opening():
    new = Wave.create(4, NAMES, NAMES, NOW, None,
                      description={"fr": "  La vague du soin. ", "es": " ", "en": None})
    assert new.description == {"fr": "La vague du soin."}
    [(kind, data), *_] = new.open([new])
    assert (kind, data["description"]) == ("wave.opened", {"fr": "La vague du soin."})
    assert assert_valid([(kind, data)]) == ["wave.opened"]


def test_a_wave_without_a_description_says_none():
    new = Wave.create(4, NAMES, NAMES, NOW, None)
    assert new.description == {} and new.opened_event_data()["description"] is None


def test_a_description_longer_than_2000_characters_is_refused():
    with pytest.raises(InvalidRequest, match="description in es is longer than 2000"):
        Wave.create(4, NAMES, NAMES, NOW, None, description={"es": "x" * 2001})
