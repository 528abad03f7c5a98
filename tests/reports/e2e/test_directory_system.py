"""The public directory on the embedded system (``hrc run``: one process, in-memory broker,
SQLite): from the form's box to the page, the open data and the map, and back out when the
consent is withdrawn. Then the page in Chromium, in each language, wide and phone-sized."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
import requests

from hrc.cli import main as hrc
from tests.support import infra

TOKEN = "directory-e2e-secret"
STAFF = {"Authorization": f"Bearer {TOKEN}"}
EXAMPLE = json.loads((infra.PROJECT / "docs" / "example-application.json").read_text())
LISTED = {**EXAMPLE, "government_name": "Stadt Nürnberg", "country": "DE",
          "website": "https://www.nuernberg.de", "contact_email": "listed@example.org",
          "listing_consent": True}
UNLISTED = {**EXAMPLE, "government_name": "Ville de Dakar", "country": "SN",
            "contact_email": "unlisted@example.org"}
WAVE = {"number": 4, "name": {"en": "Care", "fr": "Soins", "es": "Cuidados"},
        "theme": {"en": "Care", "fr": "Soins", "es": "Cuidados"}, "opens_at": "2026-01-01"}
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("directory")
    env = infra.base_env(tmp / "var")
    env.update(STAFF_API_TOKENS=f"e2e:{TOKEN}")
    process = infra.ServiceProcess([], env, tmp / "hrc.log")
    ports = {s: int(env[f"{s.upper()}_PORT"]) for s in ("intake", "registry", "notify", "reports")}
    process.start()
    try:
        process.wait_healthy(list(ports.values()))
        yield {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    finally:
        process.stop()
    assert "Traceback" not in process.log(), process.log()


def _apply(system, application: dict) -> int:
    response = requests.post(system["intake"] + "/applications", json=application, timeout=10)
    assert response.status_code == 202, response.text
    reference = response.json()["reference"]

    def filed():
        items = requests.get(system["registry"] + "/api/applications", headers=STAFF,
                             params={"per_page": 200}, timeout=10).json()["items"]
        return next((a["id"] for a in items if a["reference"] == reference), None)

    return infra.wait_for(filed, 30, 0.1, "the registry to file the application")


def _directory(system, path="/public/members.json", **params) -> requests.Response:
    response = requests.get(system["reports"] + path, params=params, timeout=10)
    assert response.status_code == 200, response.text
    return response


def test_a_consenting_member_is_listed_in_its_language_one_who_did_not_never(
        system, capsys, monkeypatch):
    listed, unlisted = _apply(system, LISTED), _apply(system, UNLISTED)
    requests.post(system["registry"] + "/api/waves", json=WAVE, headers=STAFF, timeout=10)
    requests.post(system["registry"] + "/api/waves/4/open", headers=STAFF, timeout=10)
    members = {}
    for application in (listed, unlisted):
        accepted = requests.post(f"{system['registry']}/api/applications/{application}/accept",
                                 json={}, headers=STAFF, timeout=10)
        assert accepted.status_code == 200, accepted.text
        members[application] = accepted.json()["member"]["id"]
    assert requests.get(f"{system['registry']}/api/members/{members[listed]}", headers=STAFF,
                        timeout=10).json()["listing_consent"] is True

    body = infra.wait_for(lambda: (b := _directory(system).json())["total"] == 1 and b, 30, 0.2,
                          "the consenting member in the directory")
    assert [m["government_name"] for m in body["members"]] == ["Stadt Nürnberg"]
    for language, country, region in (("fr", "Allemagne", "Europe"),
                                      ("es", "Alemania", "Europa")):
        page = _directory(system, "/public/members", lang=language).text
        assert "Stadt Nürnberg" in page and f"{country} · {region}" in page
        record = _directory(system, lang=language).json()["members"][0]
        assert (record["country_name"], record["region_name"]) == (country, region)
    everything = [_directory(system, path, lang=language).text
                  for path in ("/public/members", "/public/members.json", "/public/members.csv",
                               "/public/map.svg") for language in ("en", "fr", "es")]
    for secret in ("Ville de Dakar", "listed@example.org", EXAMPLE["contact_name"],
                   EXAMPLE["authority_name"], EXAMPLE["commitment"][:30]):
        assert not any(secret in text for text in everything), secret

    svg = ET.fromstring(_directory(system, "/public/map.svg", lang="es").content)
    shapes = {e.get("id"): e.get("fill") for e in svg.iter(f"{SVG}path")}
    assert shapes["country-DE"] != shapes["country-SN"]

    # Staff take the listing out with the CLI (PATCH /api/members/<id>).
    monkeypatch.setenv("HRC_STAFF_TOKEN", TOKEN)
    assert hrc(["members", "listing-consent", str(members[listed]), "no", "--json",
                "--url", system["registry"]]) == 0
    assert json.loads(capsys.readouterr().out)["listing_consent"] is False
    infra.wait_for(lambda: _directory(system).json()["total"] == 0, 30, 0.2,
                   "the withdrawn consent to empty the directory")
    assert "Stadt Nürnberg" not in _directory(system, "/public/members", lang="fr").text


@pytest.mark.browser
@pytest.mark.parametrize("language", ["en", "fr", "es"])
@pytest.mark.parametrize("width", [1280, 375])
def test_the_page_fits_the_window_and_shows_its_map(system, browser, language, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(f"{system['reports']}/public/members?lang={language}")
        assert page.locator("html").get_attribute("lang") == language
        page.wait_for_function("document.querySelector('.map img').complete")
        assert page.evaluate("document.querySelector('.map img').naturalWidth") > 0
        # Nothing wider than the window: no sideways scrolling on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        links = page.locator(".filters a").count()
        assert links >= 3
    finally:
        page.close()
