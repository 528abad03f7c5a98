"""Language choice, catalogs and country names."""
import re
from pathlib import Path

import pycountry
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from services.intake import i18n

INTAKE = Path(i18n.__file__).parent
PLACEHOLDER = re.compile(r"%\(\w+\)\w")


@pytest.mark.parametrize(
    ("query", "header", "chosen"),
    [
        ("fr", "es", "fr"),
        (" ES ", None, "es"),
        ("de", "es-419,es;q=0.9", "es"),
        (None, "fr-CA,fr;q=0.9,en;q=0.8", "fr"),
        (None, "de-DE,de;q=0.9,es;q=0.5,en;q=0.4", "es"),
        (None, "en;q=0.2, fr;q=0.8", "fr"),
        (None, "fr;q=0, es", "es"),
        (None, "de, it", "en"),
        (None, "", "en"),
        (None, "*", "en"),
        (None, "fr;q=abc, es;q=0.5", "es"),
        (None, None, "en"),
    ],
)
def test_language_from_query_then_accept_language_then_english(query, header, chosen):
    assert i18n.choose_language(query, header) == chosen


def catalog(language):
    path = INTAKE / "translations" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po_file:
        return read_po(po_file, locale=language)


def extracted_message_ids() -> set[str]:
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    return {message for _, _, message, _, _ in extract_from_dir(
        str(INTAKE), method_map=method_map, options_map=options
    )}


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_every_message_of_the_code_and_templates_is_in_each_catalog(language):
    ids = {message.id for message in catalog(language) if message.id}
    assert extracted_message_ids() <= ids


@pytest.mark.parametrize("language", ["fr", "es"])
def test_french_and_spanish_are_fully_translated(language):
    untranslated = [m.id for m in catalog(language) if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []


@pytest.mark.parametrize("language", ["fr", "es"])
def test_translations_keep_the_placeholders(language):
    for message in catalog(language):
        if message.id:
            assert PLACEHOLDER.findall(message.string) == PLACEHOLDER.findall(message.id)


def test_catalogs_are_compiled_in_memory():
    assert i18n.gettext("fr", "This field is required.") == "Ce champ est obligatoire."
    assert i18n.gettext("es", "Country") == "País"
    assert i18n.gettext("en", "Country") == "Country"


def test_every_country_is_listed_once_by_its_name_in_the_page_language():
    for language in ("en", "fr", "es"):
        listed = dict(i18n.countries(language))
        assert len(listed) == len(pycountry.countries)
    assert dict(i18n.countries("fr"))["DE"] == "Allemagne"
    assert dict(i18n.countries("es"))["DE"] == "Alemania"
    assert dict(i18n.countries("en"))["CI"] == "Côte d’Ivoire"


def test_countries_are_in_alphabetical_order_of_the_language():
    names = [name for _, name in i18n.countries("fr")]
    assert names.index("Égypte") < names.index("Espagne") < names.index("États-Unis")
