"""The public directory: the members who gave ``listing_consent``, and nothing personal.

Who is listed is the read model's decision (``MemberView.listed``); this module only takes
what may be shown (name, country, UCLG region, wave, themes, year joined, website), filters it
and counts it. Filters come from a public query string: a value that is not one of the
directory's own is ignored, never an error.
"""
from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from io import StringIO
from typing import Any, NamedTuple
from urllib.parse import urlencode

from markupsafe import Markup, escape

from shared.events import THEMES

from .i18n import country_name, country_names, environment, label, translations
from .readmodel import MemberView, WaveView
from .render import _cell
from .worldmap import WIDTH, document_height, map_svg

# The UCLG world sections, as the registry names them on member.joined.
REGIONS = (
    "Africa",
    "Asia-Pacific",
    "Eurasia",
    "Europe",
    "Latin America",
    "Middle East & West Asia",
    "North America",
)
# The open data's columns: stable names, documented in the README. Add at the end only.
FIELDS = (
    "member_id",
    "government_name",
    "country",
    "country_name",
    "region",
    "region_name",
    "wave",
    "themes",
    "theme_names",
    "year_joined",
    "website",
)
# A query value longer than this is no filter of ours: ignored before it is even compared.
LONGEST_VALUE = 40


class Listing(NamedTuple):
    # A tuple: the fingerprint of a thousand of them is one C-level repr.
    member_id: int
    government_name: str
    country: str
    region: str | None
    wave: int | None
    themes: tuple[str, ...]
    year_joined: int | None
    website: str | None

    @classmethod
    def of(cls, member: MemberView) -> Listing:
        chosen = set(member.themes)
        return cls(
            member.member_id,
            member.government_name or "",
            (member.country or "").upper(),
            member.region,
            member.wave,
            tuple(t for t in THEMES if t in chosen),
            member.joined_at.year if member.joined_at else None,
            _safe_url(member.website),
        )


@dataclass(frozen=True)
class Filters:
    region: str | None = None
    theme: str | None = None
    wave: int | None = None

    @property
    def any(self) -> bool:
        return (self.region, self.theme, self.wave) != (None, None, None)

    def query(self, **changes: Any) -> dict[str, str]:
        """These filters, with ``changes``, as query parameters (a region by its slug)."""
        values = {"region": self.region, "theme": self.theme, "wave": self.wave, **changes}
        query = {}
        if values["region"] is not None:
            query["region"] = slug(values["region"])
        if values["theme"] is not None:
            query["theme"] = values["theme"]
        if values["wave"] is not None:
            query["wave"] = str(values["wave"])
        return query

    def as_dict(self) -> dict[str, Any]:
        return {"region": self.region, "theme": self.theme, "wave": self.wave}


@dataclass(frozen=True)
class Directory:
    """Every listed member (``everyone``), and those the filters keep (``members``)."""

    everyone: tuple[Listing, ...]
    filters: Filters
    waves: Mapping[int, WaveView]

    @property
    def members(self) -> list[Listing]:
        return [m for m in self.everyone if _keeps(self.filters, m)]

    def by_region(self) -> dict[str, int]:
        counts = Counter(m.region for m in self.everyone if m.region)
        return {region: counts[region] for region in REGIONS if counts[region]}

    def by_theme(self) -> dict[str, int]:
        counts = Counter(theme for m in self.everyone for theme in m.themes)
        return {theme: counts[theme] for theme in THEMES if counts[theme]}

    def by_wave(self) -> dict[int, int]:
        counts = Counter(m.wave for m in self.everyone if m.wave is not None)
        return dict(sorted(counts.items()))

    def by_country(self, members: Iterable[Listing] | None = None) -> dict[str, int]:
        counts = Counter(m.country for m in (self.members if members is None else members))
        return dict(sorted(counts.items()))

    def fingerprint(self, *parts: object) -> str:
        """Changes whenever anything shown changes: the ETag of each rendering."""
        digest = hashlib.blake2b(digest_size=16)
        digest.update(repr(([tuple(m) for m in self.everyone], self.filters, parts)).encode())
        for number, wave in sorted(self.waves.items()):
            digest.update(repr((number, sorted(wave.name.items()))).encode())
        return digest.hexdigest()


def directory(members: Iterable[MemberView], waves: Iterable[WaveView] = (),
              query: Mapping[str, str] | None = None) -> Directory:
    """The directory of ``members`` (every member the read model knows; it keeps the listed
    ones), filtered by what ``query`` asks that it can answer."""
    everyone = tuple(sorted((Listing.of(m) for m in members if m.listed),
                            key=lambda m: (_sortable(m.government_name), m.member_id)))
    return Directory(everyone, parse_filters(query or {}, everyone),
                     {wave.number: wave for wave in waves})


def parse_filters(query: Mapping[str, str], everyone: Iterable[Listing] = ()) -> Filters:
    """Region (its slug or name), theme (its key) and wave (a number some member has);
    anything else, or too long to be one of those, is left out."""
    region = _value(query, "region")
    theme = _value(query, "theme")
    wave = _value(query, "wave")
    regions = {slug(r): r for r in REGIONS}
    waves = {str(m.wave) for m in everyone if m.wave is not None}
    return Filters(
        region=regions.get(slug(region)) if region else None,
        theme=theme if theme in THEMES else None,
        wave=int(wave) if wave in waves else None,
    )


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# --- in a language -------------------------------------------------------------------------------

def wave_label(number: int | None, language: str) -> str:
    """Short ("Wave 3"), for a card or a filter; the wave's name is its ``wave_title``."""
    if number is None:
        return ""
    return translations(language).gettext("Wave %(number)s") % {"number": number}


def wave_title(number: int, waves: Mapping[int, WaveView], language: str) -> str:
    wave = waves.get(number)
    return (wave.name.get(language) or "") if wave is not None else ""


def as_record(member: Listing, language: str) -> dict[str, Any]:
    """One member as open data: the keys are ``FIELDS``; names in ``language``."""
    return {
        "member_id": member.member_id,
        "government_name": member.government_name,
        "country": member.country,
        "country_name": country_name(member.country, language),
        "region": member.region,
        "region_name": label(member.region, language) if member.region else None,
        "wave": member.wave,
        "themes": list(member.themes),
        "theme_names": [label(theme, language) for theme in member.themes],
        "year_joined": member.year_joined,
        "website": member.website,
    }


def directory_json(found: Directory, language: str) -> dict[str, Any]:
    members = found.members
    return {
        "language": language,
        "filters": found.filters.as_dict(),
        "total": len(members),
        "members": [as_record(m, language) for m in members],
        "counts": {
            "listed": len(found.everyone),
            "by_region": found.by_region(),
            "by_theme": found.by_theme(),
            "by_wave": {str(k): v for k, v in found.by_wave().items()},
            "by_country": found.by_country(found.everyone),
        },
    }


def directory_csv(found: Directory, language: str) -> str:
    out = StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FIELDS)
    for member in found.members:
        record = as_record(member, language)
        record["themes"] = ";".join(record["themes"])
        record["theme_names"] = "; ".join(record["theme_names"])
        writer.writerow([_cell(record[name]) for name in FIELDS])
    return out.getvalue()


# --- the small print -----------------------------------------------------------------------------

def _keeps(filters: Filters, member: Listing) -> bool:
    return ((filters.region is None or member.region == filters.region)
            and (filters.theme is None or filters.theme in member.themes)
            and (filters.wave is None or member.wave == filters.wave))


def _value(query: Mapping[str, str], name: str) -> str | None:
    value = query.get(name)
    if not isinstance(value, str) or not value or len(value) > LONGEST_VALUE:
        return None
    return value.strip()


_SCHEME = re.compile(r"^https?://(www\.)?", re.IGNORECASE)
_WEB_ADDRESS = re.compile(r"^https?://[^\s\"'<>]+$", re.IGNORECASE)


def _safe_url(url: str | None) -> str | None:
    # Shown as a link on a public page: only the web's own schemes, never javascript: or data:.
    return url if url and _WEB_ADDRESS.match(url) else None


def _sortable(name: str) -> str:
    if name.isascii():
        return name.casefold()
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()



# --- pages ----------------------------------------------------------------------------------------

LANGUAGE_NAMES = {"en": "English", "fr": "Français", "es": "Español"}


def directory_map_svg(found: Directory, language: str) -> str:
    _ = translations(language).gettext
    members = found.members
    title = translations(language).ngettext(
        "%(num)s government listed, by country", "%(num)s governments listed, by country",
        len(members)) % {"num": len(members)}
    return map_svg(found.by_country(members), title, _("Listed members per country"),
                   country_names(language))


def render_directory_html(found: Directory, language: str) -> str:
    """The directory page; its links keep the filters and the language (``?lang=``)."""
    query = found.filters.query()

    def link(**changes: Any) -> str:
        lang = changes.pop("lang", language)
        return "?" + urlencode({**found.filters.query(**changes), "lang": lang})

    def data_link(name: str) -> str:
        return name + "?" + urlencode({**query, "lang": language})

    atlas_height = document_height()
    _ = translations(language).gettext
    active = []
    if found.filters.region:
        active.append(label(found.filters.region, language))
    if found.filters.theme:
        active.append(label(found.filters.theme, language))
    if found.filters.wave is not None:
        active.append(wave_label(found.filters.wave, language))
    members = found.members
    return environment(language).get_template("directory.html").render(
        d=found,
        everyone=found.everyone,
        members=members,
        countries=len({m.country for m in found.everyone}),
        active=active,
        language=language,
        language_names=LANGUAGE_NAMES,
        link=link,
        data_link=data_link,
        map_src=data_link("map.svg"),
        map_title=_("World map of the listed members, by country"),
        map_width=WIDTH,
        map_height=atlas_height,
        cards=_cards(members, language),
        wave_label=lambda number: wave_label(number, language),
        wave_title=lambda number: wave_title(number, found.waves, language),
        label_text=lambda key: label(key, language),
    )


def _cards(members: list[Listing], language: str) -> Markup:
    """The members' cards, in HTML. Written here rather than in the template, each phrase
    made and escaped once per rendering: a thousand cards through jinja's loop, gettext and
    filters took three times as long, most of a rendering."""
    _ = translations(language).gettext
    names = country_names(language)
    regions = {region: label(region, language) for region in REGIONS}
    themes_label = escape(_("Themes"))
    tags: dict[tuple[str, ...], str] = {}
    metas: dict[tuple[int | None, int | None], str] = {}
    cards = []
    for m in members:
        where = names.get(m.country, m.country)
        if m.region:
            where += " · " + regions.get(m.region, m.region)
        meta = metas.get((m.wave, m.year_joined))
        if meta is None:
            parts = [wave_label(m.wave, language)] if m.wave is not None else []
            if m.year_joined:
                parts.append(_("member since %(year)s") % {"year": m.year_joined})
            meta = metas[(m.wave, m.year_joined)] = escape(" · ".join(parts))
        tag = tags.get(m.themes)
        if tag is None:
            items = "".join(f"<li>{escape(label(theme, language))}</li>" for theme in m.themes)
            tag = tags[m.themes] = (f'<ul class="tags" aria-label="{themes_label}">{items}</ul>'
                                    if items else "")
        site = ""
        if m.website:
            shown = _SCHEME.sub("", m.website).rstrip("/")
            site = (f'<p class="site"><a href="{escape(m.website)}" rel="noopener nofollow">'
                    f"{escape(shown)}</a></p>")
        cards.append(f'<li class="card" data-country="{escape(m.country)}">'
                     f"<h3>{escape(m.government_name)}</h3>"
                     f'<p class="where">{escape(where)}</p><p class="meta">{meta}</p>'
                     f"{tag}{site}</li>")
    return Markup("\n".join(cards))

