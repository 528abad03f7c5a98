"""Codes become words in the reader's language: countries, themes, dates, numbers, sizes."""
from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from services.notify import labels
from services.notify.mail import TRANSLATIONS_DIR
from shared.events import JURISDICTION_TYPES, THEMES


def spaced(text: str) -> str:
    """CLDR puts no-break spaces (narrow ones too) where a reader sees a space."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


@pytest.mark.parametrize(("language", "name"),
                         [("en", "Germany"), ("fr", "Allemagne"), ("es", "Alemania")])
def test_a_country_is_named_in_the_readers_language(language, name):
    assert labels.country("DE", language) == name
    assert labels.country("de", language) == name


def test_an_unknown_country_code_is_shown_as_it_came():
    assert labels.country("XX", "fr") == "XX"
    assert labels.country(None, "fr") == ""


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "November 24, 2026, 10:00 AM UTC"),
    ("fr", "24 novembre 2026, 10:00 UTC"),
    ("es", "24 de noviembre de 2026, 10:00 UTC"),
])
def test_a_timestamp_reads_to_the_minute_with_its_zone(language, expected):
    assert spaced(labels.moment("2026-11-24T10:00:07.123456+00:00", language)) == expected


def test_a_timestamp_in_another_zone_is_told_in_utc():
    told = spaced(labels.moment("2026-11-24T11:30:00+01:00", "en"))
    assert told == "November 24, 2026, 10:30 AM UTC"


@pytest.mark.parametrize(("value", "expected"), [
    ("2027-03-31", "31 mars 2027"), ("2027-03-31T00:00:00+00:00", "31 mars 2027"),
    ("", ""), ("soon", "soon"),
])
def test_a_day_reads_as_a_date(value, expected):
    assert labels.day(value, "fr") == expected


def test_numbers_and_sizes_in_the_readers_way():
    assert labels.number(28000, "en") == "28,000"
    assert spaced(labels.number(28000, "fr")) == "28 000"
    assert labels.number(28000, "es") == "28.000"
    assert labels.size(627, "en") == "1 kB"
    assert spaced(labels.size(1234, "fr")) == "1 ko"
    assert labels.size(5 * 1024 * 1024, "en") == "5 MB"  # the form's limit, not "5.2 MB"
    assert labels.size(1_600_000, "es") == "1,5 MB"


def test_every_theme_and_type_of_the_catalogue_has_a_label():
    assert set(labels.THEMES) == set(THEMES)
    assert set(labels.JURISDICTIONS) == set(JURISDICTION_TYPES)


@pytest.mark.parametrize("language", ["fr", "es"])
def test_every_label_is_translated(language):
    path = Path(TRANSLATIONS_DIR, language, "LC_MESSAGES", "messages.po")
    with path.open("rb") as handle:
        catalog = read_po(handle)
    for table in labels.LABELS:
        for message in table.values():
            entry = catalog.get(message)
            assert entry is not None and entry.string and not entry.fuzzy, message
