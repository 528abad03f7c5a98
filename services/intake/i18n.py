"""The page's language: which one a request gets, its message catalog, its country names.

Catalogs are the .po files under ``translations/``, compiled in memory when first needed, so
there is no build step between editing a translation and seeing it.
"""
from __future__ import annotations

import functools
import io
from pathlib import Path

import pycountry
from babel import Locale, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from unidecode import unidecode

from shared.campaign import LANGUAGES

DEFAULT_LANGUAGE = "en"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"
DOMAIN = "messages"


def choose_language(
    requested: str | None, accept_language: str | None, fallback: str = DEFAULT_LANGUAGE
) -> str:
    """``?lang=`` first, then the browser's Accept-Language, then ``fallback`` (English)."""
    if requested and requested.strip().lower() in LANGUAGES:
        return requested.strip().lower()
    found = _negotiated(accept_language or "")
    return found or (fallback if fallback in LANGUAGES else DEFAULT_LANGUAGE)


# Browsers send a handful of distinct headers, and negotiating one cost a tenth of a submission's
# own work: remembered, within a bound that headers made up one by one cannot exceed.
@functools.lru_cache(maxsize=512)
def _negotiated(accept_language: str) -> str | None:
    preferred = accepted_languages(accept_language)
    found = negotiate_locale(preferred, LANGUAGES, sep="-")
    if found is None:
        found = negotiate_locale([tag.split("-")[0] for tag in preferred], LANGUAGES, sep="-")
    return found


def accepted_languages(header: str) -> list[str]:
    """The language tags of an Accept-Language header, best first (q=0 means "not this")."""
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*":
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


@functools.cache
def translations(language: str) -> Translations:
    """The compiled catalog of one language (English falls back to the message ids)."""
    po_path = TRANSLATIONS_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def gettext(language: str, message: str) -> str:
    return translations(language).gettext(message)


@functools.cache
def countries(language: str) -> tuple[tuple[str, str], ...]:
    """Every ISO 3166-1 country as (code, name in the language), in that language's order."""
    names = Locale.parse(language).territories
    listed = [(c.alpha_2, names.get(c.alpha_2) or c.name) for c in pycountry.countries]
    return tuple(sorted(listed, key=lambda item: unidecode(item[1]).casefold()))
