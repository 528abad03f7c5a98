import pytest

from services.registry.domain import (
    IllegalTransition,
    InvalidRequest,
    Member,
    MemberStatus,
    WaveStatus,
)
from tests.registry.unit.fakes import NOW, application, assert_valid, wave


def a_member():
    app = application()
    app.triage(wave(4, WaveStatus.OPEN))
    member = Member.admit(app, wave(4, WaveStatus.OPEN), NOW)
    member.id = 9
    app.accept(member)
    return app, member


def test_a_member_withdraws_once():
    _, member = a_member()
    assert assert_valid(member.withdraw("council decision", NOW)) == ["member.withdrawn"]
    assert member.status is MemberStatus.WITHDRAWN
    with pytest.raises(IllegalTransition, match="it is withdrawn"):
        member.withdraw(None, NOW)


def test_erasure_removes_the_contact_person_and_keeps_the_member():
    app, member = a_member()
    events = member.erase([app], NOW)
    assert assert_valid(events) == ["member.erased"]
    assert events[0][1] == {"member_id": 9, "references": [app.reference]}
    assert (member.status, member.waves, member.erased_at) == (MemberStatus.ACTIVE, [4], NOW)
    assert member.contact_email is None and member.contact_name is None
    assert app.erased and app.contact_email != "amanda@example.org"
    # The public side stays: who the government is and when it joined.
    assert (member.government_name, member.joined_wave) == ("Ville de Grigny", 4)


def test_erasing_twice_is_refused_until_a_new_contact_is_set():
    app, member = a_member()
    member.erase([app], NOW)
    with pytest.raises(IllegalTransition, match="it is erased"):
        member.erase([app], NOW)
    events = member.replace_contact("Nouvelle Personne", "nouvelle@grigny.example", None)
    assert assert_valid(events) == ["member.contact_changed"]
    assert events[0][1]["language"] == member.language
    assert member.erase([app], NOW)


def test_a_withdrawn_member_can_still_be_erased():
    app, member = a_member()
    member.withdraw("left", NOW)
    assert assert_valid(member.erase([app], NOW)) == ["member.erased"]
    assert member.status is MemberStatus.WITHDRAWN


def test_replacing_the_contact_after_elections():
    _, member = a_member()
    events = member.replace_contact("  Nuevo Alcalde ", "alcaldia@example.org", "es")
    assert events[0][1] == {"member_id": 9, "contact_name": "Nuevo Alcalde",
                            "contact_email": "alcaldia@example.org", "language": "es",
                            "government_name": "Ville de Grigny"}
    assert (member.contact_name, member.language) == ("Nuevo Alcalde", "es")
    with pytest.raises(InvalidRequest):
        member.replace_contact("", "x@example.org", None)
    with pytest.raises(InvalidRequest):
        member.replace_contact("A", "x@example.org", "de")


def test_an_applicant_who_never_became_a_member_is_erased_once_decided():
    app = application()
    app.id = 12
    app.triage(wave(4, WaveStatus.OPEN))
    with pytest.raises(IllegalTransition, match="it is under_review"):
        app.erase_applicant()
    app.decline("out of scope")
    assert assert_valid(app.erase_applicant()) == ["application.erased"]
    assert app.erased and app.contact_email == "[erased]"
    with pytest.raises(IllegalTransition, match="it is erased"):
        app.erase_applicant()
    member_app, _ = a_member()
    with pytest.raises(IllegalTransition, match="it is accepted"):
        member_app.erase_applicant()
