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
