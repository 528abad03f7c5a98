"""The directory from the read model: who is listed, what is shown, filters, counts, the map."""
import xml.etree.ElementTree as ET

import pytest

from services.reports.domain import InMemoryStore
from services.reports.domain.directory import directory
from services.reports.handlers import project
from services.reports.views.directory import (
    FIELDS,
    directory_csv,
    directory_json,
    directory_map_svg,
    render_directory_html,
)
from services.reports.views.worldmap import DOTS, load_atlas
from tests.reports.streams import joined, withdrawn

SVG = "{http://www.w3.org/2000/svg}"


def model(*events) -> InMemoryStore:
    store = InMemoryStore()
    for event in events:
        project(event, store)
    return store


def members():
    return model(
        joined(1, "2022-05-01T10:00:00", government_name="Ville de Grigny", country="FR",
               region="Europe", wave=1, themes=["peace", "housing"], listing_consent=True,
               website="https://www.grigny91.fr"),
        joined(2, "2023-05-01T10:00:00", government_name="Municipio de Quilmes", country="AR",
               region="Latin America", wave=2, themes=["food"], listing_consent=True),
        joined(3, "2024-05-01T10:00:00", government_name="Gwangju", country="KR",
               region="Asia-Pacific", wave=3, listing_consent=False),
        joined(4, "2024-05-01T10:00:00", government_name="Dakar", country="SN",
               region="Africa", wave=3, listing_consent=True),
        withdrawn(4, "2024-08-01T10:00:00"),
        joined(5, "2024-05-01T10:00:00", government_name="=cmd|' /C calc'!A0", country="MC",
               region="Europe", wave=3, themes=["culture"], listing_consent=True),
        # (A member whose contact was erased stays listed: tests/reports/unit/test_listing.py.)
    ).members()


def test_only_members_who_consented_and_are_still_members_are_listed():
    found = directory(members())
    assert [m.government_name for m in found.everyone] == [
        "=cmd|' /C calc'!A0", "Municipio de Quilmes", "Ville de Grigny"]


def test_what_is_shown_is_public_facts_only_named_in_the_language():
    record = directory_json(directory(members()), "fr")["members"][2]
    assert set(record) == set(FIELDS)
    assert record == {
        "member_id": 1, "government_name": "Ville de Grigny", "country": "FR",
        "country_name": "France", "region": "Europe", "region_name": "Europe", "wave": 1,
        "themes": ["housing", "peace"], "theme_names": ["Logement", "Paix"],
        "year_joined": 2022, "website": "https://www.grigny91.fr",
    }
    spanish = directory_json(directory(members()), "es")["members"][1]
    assert (spanish["country_name"], spanish["region_name"]) == ("Argentina", "América Latina")


@pytest.mark.parametrize("query, names", [
    ({"region": "europe"}, {"Ville de Grigny", "=cmd|' /C calc'!A0"}),
    ({"region": "Latin America"}, {"Municipio de Quilmes"}),
    ({"theme": "food"}, {"Municipio de Quilmes"}),
    ({"wave": "1"}, {"Ville de Grigny"}),
    ({"region": "europe", "theme": "culture"}, {"=cmd|' /C calc'!A0"}),
])
def test_filters(query, names):
    assert {m.government_name for m in directory(members(), query=query).members} == names


@pytest.mark.parametrize("query", [
    {"region": "Atlantis"}, {"theme": "sorcery"}, {"wave": "99"}, {"wave": "one"},
    {"region": "e" * 10_000}, {"theme": "food" + "\x00"},
])
def test_unknown_filter_values_are_ignored(query):
    found = directory(members(), query=query)
    assert not found.filters.any and len(found.members) == 3


def test_counts_per_region_theme_and_wave_are_of_everyone_listed():
    found = directory(members(), query={"theme": "food"})
    assert found.by_region() == {"Europe": 2, "Latin America": 1}
    assert found.by_theme() == {"food": 1, "housing": 1, "culture": 1, "peace": 1}
    assert found.by_wave() == {1: 1, 2: 1, 3: 1}
    assert found.by_country() == {"AR": 1}


def test_csv_keeps_spreadsheets_from_running_a_name():
    lines = directory_csv(directory(members()), "en").splitlines()
    assert lines[0] == ",".join(FIELDS)
    assert lines[1].startswith("5,'=cmd")


def test_the_page_says_when_nobody_is_listed_yet():
    page = render_directory_html(directory([]), "es")
    assert "Todavía no figura ningún miembro" in page


def test_the_fingerprint_follows_what_is_shown():
    base = directory(members()).fingerprint("html", "en")
    assert directory(members()).fingerprint("html", "en") == base
    assert directory(members()).fingerprint("html", "fr") != base
    assert directory(members(), query={"wave": "1"}).fingerprint("html", "en") != base
    assert directory(list(members())[:2]).fingerprint("html", "en") != base


def test_the_map_has_a_shape_for_every_country_with_members_and_a_title_in_the_language():
    found = directory(members())
    root = ET.fromstring(directory_map_svg(found, "es"))
    assert root.find(f"{SVG}title").text == "3 gobiernos en el directorio, por país"
    ids = {e.get("id") for e in root.iter()}
    assert {"country-FR", "country-AR"} <= ids
    # Monaco is smaller than a point of the map: it is a dot.
    assert "dot-MC" in ids and "dot-FR" not in ids
    assert "Francia: 1" in ET.tostring(root, encoding="unicode")


def test_every_country_a_member_can_come_from_is_on_the_map():
    import pycountry

    drawn = load_atlas().shapes
    assert {c.alpha_2 for c in pycountry.countries} - {"AQ"} <= set(drawn) | set(DOTS)
