from __future__ import annotations

import json

import pytest

from shared.events import (
    CATALOGUE,
    SERVICES,
    InvalidEvent,
    new_event,
    parse_event,
    subscriptions,
)

EXAMPLE = {
    "reference": "HRC-2026-7KQ4M", "language": "fr", "submitted_at": "2026-11-24T10:00:00+00:00",
    "government_name": "Ville de Grigny", "country": "FR", "jurisdiction_type": "municipality",
    "population": 28000, "authority_name": "Philippe Rio", "authority_title": "Maire",
    "contact_name": "A. Diallo", "contact_position": "Officer",
    "contact_email": "a@example.org", "themes": ["housing"],
    "commitment": "We commit to human rights in the city.", "consent": True,
}


def test_an_event_survives_the_wire():
    event = new_event("application.received", EXAMPLE)
    again = parse_event(json.loads(json.dumps(event.as_message())))
    assert again == event
    assert again.source == "intake"


@pytest.mark.parametrize("change, field", [
    ({"population": 0}, "population"),
    ({"country": "FRA"}, "country"),
    ({"themes": []}, "themes"),
    ({"themes": ["bananas"]}, "themes"),
    ({"consent": False}, "consent"),
    ({"surprise": 1}, "surprise"),
])
def test_an_invalid_event_cannot_be_written(change, field):
    with pytest.raises(InvalidEvent) as caught:
        new_event("application.received", {**EXAMPLE, **change})
    assert field in caught.value.errors["data"]


@pytest.mark.parametrize("message", [
    None, [], "text",
    {"event_id": "not-a-uuid", "type": "wave.closed", "occurred_at": "2026-01-01T00:00:00+00:00",
     "version": 1, "data": {"number": 1}},
    {"event_id": "3f1c7f7e-8c1a-4b8e-9d3e-1d2b3c4d5e6f", "type": "wave.exploded",
     "occurred_at": "2026-01-01T00:00:00+00:00", "version": 1, "data": {}},
    {"event_id": "3f1c7f7e-8c1a-4b8e-9d3e-1d2b3c4d5e6f", "type": "wave.closed",
     "occurred_at": "2026-01-01T00:00:00", "version": 1, "data": {"number": 1}},
])
def test_an_invalid_message_is_refused_when_received(message):
    with pytest.raises(InvalidEvent):
        parse_event(message)


def test_every_subscriber_is_a_service_and_no_service_hears_itself():
    for event_type in CATALOGUE.values():
        assert event_type.source not in event_type.subscribers
        assert set(event_type.subscribers) <= set(SERVICES)
    assert SERVICES == ("intake", "registry", "notify", "reports", "console")
    # Intake follows the registry's steps for the applicant's page, forgets on erasure, and
    # tells the form which wave is open.
    assert {t.name for t in subscriptions("intake")} == {
        "application.waitlisted", "application.under_review", "application.info_requested",
        "application.accepted", "application.declined", "application.withdrawn",
        "application.erased", "member.erased", "staff.token_issued",
        "wave.opened", "wave.closed"}


def test_an_erasure_scrubs_what_names_the_person_and_keeps_what_the_event_did():
    from shared.erasure import ERASED, Person, scrubbed

    data = {"reference": "HRC-2026-AAAAA", "government_name": "Grigny", "country": "FR",
            "contact_email": "a@example.org", "contact_phone": None, "themes": ["food"],
            "attachments": [{"id": 1, "filename": "cv.pdf"}], "commitment": "x" * 30}
    clean = scrubbed(data)
    assert clean["contact_email"] == ERASED and clean["commitment"] == ERASED
    assert clean["contact_phone"] is None and clean["attachments"][0]["filename"] == ERASED
    assert (clean["government_name"], clean["themes"]) == ("Grigny", ["food"])
    person = Person.of(references=["HRC-2026-AAAAA"], member_ids=[5], emails=["A@Example.org"])
    assert person.named_in(data) and person.named_in({"member_id": 5})
    assert person.named_in({"recipient": "a@example.org"})
    assert not person.named_in({"member_id": 50, "reference": "HRC-2026-BBBBB"})


def test_a_typed_event_is_validated_at_the_edge_and_frozen():
    import dataclasses

    from shared.events import ApplicationInfoProvided

    with pytest.raises(InvalidEvent):
        ApplicationInfoProvided.from_data({"reference": "HRC-2026-ABCDE"})  # no message
    answer = ApplicationInfoProvided.from_data({"reference": "HRC-2026-ABCDE", "message": "Oui"})
    assert answer.attachments == () and answer.as_data()["attachments"] == []
    with pytest.raises(dataclasses.FrozenInstanceError):
        answer.message = "Non"
