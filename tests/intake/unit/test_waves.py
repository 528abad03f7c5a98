"""Which wave a new application goes to, from the waves intake has heard of."""
from __future__ import annotations

from services.intake.waves import Wave, current_wave

NAME = {"en": "Fourth wave", "fr": "Quatrième vague", "es": "Cuarta ola"}
THEME = {"en": "Care", "fr": "Le soin", "es": "Los cuidados"}


def test_no_wave_known_means_the_waiting_list():
    assert current_wave([]) is None


def test_an_opened_wave_is_the_current_one_until_it_closes():
    assert current_wave([Wave(4, NAME, THEME)]).number == 4
    assert current_wave([Wave(4, NAME, THEME, closed=True)]) is None


def test_a_closing_heard_before_the_opening_leaves_no_wave_open():
    # wave.closed processed first: intake knows the number and that it closed, not its name.
    assert current_wave([Wave(4, closed=True)]) is None
    assert not Wave(4).is_open


def test_of_two_open_waves_the_newer_takes_new_applications():
    assert current_wave([Wave(5, NAME, THEME), Wave(4, NAME, THEME)]).number == 5
    assert current_wave([Wave(4, NAME, THEME), Wave(5, NAME, THEME, closed=True)]).number == 4


def test_a_name_missing_in_a_language_falls_back_to_english():
    wave = Wave(4, {"en": "Fourth wave", "fr": "", "es": "Cuarta ola"}, THEME)
    assert wave.named("fr") == "Fourth wave"
    assert wave.named("es") == "Cuarta ola"
