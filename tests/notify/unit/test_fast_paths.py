"""The short cuts of composing and marking a mail give what the long way gives."""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notify import db
from services.notify.delivery import _outcome
from services.notify.mail import (
    _LINE_BREAKS,
    header_safe,
    recipient_addr_spec,
    recipient_address,
)
from shared.events import parse_event


def header_safe_the_long_way(value: str, limit: int) -> str:
    value = _LINE_BREAKS.sub(" ", str(value))
    value = "".join(ch for ch in value if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    value = " ".join(value.split())
    if len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return value


@given(st.text(), st.integers(min_value=1, max_value=300))
def test_a_header_value_is_made_safe_as_the_character_by_character_pass_made_it(value, limit):
    assert header_safe(value, limit) == header_safe_the_long_way(value, limit)


@given(st.from_regex(r"\A[a-zA-Z0-9._+'!#-]{1,20}@[a-zA-Z0-9.-]{1,20}\Z"))
def test_an_address_s_addr_spec_is_the_header_parser_s(email):
    try:
        expected = recipient_address(email).addr_spec
    except Exception as refused:
        with pytest.raises(type(refused)):
            recipient_addr_spec(email)
    else:
        assert recipient_addr_spec(email) == expected


def test_odd_addresses_take_the_parser_s_way():
    assert recipient_addr_spec("zoe.martin@grigny.example") == "zoe.martin@grigny.example"
    quoted = '"zoe.martin"@grigny.example'
    assert recipient_addr_spec(quoted) == recipient_address(quoted).addr_spec
    for bad in ("zoe@", "@grigny.example", "zoe martin@grigny.example", "zoe\n@x.example"):
        with pytest.raises(Exception) as parser:
            recipient_address(bad)
        with pytest.raises(parser.type):
            recipient_addr_spec(bad)


def test_a_sent_mail_s_event_passes_the_catalogue_s_schema():
    row = db.NotificationRow(id=7, event_id="0b6c5e0e-6a55-4c57-9d4a-0d0c7f0a7e11",
                             recipient="zoe.martin@grigny.example", template="wave_opened")
    for type_, error in (("notification.sent", None), ("notification.failed", "550 no")):
        event = _outcome(type_, row, error)
        assert parse_event(event.as_message()).data == event.data
