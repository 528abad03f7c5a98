"""Who the public directory lists is the read model's decision: consent, and a member still."""
import pytest

from services.reports.domain import InMemoryStore
from services.reports.handlers import project
from shared.events import new_event
from tests.reports.streams import at, erased, joined, withdrawn


def listing_changed(member_id: int, consent: bool, when: str):
    return new_event("member.listing_changed",
                     {"member_id": member_id, "listing_consent": consent}, occurred_at=at(when))


def listed(*events) -> bool:
    store = InMemoryStore()
    for event in events:
        project(event, store)
    return store.member(7).listed


def test_a_member_who_consented_on_the_form_is_listed_one_who_did_not_is_not():
    assert listed(joined(7, "2024-03-01T10:00:00", listing_consent=True))
    assert not listed(joined(7, "2024-03-01T10:00:00", listing_consent=False))
    assert not listed(joined(7, "2024-03-01T10:00:00"))


def test_withdrawn_members_are_never_listed_and_erasing_a_contact_changes_nothing():
    consented = joined(7, "2024-03-01T10:00:00", listing_consent=True)
    assert not listed(consented, withdrawn(7, "2024-06-01T10:00:00"))
    assert listed(consented, erased(7, "2024-06-01T10:00:00"))


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0), (0, 2, 1)])
def test_the_latest_change_of_consent_wins_in_any_order_of_arrival(order):
    events = [joined(7, "2024-03-01T10:00:00", listing_consent=True),
              listing_changed(7, False, "2024-04-01T10:00:00"),
              listing_changed(7, True, "2024-05-01T10:00:00")]
    assert listed(*(events[i] for i in order))
    events[2] = listing_changed(7, False, "2024-05-01T10:00:00")
    assert not listed(*(events[i] for i in order))


def test_the_website_comes_with_the_member_and_stays_when_its_contact_is_erased():
    store = InMemoryStore()
    project(joined(7, "2024-03-01T10:00:00", website="https://grigny91.fr",
                   listing_consent=True), store)
    assert store.member(7).website == "https://grigny91.fr"
    # Erasure is about the contact person: the government stays a member, listed.
    project(erased(7, "2024-06-01T10:00:00"), store)
    assert store.member(7).website == "https://grigny91.fr" and store.member(7).listed
