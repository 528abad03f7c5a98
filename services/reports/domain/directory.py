"""The public directory: the members who gave ``listing_consent``, and nothing personal.

Who is listed is the read model's decision (``MemberView.listed``); this module only takes
what may be shown (name, country, UCLG region, wave, themes, year joined, website), filters it
and counts it. Filters come from a public query string: a value that is not one of the
directory's own is ignored, never an error. Its pages, open data and map are
``views.directory``.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from shared.events import THEMES

from .readmodel import MemberView, WaveView

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


_WEB_ADDRESS = re.compile(r"^https?://[^\s\"'<>]+$", re.IGNORECASE)


def _safe_url(url: str | None) -> str | None:
    # Shown as a link on a public page: only the web's own schemes, never javascript: or data:.
    return url if url and _WEB_ADDRESS.match(url) else None


def _sortable(name: str) -> str:
    if name.isascii():
        return name.casefold()
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
