"""A member's consent to the public directory: given on the form, changed by staff."""
import pytest

from services.registry.domain import (
    Application,
    IllegalTransition,
    Member,
    MemberStatus,
    WaveStatus,
)
from tests.registry.unit.fakes import NOW, assert_valid, received_data, wave


def a_member(**overrides) -> Member:
    app = Application.receive(received_data(**overrides))
    app.id = 41
    app.triage(wave(4, WaveStatus.OPEN))
    member = Member.admit(app, wave(4, WaveStatus.OPEN), NOW)
    member.id = 7
    return member


@pytest.mark.parametrize("given", [True, False])
def test_the_member_keeps_the_forms_answer_and_member_joined_carries_it(given):
    member = a_member(listing_consent=given)
    assert member.listing_consent is given
    data = member.joined_event_data()
    assert (data["listing_consent"], data["website"]) == (given, "https://www.grigny91.fr")
    assert_valid([("member.joined", data)])


def test_an_application_that_did_not_say_is_not_listed():
    assert "listing_consent" not in received_data()
    assert a_member().listing_consent is False


def test_consent_is_withdrawn_and_given_again_each_change_one_event():
    member = a_member(listing_consent=True)
    events = member.change_listing(False)
    assert assert_valid(events) == ["member.listing_changed"]
    assert events[0][1] == {"member_id": 7, "listing_consent": False}
    assert member.change_listing(False) == []
    assert member.change_listing(True)[0][1]["listing_consent"] is True


def test_a_withdrawn_member_may_change_it_and_so_may_one_whose_contact_was_erased():
    member = a_member(listing_consent=True)
    member.withdraw("council decision", NOW)
    assert member.change_listing(False)
    member.erase([], NOW)  # the contact person is erased; the government is still a member
    assert member.change_listing(True)
    member.status = MemberStatus.ERASED  # erased under the earlier rule: out of the campaign
    with pytest.raises(IllegalTransition, match="it is erased"):
        member.change_listing(False)
