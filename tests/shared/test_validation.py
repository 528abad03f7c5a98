"""shared.validation: the edge's rules for text, integers and JSON nesting."""
import pytest

from shared import validation
from shared.validation import Refused, bounded, check_depth, clean_text


@pytest.mark.parametrize(("value", "message"), [
    ("Ana\ud800", validation.LONE_SURROGATE),
    ("\udfffAna", validation.LONE_SURROGATE),
    ("Ana\x00", validation.CONTROL),
])
def test_text_refuses_lone_surrogates_and_nul(value, message):
    with pytest.raises(Refused) as refused:
        clean_text(value)
    assert refused.value.message == message


@pytest.mark.parametrize("char", ["\u202e", "\u202d", "\u2066", "\u200f", "\u200b", "\u200d",
                                  "\ufeff", "\u2060"])
def test_names_refuse_direction_and_zero_width_characters(char):
    assert clean_text(f"Ville{char}") == f"Ville{char}"  # free text may need them
    with pytest.raises(Refused):
        clean_text(f"Ville{char}", name=True)


def test_text_is_nfc_normalised_and_real_scripts_pass():
    assert clean_text("Gene\u0300ve", name=True) == "Genève"
    for name in ("الرباط", "東京都", "Zoé Martin", "Ñuñoa", "São Paulo", "Київ"):
        assert clean_text(name, name=True) == name


def test_integers_are_bounded_to_32_bit_columns():
    assert bounded(validation.INT_MAX) == validation.INT_MAX
    with pytest.raises(Refused):
        bounded(2**40)
    with pytest.raises(Refused):
        bounded(0, minimum=1)


def test_nesting_is_bounded_without_recursion():
    check_depth([[[1]]], limit=3)
    with pytest.raises(Refused):
        check_depth([[[[1]]]], limit=3)
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(Refused):
        check_depth(deep)
    check_depth({"a": [{"b": 1}] * 1000})


def test_the_console_cannot_name_a_spoofed_actor():
    from shared.staff_tokens import StaffToken, actor

    console = StaffToken.from_secret("console", "console-secret")
    assert actor(console, "ana@uclg.example") == "ana@uclg.example"
    assert actor(console, "ana\u202e@uclg.example") == "console"
    assert actor(console, "ana\x00@uclg.example") == "console"
