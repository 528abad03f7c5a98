"""Issue 12's "done when", on the embedded system as ``make run`` starts it (one process,
in-memory broker, SQLite, .eml files): the campaign's 120 members imported in waves 1-3, one
new application accepted, the public badge says 121 / 1000; ``hrc members export EMAIL``
gathers what every service holds about that applicant (the mails sent included); and the
console's upload page brings in docs/example-members.csv (last: it adds 8 members)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from hrc.cli import main as hrc
from tests.support import infra
from tests.support.campaign_members import campaign_csv

TOKEN = "day-one-token"
EXAMPLE = json.loads((infra.PROJECT / "docs" / "example-application.json").read_text())
EMAIL = EXAMPLE["contact_email"]
ADMIN = ("ada@example.org", "a long admin password")


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("day-one")
    env = infra.base_env(tmp / "var")
    env.update(STAFF_API_TOKENS=f"secretariat:{TOKEN}", CONSOLE_ADMIN_EMAIL=ADMIN[0],
               CONSOLE_ADMIN_PASSWORD=ADMIN[1])
    process = infra.ServiceProcess([], env, tmp / "hrc.log")
    process.start()
    process.wait_healthy([int(env[f"{s}_PORT"]) for s in
                          ("INTAKE", "REGISTRY", "NOTIFY", "REPORTS", "CONSOLE")], 90)
    process.url = {s: f"http://127.0.0.1:{env[f'{s.upper()}_PORT']}"
                   for s in ("intake", "registry", "notify", "reports", "console")}
    process.tmp = tmp
    yield process
    process.stop()
    assert "Traceback" not in process.log(), process.log()


@pytest.fixture
def cli(system, capsys, monkeypatch):
    monkeypatch.setenv("HRC_STAFF_TOKEN", TOKEN)

    def run(*args: str, **urls: str) -> tuple[int, str, str]:
        addresses = {**system.url, **urls}
        extra = ["--url", addresses["registry"]]
        if args[:2] == ("members", "export"):
            extra += [f"--{s}-url={addresses[s]}" for s in ("intake", "notify", "reports",
                                                           "console")]
        capsys.readouterr()
        code = hrc([*args, *extra])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _badge(system) -> str:
    return requests.get(f"{system.url['reports']}/public/badge.svg", timeout=10).text


def test_day_one_120_members_imported_and_one_accepted_make_121_of_1000(system, cli):
    members = system.tmp / "members.csv"
    members.write_text(campaign_csv(120), encoding="utf-8")
    code, _, err = cli("members", "import", str(members))
    assert code == 0 and "120 imported, 0 already members" in err, err
    infra.wait_for(lambda: "120 / 1000" in _badge(system), 60, 0.3,
                   "the badge to count the imported members")

    response = requests.post(f"{system.url['intake']}/applications", json=EXAMPLE, timeout=10)
    assert response.status_code == 202, response.text
    reference = response.json()["reference"]

    def waitlisted():
        code, out, _ = cli("applications", "list", "--status", "waitlisted", "--json")
        found = [a for a in json.loads(out)["items"] if a["reference"] == reference]
        return code == 0 and found and found[0]

    application = infra.wait_for(waitlisted, 30, 0.3, "the application in the registry")
    assert cli("waves", "create", "4", "--name-en", "Fourth wave", "--name-fr",
               "Quatrième vague", "--name-es", "Cuarta ola", "--theme-en", "Care",
               "--theme-fr", "Soins", "--theme-es", "Cuidados",
               "--opens-at", "2026-01-01")[0] == 0
    assert cli("waves", "open", "4")[0] == 0
    code, out, _ = cli("applications", "accept", str(application["id"]))
    assert code == 0 and "accepted, wave 4" in out, out

    infra.wait_for(lambda: "121 / 1000" in _badge(system), 30, 0.3, "the badge to say 121")
    # Every imported contact hears of wave 4 once (the CSV gives every third row a contact).
    contacts = sum(1 for line in members.read_text().splitlines()[1:] if "@" in line)
    announced = ("SELECT count(*), count(DISTINCT recipient) FROM notifications "
                 "WHERE template = 'wave_opened' AND recipient LIKE 'contact%'")
    infra.wait_for(lambda: _rows(system.tmp / "var" / "notify.db", announced) == (contacts,
                                                                                 contacts),
                   30, 0.3, "wave 4's announcement to each imported contact once")
    public = requests.get(f"{system.url['reports']}/public/progress.json", timeout=10).json()
    assert public["progress"]["members"] == 121, public
    assert public["members_by_wave"] == {"1": 30, "2": 40, "3": 50, "4": 1}

    # Everything about the applicant, from every service, once the welcome has been sent.
    def welcomed():
        code, out, _ = cli("members", "export", EMAIL, "--json")
        document = json.loads(out)
        mails = document["services"]["notify"]["mails"]
        return code == 0 and len(mails) >= 2 and all(m["status"] == "sent" for m in mails) \
            and document

    document = infra.wait_for(welcomed, 30, 0.5, "the acknowledgement and the welcome mails")
    services = document["services"]
    assert document["complete"] and document["not_answered"] == {}
    assert [a["reference"] for a in services["registry"]["applications"]] == [reference]
    assert [m["joined_wave"] for m in services["registry"]["members"]] == [4]
    assert {e["action"] for e in services["registry"]["audit"]} >= {"accept"}
    assert services["intake"]["applications"][0]["form"]["contact_email"] == EMAIL
    assert all(m["subject"] and reference in json.dumps(services["notify"]) for m in
               services["notify"]["mails"])
    assert {e["type"] for e in services["reports"]["events"]} >= {"application.received",
                                                                 "member.joined"}
    assert services["console"] == {"staff_accounts": []}

    code, out, _ = cli("members", "export", EMAIL)
    assert code == 0 and f"{EMAIL}: what the services hold" in out
    mails = services["notify"]["mails"]
    assert f"notify: mails {len(mails)}," in out
    assert all(m["subject"] in out for m in mails)


def _rows(database, sql: str) -> tuple | None:
    """One statement on a service's SQLite file; its first row (None for one without rows)."""
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as connection:
            result = connection.execute(text(sql))
            row = result.first() if result.returns_rows else None
            return None if row is None else tuple(row)
    finally:
        engine.dispose()


def _sql(database, sql: str):
    """One statement on a service's SQLite file; a query's first value."""
    row = _rows(database, sql)
    return row[0] if row else None


def test_waves_announce_puts_the_open_wave_back_on_a_form_that_lost_it(system, cli):
    """Intake's waves rebuilt from nothing (its database restored, say): the form says no wave
    is open until ``hrc waves announce``; notify mails no one a second announcement."""
    var = system.tmp / "var"
    form = f"{system.url['intake']}/?lang=fr"
    infra.wait_for(lambda: "Quatrième vague" in requests.get(form, timeout=10).text, 30, 0.3,
                   "the form to show wave 4 (opened by the test before)")
    announcements = "SELECT count(*) FROM notifications WHERE template = 'wave_opened'"
    announced = infra.wait_for(lambda: _sql(var / "notify.db", announcements), 30, 0.3,
                               "wave 4's announcements in notify's log")
    _sql(var / "intake.db", "DELETE FROM waves")
    assert "No wave is open at the moment" in requests.get(system.url["intake"], timeout=10).text

    code, out, _ = cli("waves", "announce")
    assert code == 0 and "4 wave(s) told again" in out, out
    assert [line.split()[:3] for line in out.splitlines()[1:5]] == [
        ["1", "closed", "wave.closed"], ["2", "closed", "wave.closed"],
        ["3", "closed", "wave.closed"], ["4", "open", "wave.opened"]]
    page = infra.wait_for(lambda: (lambda t: "Quatrième vague" in t and t)(
        requests.get(form, timeout=10).text), 30, 0.3, "the form to show wave 4 again")
    assert "Aucune vague n’est ouverte" not in page

    told_again = ("SELECT count(*) FROM inbox WHERE type = 'wave.opened' AND status = 'done'"
                  " AND payload LIKE '%\"repeated\": true%'")
    infra.wait_for(lambda: _sql(var / "notify.db", told_again), 30, 0.3,
                   "notify to handle the wave told again")
    assert _sql(var / "notify.db", announcements) == announced
    code, out, _ = cli("waves", "announce", "--json")
    assert code == 0 and json.loads(out)["total"] == 4


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_an_admin_puts_an_unsubscribed_contact_back_on_the_announcements(system):
    notify_db = system.tmp / "var" / "notify.db"
    staff = {"Authorization": f"Bearer {TOKEN}"}
    [member] = requests.get(f"{system.url['registry']}/api/people", params={"email": EMAIL},
                            headers=staff, timeout=10).json()["members"]
    # As the announcement's one-click link leaves it (that link has tests of its own).
    _sql(notify_db, "INSERT INTO unsubscribes (email, language, unsubscribed_at) "
                    f"VALUES ('{EMAIL.lower()}', 'fr', '2026-12-01 10:00:00')")
    unsubscribed = "SELECT count(*) FROM unsubscribes"

    console = system.url["console"]
    admin = _signed_in_admin(console)
    page = admin.get(f"{console}/members/{member['id']}", timeout=10).text
    assert f"Send the announcements to {EMAIL} again" in page
    action = f"{console}/members/{member['id']}/resubscribe"
    assert admin.post(action, timeout=10).status_code == 403  # no CSRF token: nothing done
    assert _sql(notify_db, unsubscribed) == 1

    done = admin.post(action, data={"csrf_token": CSRF.search(page).group(1)}, timeout=10)
    assert done.url.endswith("?done=resubscribed")
    assert f"{EMAIL} gets the wave announcements again." in done.text
    assert _sql(notify_db, unsubscribed) == 0
    again = admin.post(action, data={"csrf_token": CSRF.search(page).group(1)}, timeout=10)
    assert "had not unsubscribed" in again.text


def test_staff_replace_an_imported_member_s_contact_in_the_console(system):
    """After elections: the new person is the contact, is told so by mail, and a bad address
    is a message by its field that changes nothing."""
    staff = {"Authorization": f"Bearer {TOKEN}"}
    [member] = requests.get(f"{system.url['registry']}/api/people", headers=staff, timeout=10,
                            params={"email": "contact3@city3.example.org"}).json()["members"]
    console = system.url["console"]
    admin = _signed_in_admin(console)
    page = admin.get(f"{console}/members/{member['id']}", timeout=10).text
    assert "Replace the contact person" in page
    action = f"{console}/members/{member['id']}/contact"
    csrf = CSRF.search(page).group(1)

    refused = admin.post(action, timeout=10, data={
        "csrf_token": csrf, "contact_name": "", "contact_email": "not an address"})
    assert refused.status_code == 422
    assert 'id="contact_name-error"' in refused.text
    assert 'id="contact_email-error"' in refused.text
    shown = requests.get(f"{system.url['registry']}/api/members/{member['id']}",
                         headers=staff, timeout=10).json()
    assert shown["contact_email"] == "contact3@city3.example.org"

    done = admin.post(action, timeout=10, data={
        "csrf_token": csrf, "contact_name": "Inès Nouvelle",
        "contact_email": "ines.nouvelle@city3.example.org", "language": "fr"})
    assert done.url.endswith("?done=contact_replaced"), done.text
    assert "Inès Nouvelle is now the contact person" in done.text
    shown = requests.get(f"{system.url['registry']}/api/members/{member['id']}",
                         headers=staff, timeout=10).json()
    assert (shown["contact_name"], shown["contact_email"], shown["language"]) == (
        "Inès Nouvelle", "ines.nouvelle@city3.example.org", "fr")
    told = ("SELECT count(*) FROM notifications WHERE template = 'contact_changed' "
            "AND recipient = 'ines.nouvelle@city3.example.org'")
    infra.wait_for(lambda: _sql(system.tmp / "var" / "notify.db", told) == 1, 30, 0.3,
                   "the new contact's mail")


def _signed_in_admin(console: str) -> requests.Session:
    admin = requests.Session()
    form = admin.get(f"{console}/login", timeout=10).text
    admin.post(f"{console}/login", timeout=10, data={
        "email": ADMIN[0], "password": ADMIN[1], "next": "/",
        "csrf_token": CSRF.search(form).group(1)})
    return admin


def test_a_wave_described_in_the_console_is_described_on_the_form_once_open(system, cli):
    admin = _signed_in_admin(system.url["console"])
    waves = f"{system.url['console']}/waves"
    token = CSRF.search(admin.get(waves, timeout=10).text).group(1)
    wave_5 = {"csrf_token": token, "number": "5", "opens_at": "2026-06-01",
              **{f"{what}_{lang}": f"{what} 5 {lang}" for what in ("name", "theme")
                 for lang in ("en", "fr", "es")},
              "description_en": "", "description_fr":
                  "La cinquième vague.\r\n\r\nElle parle   du soin.",
              "description_es": "x" * 2001}
    refused = admin.post(waves, data=wave_5, timeout=10)
    assert refused.status_code == 422 and 'id="description_es-error"' in refused.text
    registry = f"{system.url['registry']}/api/waves"
    staff = {"Authorization": f"Bearer {TOKEN}"}
    assert 5 not in [w["number"] for w in requests.get(registry, headers=staff,
                                                       timeout=10).json()["items"]]
    created = admin.post(waves, data={**wave_5, "description_es": ""}, timeout=10)
    assert created.url.endswith("/waves?done=created"), created.text
    [five] = [w for w in requests.get(registry, headers=staff, timeout=10).json()["items"]
              if w["number"] == 5]
    assert five["description"] == {"fr": "La cinquième vague.\r\n\r\nElle parle   du soin."}

    assert cli("waves", "close", "4")[0] == 0 and cli("waves", "open", "5")[0] == 0
    page = infra.wait_for(lambda: (lambda t: "name 5 fr" in t and t)(requests.get(
        f"{system.url['intake']}/?lang=fr", timeout=10).text), 30, 0.3, "wave 5 on the form")
    assert "<p>La cinquième vague.</p><p>Elle parle du soin.</p>" in page
    english = requests.get(f"{system.url['intake']}/?lang=en", timeout=10).text
    assert "name 5 en" in english and "cinquième" not in english


def test_an_unknown_address_gets_an_empty_but_whole_document(system, cli):
    code, out, _ = cli("members", "export", "Nobody@Example.org", "--json")
    document = json.loads(out)
    assert code == 0 and document["email"] == "nobody@example.org" and document["complete"]
    assert set(document["services"]) == {"registry", "intake", "notify", "reports", "console"}
    assert all(value == [] for held in document["services"].values() for value in held.values())
    code, out, _ = cli("members", "export", "nobody@example.org")
    assert code == 0 and "nothing is held about this address" in out


def test_a_service_that_does_not_answer_makes_the_export_incomplete(system, cli, tmp_path):
    target = tmp_path / "export.json"
    code, out, err = cli("members", "export", EMAIL, "--output", str(target),
                         notify=f"http://127.0.0.1:{infra.free_port()}")
    assert code == 1 and "the notify did not answer" in err
    assert "notify: NOT ANSWERED" in out
    document = json.loads(target.read_text(encoding="utf-8"))
    assert not document["complete"] and "notify" not in document["services"]


@pytest.mark.parametrize("service", ["registry", "intake", "notify", "reports"])
def test_each_people_route_wants_a_staff_token_and_an_address(system, service):
    url = f"{system.url[service]}/api/people"
    assert requests.get(url, params={"email": EMAIL}, timeout=10).status_code == 401
    bad = requests.get(url, params={"email": "not-an-address"}, timeout=10,
                       headers={"Authorization": f"Bearer {TOKEN}"})
    assert bad.status_code == 422 and "email" in bad.json()["detail"]


@pytest.mark.browser
def test_an_admin_uploads_the_members_file_in_the_console(system, browser, tmp_path):
    console = system.url["console"]
    context = browser.new_context()
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.goto(f"{console}/members/import")
    assert "/login?next=" in page.url
    page.fill("#email", ADMIN[0])
    page.fill("#password", ADMIN[1])
    page.click("form[action^='/login'] button[type=submit]")
    assert page.url.endswith("/members/import")

    example = str(infra.PROJECT / "docs" / "example-members.csv")
    page.set_input_files("#file", example)
    page.check("#dry_run")
    page.click("form[action='/members/import'] button[type=submit]")
    assert "Nothing was imported: this was a check" in page.inner_text("[role=status]")
    assert "8 members would be imported" in page.inner_text("[role=status]")

    page.set_input_files("#file", example)
    page.click("form[action='/members/import'] button[type=submit]")
    report = page.inner_text("#report-heading + *")
    assert "8 members imported" in report
    assert page.locator("text=Bogotá").count() == 1
    page.set_input_files("#file", example)
    page.click("form[action='/members/import'] button[type=submit]")
    assert "0 rows accepted" in page.inner_text("main")
    assert "8 rows unchanged (already members)" in page.inner_text("main")
    assert page.locator("h3", has_text="Unchanged: already members").count() == 1
    # An imported member's file says where it came from, not "application received" at noon.
    page.goto(f"{console}/applications?q=Bogot%C3%A1&status=accepted")
    page.click("main a:has-text('Bogotá')")
    assert "a member before the platform, brought in from the members file" in page.inner_text(
        "ol.timeline")
    assert "application received" not in page.inner_text("ol.timeline")
    assert "What the members file says" in page.inner_text("#facts-heading")
    page.goto(f"{console}/members/import")

    bad = tmp_path / "bad.csv"
    bad.write_text("government_name,country,jurisdiction_type,wave,joined_on,website,"
                   "listing_consent\nAtlantis,XX,municipality,1,2022-01-01,,true\n"
                   "Lisboa,PT,municipality,9,2022-01-01,,true\n", encoding="utf-8")
    responses = []
    page.on("response", lambda r: responses.append((r.request.method, r.url, r.status)))
    page.set_input_files("#file", str(bad))
    page.click("form[action='/members/import'] button[type=submit]")
    assert (("POST", f"{console}/members/import", 422)) in responses
    assert "2 rows were refused, so nothing was imported." in page.inner_text("[role=alert]")
    refused = page.inner_text("table")
    assert "Atlantis" in refused and "Country (country)" in refused
    assert "“XX” is not a country code" in refused  # the registry's words, said by the console
    assert "Lisboa" in refused and "Wave (wave)" in refused

    page.click("form[action='/members/import'] button[type=submit]")  # no file chosen
    assert "Choose the CSV file to import." in page.inner_text(".error")

    # A form without the page's CSRF token changes nothing.
    cookies = {c["name"]: c["value"] for c in context.cookies()}
    forged = requests.post(f"{console}/members/import", cookies=cookies, timeout=10,
                           files={"file": ("m.csv", bad.read_bytes(), "text/csv")})
    assert forged.status_code == 403
    code = requests.get(f"{system.url['registry']}/api/members", timeout=10,
                        headers={"Authorization": f"Bearer {TOKEN}"},
                        params={"country": "PT"}).json()["total"]
    assert code == 0

    # A person's access request, from the Members page: the same document as hrc's (about
    # the applicant of the first test of this module).
    page.goto(f"{console}/members")
    page.fill("#person-email", "not an address")
    page.click("form[action='/people/export'] button")
    assert "Enter the person's e-mail address" in page.inner_text("#person-heading + p + form")
    page.fill("#person-email", EMAIL)
    with page.expect_download() as download:
        page.click("form[action='/people/export'] button")
    document = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert document["complete"] and document["email"] == EMAIL
    assert set(document["services"]) == {"registry", "intake", "notify", "reports", "console"}
    assert document["services"]["intake"]["applications"][0]["form"]["contact_email"] == EMAIL
    assert document["services"]["notify"]["mails"]
    context.close()
