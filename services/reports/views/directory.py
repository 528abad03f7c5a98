"""The public directory as people and programs see it: the page, the open data (JSON, CSV)
and the map, in a language. What is listed and how it is filtered is ``domain.directory``.
"""
from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from io import StringIO
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup, escape

from services.reports.domain.directory import REGIONS, Directory, Listing
from services.reports.domain.readmodel import WaveView

from .i18n import country_name, country_names, environment, label, translations
from .render import _cell
from .worldmap import WIDTH, document_height, map_svg

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
_SCHEME = re.compile(r"^https?://(www\.)?", re.IGNORECASE)


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
