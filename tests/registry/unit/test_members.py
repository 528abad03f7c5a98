import pytest

from services.registry.domain import IllegalTransition, Member, MemberStatus, WaveStatus
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


def test_erasure_anonymises_member_and_applications_and_names_the_references():
    app, member = a_member()
    events = member.erase([app])
    assert assert_valid(events) == ["member.erased"]
    assert events[0][1] == {"member_id": 9, "references": [app.reference]}
    assert member.status is MemberStatus.ERASED
    assert member.contact_email is None and member.contact_name is None
    assert app.erased and app.contact_email != "amanda@example.org"
    # The public side stays: who the government is and when it joined.
    assert (member.government_name, member.joined_wave) == ("Ville de Grigny", 4)


def test_erasing_twice_is_refused():
    app, member = a_member()
    member.erase([app])
    with pytest.raises(IllegalTransition, match="it is erased"):
        member.erase([app])


def test_a_withdrawn_member_can_still_be_erased():
    app, member = a_member()
    member.withdraw("left", NOW)
    assert assert_valid(member.erase([app])) == ["member.erased"]
