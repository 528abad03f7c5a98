"""Typed events (shared.events.TypedEvent): built at the edge, refused there when malformed."""
from __future__ import annotations

import dataclasses
from typing import ClassVar

import pytest
from sqlalchemy import select

from shared import inbox
from shared.events import (
    CATALOGUE,
    TYPED,
    InvalidEvent,
    MemberJoined,
    TypedEvent,
    WaveOpened,
    new_event,
    typed,
)
from shared.inbox import Handlers, InboxProcessor, InboxRow, stored_event

JOINED = {"member_id": 7, "wave": 3, "government_name": "Grigny", "country": "FR",
          "region": "europe", "themes": ["housing"], "contact_email": "a@example.org"}


@pytest.mark.parametrize("name", sorted(t.name for t in CATALOGUE.values() if t.subscribers))
def test_every_consumed_event_has_a_typed_event_with_its_schemas_fields(name):
    kind = TYPED[name]
    schema = CATALOGUE[name].schema()
    data_fields = {f.name for f in dataclasses.fields(kind) if not f.kw_only}
    assert data_fields == set(schema.fields)
    required = {f.name for f in dataclasses.fields(kind) if not f.kw_only
                and f.default is dataclasses.MISSING
                and f.default_factory is dataclasses.MISSING}
    assert required == {n for n, f in schema.fields.items() if f.required}


def test_a_typed_event_carries_its_data_and_its_envelope():
    event = new_event("member.joined", JOINED)
    joined = typed(event)
    assert isinstance(joined, MemberJoined)
    assert (joined.member_id, joined.themes, joined.imported) == (7, ("housing",), False)
    assert (joined.event_id, joined.occurred_at) == (event.event_id, event.occurred_at)
    assert joined.as_data() == event.data
    with pytest.raises(dataclasses.FrozenInstanceError):
        joined.wave = 4


def test_a_payload_stored_before_a_defaulted_field_existed_still_builds():
    event = new_event("wave.opened", {"number": 3, "name": {"en": "a", "fr": "b", "es": "c"},
                                      "theme": {"en": "a", "fr": "b", "es": "c"},
                                      "opens_at": "2024-01-01T00:00:00+00:00"})
    old = {**event.as_message(), "data": {k: v for k, v in event.data.items()
                                          if k not in ("description", "repeated")}}
    opened = typed(stored_event(old))
    assert isinstance(opened, WaveOpened) and opened.repeated is False
    assert opened.description is None


def test_a_stored_payload_missing_a_fact_is_refused_by_name():
    event = new_event("member.joined", JOINED)
    broken = {**event.as_message(), "data": {k: v for k, v in event.data.items()
                                             if k != "member_id"}}
    with pytest.raises(InvalidEvent) as caught:
        typed(stored_event(broken))
    assert caught.value.errors == {"data": {"member_id": ["Missing data for required field."]}}


def test_a_typed_event_is_only_its_own_type():
    with pytest.raises(InvalidEvent):
        MemberJoined.of(new_event("wave.closed", {"number": 1}))


def _processor(database, handled):
    handlers = Handlers()

    @handlers.handles(MemberJoined)
    def joined(event, session):
        handled.append(event)

    return InboxProcessor(database, handlers())  # parks after 5 attempts by default


def test_a_malformed_message_is_parked_at_the_edge_and_reaches_no_handler(database):
    handled = []
    message = {**new_event("member.joined", JOINED).as_message()}
    message["data"] = {**JOINED, "member_id": "seven"}
    assert inbox.store(database, message) is True
    assert _processor(database, handled).process_due() == 0
    with database.transaction() as session:
        row = session.scalars(select(InboxRow)).one()
        assert row.status == inbox.PARKED
        assert "member_id" in row.last_error and "invalid event" in row.last_error
    assert handled == []


def test_a_stored_row_its_typed_event_refuses_is_parked_at_once_with_the_reason(database):
    handled = []
    event = new_event("member.joined", JOINED)
    assert inbox.store(database, event.as_message()) is True
    with database.transaction() as session:
        row = session.scalars(select(InboxRow)).one()
        row.payload = {**event.as_message(), "data": {k: v for k, v in JOINED.items()
                                                      if k != "region"}}
    processor = _processor(database, handled)
    processor.read_event = stored_event
    assert processor.process_due() == 0
    with database.transaction() as session:
        row = session.scalars(select(InboxRow)).one()
        assert (row.status, row.attempts) == (inbox.PARKED, 1)
        assert "region" in row.last_error and "Missing data" in row.last_error
        assert "KeyError" not in row.last_error
    assert handled == []


def test_a_typed_event_whose_default_is_a_factory_is_refused_when_first_built():
    """Stored events are built without the dataclass's __init__, from default values: a
    factory's fact would be missing from the event, so such a class is refused by name."""
    @dataclasses.dataclass(frozen=True)
    class Listed(TypedEvent):
        type: ClassVar[str] = "test.listed"
        names: list = dataclasses.field(default_factory=list)

    try:
        with pytest.raises(TypeError, match="Listed"):
            Listed._from_valid({}, event_id="e-1")
    finally:
        TYPED.pop("test.listed", None)
