"""The public directory's routes on a reports container, on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
import os
import time
import xml.etree.ElementTree as ET

import pytest
import requests
from nameko.containers import ServiceContainer
from nameko.testing.services import restrict_entrypoints

from services.reports.handlers import inbox_handlers
from services.reports.service import MIGRATIONS, ReportsService
from services.reports.views.directory import FIELDS
from shared import inbox, topology
from shared.db import database_for, migrate
from shared.events import new_event
from shared.inbox import InboxProcessor
from tests.reports.integration.test_read_model import feed
from tests.reports.streams import at, erased, joined, received, wave_opened, withdrawn
from tests.support import infra

SVG = "{http://www.w3.org/2000/svg}"


def listing_changed(member_id: int, consent: bool, when: str):
    return new_event("member.listing_changed",
                     {"member_id": member_id, "listing_consent": consent}, occurred_at=at(when))


MEMBERS = [
    joined(1, "2022-05-01T10:00:00", government_name="Ville de Grigny", country="FR",
           region="Europe", wave=1, themes=["housing", "peace"], listing_consent=True,
           website="https://www.grigny91.fr", contact_email="amanda@grigny.example",
           contact_name="Amanda Secret"),
    joined(2, "2023-05-01T10:00:00", government_name="Municipio de Quilmes", country="AR",
           region="Latin America", wave=2, themes=["food"], listing_consent=True,
           website="javascript:alert(1)"),
    joined(3, "2024-05-01T10:00:00", government_name="Gwangju", country="KR",
           region="Asia-Pacific", wave=3, themes=["peace"], listing_consent=False),
    joined(4, "2024-05-01T10:00:00", government_name="Left City", country="SN",
           region="Africa", wave=3, listing_consent=True),
    withdrawn(4, "2024-09-01T10:00:00"),
    joined(5, "2024-06-01T10:00:00", government_name="Erased Town", country="MA",
           region="Africa", wave=3, listing_consent=True),
    erased(5, "2024-09-02T10:00:00"),
    joined(6, "2024-06-02T10:00:00", government_name="Changed Mind", country="ES",
           region="Europe", wave=3, listing_consent=True),
    listing_changed(6, False, "2024-07-01T10:00:00"),
    received("HRC-2024-NEVER", "2024-02-01T10:00:00", government_name="Never Accepted",
             listing_consent=True),
    wave_opened(3, "2024-01-01T00:00:00"),
]
# Erasing a contact person keeps the government a member, listed (DESIGN: erasure is about people).
LISTED = {"Ville de Grigny", "Municipio de Quilmes", "Erased Town"}
NEVER = ("Gwangju", "Left City", "Changed Mind", "Never Accepted",
         "amanda@grigny.example", "Amanda Secret")


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgresql", marks=pytest.mark.real)])
def served(request, tmp_path_factory):
    """One reports container per database for the whole module: its tests only read, but the
    last one, which puts back what it changes."""
    postgres = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('directory') / 'reports.db'}"
    else:
        if not infra.reachable(infra.POSTGRES):
            if os.environ.get("CI"):
                pytest.fail("PostgreSQL is not reachable (CI is set: real services are required)")
            pytest.skip("PostgreSQL is not reachable")
        postgres = infra.PostgresDatabase("reports")
        url = postgres.url
    migrate(url, MIGRATIONS)
    database = database_for(url)
    feed(database, MEMBERS)
    topology.declare_on("memory://")
    port = infra.free_port()
    container = ServiceContainer(ReportsService, {
        "AMQP_URI": "memory://", "DB_URL": url,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
        "INBOX_POLL_SECONDS": 0.05, "RELAY_POLL_SECONDS": 0.05,
    })
    # The in-memory broker is one per process: events that other tests' containers publish (some
    # while this module runs) would reach reports' queues here. The module feeds the inbox
    # itself, so the container serves the routes and consumes nothing from the broker.
    restrict_entrypoints(container, "health", "directory_page", "directory_json",
                         "directory_csv", "directory_map")
    container.start()
    yield f"http://127.0.0.1:{port}", database
    container.stop()
    if postgres is not None:
        postgres.drop()


@pytest.fixture
def reports(served):
    return served[0]


def get(url: str, path: str, **kwargs) -> requests.Response:
    return requests.get(url + path, timeout=30, **kwargs)


def test_json_lists_exactly_the_consenting_members_and_nothing_personal(reports):
    response = get(reports, "/public/members.json?lang=es")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.json()
    assert {m["government_name"] for m in body["members"]} == LISTED
    assert all(set(m) == set(FIELDS) for m in body["members"])
    grigny = next(m for m in body["members"] if m["country"] == "FR")
    assert (grigny["country_name"], grigny["region_name"], grigny["year_joined"]) == (
        "Francia", "Europa", 2022)
    assert grigny["theme_names"] == ["Vivienda", "Paz"]
    quilmes = next(m for m in body["members"] if m["country"] == "AR")
    assert quilmes["website"] is None
    assert body["counts"]["by_region"] == {"Europe": 1, "Latin America": 1, "Africa": 1}
    assert not any(secret in response.text for secret in NEVER)


def test_csv_has_the_documented_columns(reports):
    response = get(reports, "/public/members.csv")
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == FIELDS
    assert {r["government_name"] for r in rows} == LISTED
    assert not any(secret in response.text for secret in NEVER)


def test_the_page_in_french_filters_by_plain_links(reports):
    page = get(reports, "/public/members?lang=fr&region=latin-america")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "Municipio de Quilmes" in page.text and "Ville de Grigny" not in page.text
    assert "Argentine" in page.text and "Amérique latine" in page.text
    # The other languages keep the filter; "all regions" drops it.
    assert 'href="?region=latin-america&amp;lang=es"' in page.text
    assert 'href="?lang=fr"' in page.text
    assert "frame-ancestors *" in page.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in page.headers
    assert not any(secret in page.text for secret in NEVER)


def test_the_language_comes_from_the_browser_without_lang(reports):
    page = get(reports, "/public/members", headers={"Accept-Language": "es-AR,es;q=0.9"})
    assert '<html lang="es">' in page.text
    assert page.headers["Vary"] == "Accept-Language"
    assert '<html lang="en">' in get(reports, "/public/members?lang=de").text


@pytest.mark.parametrize("query", [
    "region=Atlantis&theme=sorcery&wave=99",
    "wave=1e9&wave=-1&region=" + "x" * 5000,
    "theme=%00%ff%fe&region=%3Cscript%3E&lang=%3Cscript%3E",
    "&".join(f"k{i}=v{i}" for i in range(700)),
])
def test_unknown_or_hostile_filters_give_the_unfiltered_page(reports, query):
    page = get(reports, "/public/members?" + query)
    assert page.status_code == 200, page.text[:200]
    assert all(name in page.text for name in LISTED)
    assert "<script>" not in page.text
    assert get(reports, "/public/members.json?" + query).json()["total"] == len(LISTED)


def test_the_map_parses_and_shades_the_countries_with_members(reports):
    response = get(reports, "/public/map.svg?lang=fr")
    assert response.headers["Content-Type"].startswith("image/svg+xml")
    root = ET.fromstring(response.content)
    assert "par pays" in root.find(f"{SVG}title").text
    shapes = {e.get("id"): e for e in root.iter() if (e.get("id") or "").startswith("country-")}
    assert {"country-FR", "country-AR"} <= set(shapes)
    land = shapes["country-KR"].get("fill")
    assert shapes["country-FR"].get("fill") != land and shapes["country-AR"].get("fill") != land
    assert shapes["country-ES"].get("fill") == land
    assert get(reports, "/public/map.svg", headers={"If-None-Match": response.headers["ETag"]}
               ).status_code == 200  # another language: another rendering


def test_etag_and_304_and_the_listing_follows_a_withdrawn_consent(served):
    reports, database = served
    first = get(reports, "/public/members.json")
    etag = first.headers["ETag"]
    assert "max-age" in first.headers["Cache-Control"]
    again = get(reports, "/public/members.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    feed_more(database, listing_changed(1, False, "2025-01-01T10:00:00"))
    changed = get(reports, "/public/members.json", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert {m["government_name"] for m in changed.json()["members"]} == LISTED - {"Ville de Grigny"}
    feed_more(database, listing_changed(1, True, "2025-02-01T10:00:00"))
    assert get(reports, "/public/members.json").headers["ETag"] == etag


def feed_more(database, *events) -> None:
    for event in events:
        inbox.store(database, event.as_message())
    processor = InboxProcessor(database, inbox_handlers({}))
    while processor.process_due():
        pass
    # The served container's own inbox loop may have claimed a row first: it is done when
    # no row is pending, whoever processed it.
    deadline = time.monotonic() + 10
    while True:
        with database.transaction() as session:
            if not inbox.counts(session).get(inbox.PENDING):
                return
        assert time.monotonic() < deadline, "the inbox still holds pending events"
        time.sleep(0.02)
