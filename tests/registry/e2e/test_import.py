"""``POST /api/members/import`` through the real entrypoint, on SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import select

from shared.outbox import OutboxRow
from tests.registry.e2e.test_staff_api import registry  # noqa: F401 (fixture)
from tests.support.campaign_members import campaign_csv

CSV = {"Content-Type": "text/csv; charset=utf-8", "Authorization": "Bearer alice-secret-token"}
HEADER = ("government_name,country,jurisdiction_type,wave,joined_on,website,listing_consent,"
          "contact_name,contact_email\n")


def post(registry, text: str, **params):  # noqa: F811
    return registry.call("POST", "/api/members/import", headers=CSV,
                         data=text.encode("utf-8"), params=params)


def joined_events(registry) -> list[dict]:  # noqa: F811
    with registry.database.transaction() as session:
        return [row.payload["data"] for row in session.scalars(
            select(OutboxRow).where(OutboxRow.type == "member.joined").order_by(OutboxRow.id))]


def test_a_campaign_file_is_imported_once(registry):  # noqa: F811
    response = post(registry, campaign_csv(120))
    assert response.status_code == 200, response.text
    report = response.json()
    assert (len(report["imported"]), report["already_members"], report["refused"]) == (120, [], [])

    members = registry.ok("GET", "/api/members", params={"per_page": 200})
    assert members["total"] == 120
    assert {m["joined_wave"] for m in members["items"]} == {1, 2, 3}
    assert all(m["imported"] for m in members["items"])
    events = joined_events(registry)
    assert len(events) == 120 and all(e["imported"] for e in events)
    assert sum(e["listing_consent"] for e in events) == 96
    first = next(e for e in events if e["government_name"] == "Ayuntamiento de Ciudad 0001")
    assert (first["wave"], first["joined_at"][:10], first["region"]) == (
        1, "2022-10-12", "Europe")

    again = post(registry, campaign_csv(120)).json()
    assert (again["imported"], len(again["already_members"])) == ([], 120)
    assert len(joined_events(registry)) == 120
    assert registry.ok("GET", "/api/members")["total"] == 120


def test_one_refused_row_imports_nothing_and_says_why(registry):  # noqa: F811
    text = (HEADER
            + "Ville de Grigny,FR,municipality,1,2022-10-12,https://grigny91.fr,true,,\n"
            + "Atlantis,XX,city,9,2099-01-01,ftp://atlantis,maybe,,not-an-address\n"
            + "VILLE DE GRIGNY,fr,municipality,2,2023-01-01,,false,,\n")
    response = post(registry, text)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "rows_refused"
    refused = {r["line"]: r for r in body["detail"]["refused"]}
    assert set(refused) == {3, 4}
    assert set(refused[3]["errors"]) == {"country", "jurisdiction_type", "wave", "joined_on",
                                         "website", "listing_consent", "contact_email"}
    assert "line 2" in refused[4]["errors"]["government_name"][0]
    assert registry.ok("GET", "/api/members")["total"] == 0
    assert joined_events(registry) == []


def test_a_dry_run_stores_nothing(registry):  # noqa: F811
    report = post(registry, campaign_csv(10), dry_run="true").json()
    assert (report["dry_run"], len(report["imported"])) == (True, 10)
    assert registry.ok("GET", "/api/members")["total"] == 0


def test_a_file_that_is_not_a_members_csv(registry):  # noqa: F811
    for text, error in (("", "unreadable_file"), ("name;country\nx;FR\n", "unreadable_file")):
        response = post(registry, text)
        assert (response.status_code, response.json()["error"]) == (422, error)
    response = registry.call("POST", "/api/members/import", json={"rows": []})
    assert response.status_code == 415
    response = post(registry, "\ufeff" + HEADER.replace(",", ";")
                    + "Ciudad de México;MX;metropolitan_area;1;2022-10-12;;true;;\n")
    assert response.status_code == 200, response.text


def test_a_member_accepted_through_the_form_is_not_imported_again(registry):  # noqa: F811
    from tests.registry.e2e.test_staff_api import open_wave_4

    application = registry.receive(government_name="Ville de Grigny", country="FR")
    open_wave_4(registry)
    registry.ok("POST", f"/api/applications/{application['id']}/accept")
    report = post(registry, HEADER + "Ville de Grigny,FR,municipality,1,2022-10-12,,true,,\n")
    assert report.json()["already_members"][0]["line"] == 2
    assert registry.ok("GET", "/api/members")["total"] == 1
