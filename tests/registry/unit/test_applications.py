import pytest

from services.registry.domain import (
    ApplicationStatus,
    IllegalTransition,
    InvalidRequest,
    Member,
    WaveConflict,
    WaveStatus,
)
from services.registry.duplicates import PossibleDuplicate
from tests.registry.unit.fakes import NOW, application, assert_valid, received_data, wave


def under_review(**overrides):
    app = application(**overrides)
    app.triage(wave(status=WaveStatus.OPEN))
    return app


def admitted(app, into=None):
    member = Member.admit(app, into or wave(status=WaveStatus.OPEN), NOW)
    member.id = 77
    return member


def test_a_received_application_keeps_the_form_and_derives_the_region():
    app = application(country="br", government_name="Prefeitura de São Paulo")
    assert app.status is ApplicationStatus.RECEIVED
    assert (app.country, app.region) == ("BR", "Latin America")
    assert app.government_name == "Prefeitura de São Paulo"
    assert app.themes == ["right_to_the_city", "housing"]


def test_an_unknown_country_is_refused():
    with pytest.raises(InvalidRequest, match="ZZ"):
        application(country="ZZ")


def test_with_no_open_wave_a_new_application_is_waitlisted():
    app = application()
    events = app.triage(None)
    assert app.status is ApplicationStatus.WAITLISTED
    assert assert_valid(events) == ["application.waitlisted"]
    assert events[0][1]["reference"] == app.reference


def test_with_an_open_wave_a_new_application_goes_under_review_in_it():
    app = application()
    events = app.triage(wave(5, WaveStatus.OPEN))
    assert (app.status, app.wave) == (ApplicationStatus.UNDER_REVIEW, 5)
    assert assert_valid(events) == ["application.under_review"]
    assert events[0][1]["wave"] == 5


def test_possible_duplicates_travel_with_the_triage_event():
    app = application()
    match = PossibleDuplicate("HRC-1", "Grigny", "member", 100.0)
    events = app.triage(None, [match])
    assert app.possible_duplicates == [match.as_event_data()]
    assert events[0][1]["possible_duplicates"][0]["reference"] == "HRC-1"
    assert_valid(events)


def test_request_info_then_resume_review():
    app = under_review()
    events = app.request_info("Please send the council's resolution.")
    assert app.status is ApplicationStatus.INFO_REQUESTED
    assert assert_valid(events) == ["application.info_requested"]
    events = app.resume_review()
    assert app.status is ApplicationStatus.UNDER_REVIEW
    assert app.info_request is None
    assert assert_valid(events) == ["application.under_review"]


def test_accepting_makes_a_member_in_the_wave_and_says_so_twice():
    app = under_review()
    member = admitted(app)
    events = app.accept(member)
    assert (app.status, app.member_id, app.wave) == (ApplicationStatus.ACCEPTED, 77, 4)
    assert assert_valid(events) == ["application.accepted", "member.joined"]
    joined = events[1][1]
    assert (joined["member_id"], joined["wave"], joined["region"]) == (77, 4, "Europe")
    assert joined["government_name"] == app.government_name


def test_declining_needs_a_reason():
    app = under_review()
    with pytest.raises(InvalidRequest, match="reason"):
        app.decline("  ")
    assert app.status is ApplicationStatus.UNDER_REVIEW
    assert assert_valid(app.decline("Not a local government")) == ["application.declined"]
    assert app.status is ApplicationStatus.DECLINED


@pytest.mark.parametrize("status", ["received", "waitlisted", "under_review", "info_requested"])
def test_any_open_application_can_be_withdrawn(status):
    app = application()
    app.status = ApplicationStatus(status)
    assert assert_valid(app.withdraw("merged with another")) == ["application.withdrawn"]
    assert app.status is ApplicationStatus.WITHDRAWN


@pytest.mark.parametrize(
    "status, action",
    [
        ("accepted", "decline"),
        ("declined", "accept"),
        ("withdrawn", "accept"),
        ("accepted", "accept"),
        ("waitlisted", "accept"),
        ("received", "request_info"),
        ("info_requested", "request_info"),
        ("accepted", "withdraw"),
        ("under_review", "resume_review"),
    ],
)
def test_illegal_transitions_say_why_and_change_nothing(status, action):
    app = application()
    app.status = ApplicationStatus(status)
    calls = {
        "accept": lambda: app.accept(admitted(app)),
        "decline": lambda: app.decline("no"),
        "request_info": lambda: app.request_info("more?"),
        "withdraw": lambda: app.withdraw(None),
        "resume_review": app.resume_review,
    }
    with pytest.raises(IllegalTransition) as raised:
        calls[action]()
    assert app.status.value == status
    message = str(raised.value)
    assert app.reference in message and status in message and "allowed only when" in message


def test_acceptance_goes_into_the_open_wave_or_the_wave_of_the_review():
    app = under_review()  # in wave 4
    with pytest.raises(WaveConflict, match="wave 2"):
        Member.admit(app, wave(2, WaveStatus.CLOSED), NOW)
    closed_own_wave = wave(4, WaveStatus.CLOSED)
    assert Member.admit(app, closed_own_wave, NOW).joined_wave == 4


def test_review_needs_an_open_wave():
    app = application()
    with pytest.raises(WaveConflict, match="not open"):
        app.review(wave(4, WaveStatus.CLOSED))
    assert app.status is ApplicationStatus.RECEIVED


def test_erasing_an_application_removes_personal_data_and_keeps_the_decision():
    app = under_review()
    app.decline("Not eligible")
    app.erase()
    for name in ("contact_name", "contact_email", "authority_name", "commitment"):
        assert "amanda" not in str(getattr(app, name)).lower()
    assert app.contact_phone is None and app.frameworks is None
    assert (app.status, app.decision_reason, app.erased) == (
        ApplicationStatus.DECLINED,
        "Not eligible",
        True,
    )


def test_state_snapshot_holds_nothing_personal():
    app = under_review()
    assert set(app.state()) == {
        "status", "wave", "member_id", "info_request", "decision_reason", "erased"
    }
    assert "amanda" not in str(app.state()).lower()


def test_received_data_fixture_is_a_valid_event():
    assert received_data()["consent"] is True
