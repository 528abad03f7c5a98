"""The reports' three languages: Babel catalogs read from translations/<language>.po."""
from __future__ import annotations

import gettext
from datetime import UTC, date, datetime
from functools import cache
from io import BytesIO
from pathlib import Path

import pycountry
from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from jinja2 import Environment, PackageLoader, select_autoescape

from services.reports.domain.errors import UnknownLanguage
from shared.campaign import LANGUAGES, campaign_name

CATALOGS = Path(__file__).resolve().parent.parent / "translations"

# The words behind the keys of the read model, in English; the catalogs translate them.
LABELS = {
    "received": "Received",
    "waitlisted": "Waitlisted",
    "under_review": "Under review",
    "info_requested": "Information requested",
    "accepted": "Accepted",
    "declined": "Declined",
    "withdrawn": "Withdrawn",
    "erased": "Erased",
    "municipality": "Municipality",
    "intermediary_city": "Intermediary city",
    "metropolitan_area": "Metropolitan area",
    "province": "Province",
    "region": "Region",
    "association": "Association",
    "other": "Other",
    "right_to_the_city": "Right to the city",
    "food": "Food",
    "housing": "Housing",
    "culture": "Culture",
    "health": "Health",
    "informality": "Informality",
    "gender": "Gender",
    "non_discrimination": "Non-discrimination",
    "climate_justice": "Climate justice",
    "participatory_democracy": "Participatory democracy",
    "migration": "Migration",
    "peace": "Peace",
    "under_10k": "Under 10,000 inhabitants",
    "10k_100k": "10,000 to 100,000 inhabitants",
    "100k_500k": "100,000 to 500,000 inhabitants",
    "500k_1m": "500,000 to 1 million inhabitants",
    "1m_5m": "1 to 5 million inhabitants",
    "5m_and_more": "5 million inhabitants and more",
    "unknown": "Unknown",
    "Africa": "Africa",
    "Asia-Pacific": "Asia-Pacific",
    "Eurasia": "Eurasia",
    "Europe": "Europe",
    "Latin America": "Latin America",
    "Middle East & West Asia": "Middle East & West Asia",
    "North America": "North America",
}


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise UnknownLanguage(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    return language


@cache
def translations(language: str) -> gettext.NullTranslations:
    check_language(language)
    if language == "en":
        return gettext.NullTranslations()
    with open(CATALOGS / f"{language}.po", "rb") as po:
        catalog = read_po(po, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def label(key: object, language: str) -> str:
    text = LABELS.get(str(key))
    return translations(language).gettext(text) if text else str(key)


@cache
def environment(language: str) -> Environment:
    """A jinja2 environment speaking ``language``; one per language, so rendering is reentrant."""
    env = Environment(
        loader=PackageLoader("services.reports", "templates"),
        autoescape=select_autoescape(["html", "svg", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)
    env.globals["campaign"] = campaign_name(language)
    env.filters["label"] = lambda key: label(key, language)
    env.filters["number"] = lambda value, digits=0: number(value, language, digits)
    env.filters["day"] = lambda value: day(value, language)
    env.filters["moment"] = moment
    env.filters["country"] = lambda code: country_name(code, language) if code else "–"
    return env


@cache
def country_names(language: str) -> dict[str, str]:
    """Every ISO 3166-1 code's name in ``language`` (CLDR through Babel; ISO's English name
    where CLDR has none)."""
    territories = Locale.parse(language).territories
    return {c.alpha_2: territories.get(c.alpha_2) or c.name for c in pycountry.countries}


def country_name(code: str, language: str) -> str:
    return country_names(language).get(code, code)


def number(value: float | None, language: str, digits: int = 0) -> str:
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=language)


def day(value: date | datetime | None, language: str) -> str:
    if value is None:
        return "–"
    return format_date(value, format="long", locale=language)


def moment(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value is not None else "–"
