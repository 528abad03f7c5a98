"""The console as the secretariat uses it, in Debian's Chromium, over the whole system started
as processes: on the embedded defaults (one process, in-memory broker, SQLite, .eml files) and
once on the real parts (RabbitMQ, PostgreSQL, an SMTP server, the console in a process of its
own with its configured token)."""
from __future__ import annotations

import json
import re
import secrets

import pytest
import requests

from tests.support import infra

EXAMPLE = json.loads((infra.PROJECT / "docs" / "example-application.json").read_text())
ADMIN = ("ada@example.org", "a long admin password")
SERVICES = ("intake", "registry", "notify", "reports", "console")
WAVE = {"number": 5, "name": {"en": "Wave 5", "fr": "Vague 5", "es": "Ola 5"},
        "theme": {"en": "Dignity", "fr": "Dignité", "es": "Dignidad"}, "opens_at": "2026-01-01"}

pytestmark = pytest.mark.browser
# A whole system per test on a machine others share: waits are generous, never timed claims.
PATIENCE = 90


class System:
    """The running services, and the staff API as the test's own operator uses it."""

    def __init__(self, env: dict[str, str], token: str):
        self.ports = {s: int(env[f"{s.upper()}_PORT"]) for s in SERVICES}
        self.staff = {"Authorization": f"Bearer {token}"}
        self.console = f"http://127.0.0.1:{self.ports['console']}"

    def api(self, method: str, path: str, **kwargs):
        response = requests.request(method, f"http://127.0.0.1:{self.ports['registry']}{path}",
                                    headers=self.staff, timeout=10, **kwargs)
        assert response.status_code < 400, response.text
        return response.json()

    def open_wave(self) -> None:
        self.api("POST", "/api/waves", json=WAVE)
        self.api("POST", "/api/waves/5/open")

    def apply(self, **changes) -> dict:
        response = requests.post(f"http://127.0.0.1:{self.ports['intake']}/applications",
                                 json={**EXAMPLE, **changes}, timeout=10)
        assert response.status_code == 202, response.text
        reference = response.json()["reference"]

        def filed():
            items = self.api("GET", "/api/applications", params={"q": reference})["items"]
            return items[0] if items and items[0]["status"] == "under_review" else None

        return infra.wait_for(filed, PATIENCE, what=f"the registry to file {reference}")


def environment(tmp_path) -> tuple[dict[str, str], str]:
    token = secrets.token_urlsafe(24)
    env = infra.base_env(tmp_path / "var")
    env.update(STAFF_API_TOKENS=f"operator:{token}", CONSOLE_ADMIN_EMAIL=ADMIN[0],
               CONSOLE_ADMIN_PASSWORD=ADMIN[1])
    env["CONSOLE_URL"] = f"http://127.0.0.1:{env['CONSOLE_PORT']}"
    return env, token


def sign_in(page, console: str, email: str, password: str) -> None:
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form[action^='/login'] button[type=submit]")


def review_and_accept(browser, system: System, mails) -> None:
    """Sign in, find the new application, accept it into the open wave, see its welcome mail
    and the audit entry naming the person; a stale page's illegal move is a clear message."""
    system.open_wave()
    application = system.apply()
    context = browser.new_context()
    context.set_default_timeout(PATIENCE * 1000)
    page = context.new_page()
    page.goto(f"{system.console}/applications?q=Grigny")
    assert "/login?next=" in page.url  # not signed in: sign-in first, then back
    sign_in(page, system.console, *ADMIN)
    assert page.url.endswith("/applications?q=Grigny")
    page.click(f"text={application['government_name']}")
    assert page.url.endswith(f"/applications/{application['id']}")
    stale = context.new_page()
    stale.goto(page.url)
    assert page.input_value("#accept-wave") == "5"  # the open wave is the one offered
    page.click("form[action$='/accept'] button")
    assert page.locator("[role=status]").first.inner_text().strip().startswith("Done")
    infra.wait_for(lambda: [m for m in mails() if "welcome" in m["Message-ID"]
                            and EXAMPLE["contact_email"] in str(m["To"])], PATIENCE,
                   what="the welcome mail")
    [entry] = system.api("GET", f"/api/applications/{application['id']}/audit")["items"]
    assert entry["who"] == ADMIN[0] and entry["action"] == "accept"
    page.reload()
    timeline = page.locator("#timeline-heading + ol").inner_text()
    assert f"{ADMIN[0]} accepted" in timeline
    assert f"mail “welcome” to {EXAMPLE['contact_email']}: sent" in timeline  # notify's log
    notify = f"http://127.0.0.1:{system.ports['notify']}/api/notifications"
    assert requests.get(notify, params={"reference": application["reference"]},
                        timeout=10).status_code == 401  # the log is for staff tokens only
    # The other tab still offers to decline: the registry says no, the page says why.
    stale.fill("#decline-reason", "Not signed by the mayor.")
    statuses = []
    stale.on("response", lambda r: statuses.append((r.request.method, r.status)))
    stale.click("form[action$='/decline'] button")
    assert ("POST", 409) in statuses
    assert "cannot be done in the application's present state" in stale.inner_text("[role=alert]")
    assert system.api("GET", f"/api/applications/{application['id']}")["status"] == "accepted"
    context.close()


def test_the_secretariat_reviews_in_the_console(browser, tmp_path):
    env, token = environment(tmp_path)
    system = System(env, token)
    process = infra.ServiceProcess([], env, tmp_path / "hrc.log")
    process.start()
    try:
        process.wait_healthy(list(system.ports.values()), timeout=PATIENCE * 2)
        review_and_accept(browser, system, lambda: infra.read_eml_dir(tmp_path / "var/outbox"))
        someone_runs_a_parked_event_and_a_failed_mail_again(browser, system, env, tmp_path)
        forms_refuse_bad_input_and_forged_posts(browser, system)
        reviewers_stay_out_of_admin_pages_and_ten_wrong_passwords_lock(browser, system)
        staff_commands_reach_the_console(system, env)
    finally:
        process.stop()
    assert "Traceback" not in process.log(), process.log()


def someone_runs_a_parked_event_and_a_failed_mail_again(browser, system: System, env,
                                                        tmp_path) -> None:
    """An event parked in intake's inbox and a refused acknowledgement are on the dashboard,
    with what they are about; ``hrc events failed`` lists the event over intake's staff route;
    the admin runs both again from the dashboard and sees the panel empty."""
    import subprocess
    import sys

    from shared.events import new_event
    from tests.support import needs_someone

    var = tmp_path / "var"
    parked_id = needs_someone.park(f"sqlite:///{var}/intake.db",
                                   new_event("wave.closed", {"number": 77}))
    mail_id = needs_someone.refuse(f"sqlite:///{var}/notify.db", EXAMPLE["contact_email"])
    run_env = {**env, "HRC_STAFF_TOKEN": system.staff["Authorization"].split()[1],
               **{f"HRC_{s.upper()}_URL": f"http://127.0.0.1:{p}"
                  for s, p in system.ports.items()}}
    listed = subprocess.run([sys.executable, "-m", "hrc", "events", "failed", "--json"],
                            env=run_env, capture_output=True, text=True, cwd=infra.PROJECT,
                            timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert [(i["service"], i["id"], i["type"]) for i in json.loads(listed.stdout)["items"]] == [
        ("intake", parked_id, "wave.closed")]

    context = browser.new_context()
    context.set_default_timeout(PATIENCE * 1000)
    page = context.new_page()
    page.goto(f"{system.console}/login")
    sign_in(page, system.console, *ADMIN)
    panel = page.locator("#needs-someone")
    text = panel.inner_text()
    assert "wave closed" in text and "OperationalError: database is locked" in text
    assert "acknowledgement" in text and "550 5.1.1" in text and EXAMPLE["contact_email"] in text
    stale = context.new_page()  # a second tab, still offering to run the event again
    stale.goto(f"{system.console}/")
    page.click(f"form[action='/events/intake/{parked_id}/replay'] button")
    assert page.locator("#needs-someone [role=status]").inner_text().startswith("Done")
    mail_file = var / "outbox" / f"{mail_id:08d}.eml"
    mail_file.unlink()  # so that the mail sent again shows
    page.click(f"form[action='/mails/{mail_id}/retry'] button")
    assert page.locator("#needs-someone [role=status]").inner_text().startswith("Done")

    def empty():
        page.goto(f"{system.console}/")
        return "Nothing needs anyone" in page.locator("#needs-someone").inner_text()

    infra.wait_for(empty, PATIENCE, what="the panel to empty once both ran again")
    infra.wait_for(mail_file.exists, PATIENCE, what="the mail sent again")
    assert EXAMPLE["contact_email"] in mail_file.read_text()
    # The stale tab runs it again: someone did it meanwhile (the API's 409), nothing breaks.
    stale.click(f"form[action='/events/intake/{parked_id}/replay'] button")
    assert "Someone did it meanwhile" in stale.locator("#needs-someone").inner_text()
    assert "Nothing needs anyone" in stale.locator("#needs-someone").inner_text()
    context.close()


def forms_refuse_bad_input_and_forged_posts(browser, system: System) -> None:
    application = system.apply(government_name="Municipalidad de Rosario", country="AR",
                               contact_email="rosario@example.org", language="es")
    context = browser.new_context()
    context.set_default_timeout(PATIENCE * 1000)
    page = context.new_page()
    page.goto(f"{system.console}/login")
    sign_in(page, system.console, *ADMIN)
    # Without its CSRF token a post changes nothing, even with the session cookie.
    forged = context.request.post(f"{system.console}/applications/{application['id']}/decline",
                                  form={"reason": "forged"})
    assert forged.status == 403
    assert system.api("GET", f"/api/applications/{application['id']}")["status"] == "under_review"
    # An empty reason: the error by its field, nothing changed.
    page.goto(f"{system.console}/applications/{application['id']}")
    page.fill("#info-message", "   ")
    page.click("form[action$='/request-info'] button")
    assert page.locator("#message-error").is_visible()
    assert page.get_attribute("#info-message", "aria-invalid") == "true"
    # A wave form with a bad date keeps what was typed.
    page.goto(f"{system.console}/waves")
    page.fill("#number", "6")
    page.fill("#name_en", "Wave six")
    page.click("form[action='/waves'] button[type=submit]")
    assert page.input_value("#name_en") == "Wave six"
    assert page.locator("#opens_at-error").is_visible()
    assert 6 not in [w["number"] for w in system.api("GET", "/api/waves")["items"]]
    # An application like a member's says so at the top, before the buttons that decide.
    again = system.apply(government_name="Commune de Grigny")
    page.goto(f"{system.console}/applications/{again['id']}")
    assert "Possible duplicates: 1. Compare them before deciding." in page.inner_text(".warning")
    assert "Resembles: Ville de Grigny (member" in page.inner_text("#dup-heading + .side")
    # Erasure asks for the government's name typed out; a wrong one erases nothing.
    [member] = system.api("GET", "/api/members")["items"]
    page.goto(f"{system.console}/members/{member['id']}")
    page.fill("#confirmation", "Grigny")
    page.click("form[action$='/erase'] button")
    assert page.locator("#confirmation-error").is_visible()
    assert system.api("GET", f"/api/members/{member['id']}")["contact_email"]
    page.fill("#confirmation", member["government_name"].upper())
    page.click("form[action$='/erase'] button")
    assert page.url.endswith("?done=erased")
    assert system.api("GET", f"/api/members/{member['id']}")["contact_email"] is None
    # A digest sent now goes through the reports' staff API with the console's token.
    page.goto(f"{system.console}/digests")
    page.click("form[action='/digests'] button[type=submit]")
    assert page.url.endswith("/digests?done=sent")
    # Unknown ids and paths: the 404 page.
    assert page.goto(f"{system.console}/applications/999999").status == 404
    unknown = page.goto(f"{system.console}/no/such/page")
    assert unknown.status == 404 and unknown.headers["content-type"].startswith("text/html")
    assert "Page not found" in page.inner_text("h1")
    # A lost session: sign in again, then back to the page asked for.
    context.clear_cookies()
    page.goto(f"{system.console}/applications/{application['id']}")
    sign_in(page, system.console, *ADMIN)
    assert page.url.endswith(f"/applications/{application['id']}")
    context.close()


def reviewers_stay_out_of_admin_pages_and_ten_wrong_passwords_lock(browser, system) -> None:
    admin = browser.new_context()
    admin.set_default_timeout(PATIENCE * 1000)
    page = admin.new_page()
    page.goto(f"{system.console}/login")
    sign_in(page, system.console, *ADMIN)
    page.goto(f"{system.console}/staff")
    page.fill("#email", "rev@example.org")
    page.select_option("#role", "reviewer")
    page.select_option("#language", "fr")
    page.click("form[action='/staff'] button[type=submit]")
    link = page.inner_text(".link-once").strip()
    admin.close()

    reviewer = browser.new_context()
    reviewer.set_default_timeout(PATIENCE * 1000)
    page = reviewer.new_page()
    page.goto(link)
    page.fill("#password", "a reviewer password")
    page.fill("#confirmation", "a reviewer password")
    page.click("button[type=submit]")
    assert "/login" in page.url
    sign_in(page, system.console, "rev@example.org", "a reviewer password")
    assert page.get_attribute("html", "lang") == "fr"  # the account's language
    for admin_page in ("/waves", "/digests", "/staff"):
        assert page.goto(system.console + admin_page).status == 403
    assert page.goto(f"{system.console}/members").status == 200
    page.click("form[action='/logout'] button")
    for _ in range(10):
        sign_in(page, system.console, "rev@example.org", "not the password")
    sign_in(page, system.console, "rev@example.org", "a reviewer password")
    assert "/login" in page.url and page.locator("[role=alert]").is_visible()
    assert page.goto(f"{system.console}/members").url.startswith(f"{system.console}/login")
    reviewer.close()


def staff_commands_reach_the_console(system: System, env: dict[str, str]) -> None:
    import subprocess
    import sys

    run_env = {**env, "HRC_STAFF_TOKEN": system.staff["Authorization"].split()[1],
               "HRC_CONSOLE_URL": system.console}
    added = subprocess.run([sys.executable, "-m", "hrc", "staff", "add", "cli@example.org",
                            "--role", "admin"], env=run_env, capture_output=True, text=True,
                           cwd=infra.PROJECT, timeout=60)
    assert added.returncode == 0, added.stderr
    assert re.search(rf"{re.escape(system.console)}/password/\S+", added.stdout)
    disabled = subprocess.run([sys.executable, "-m", "hrc", "staff", "disable",
                               "cli@example.org"], env=run_env, capture_output=True, text=True,
                              cwd=infra.PROJECT, timeout=60)
    assert disabled.returncode == 0, disabled.stderr
    listed = subprocess.run([sys.executable, "-m", "hrc", "staff", "list"], env=run_env,
                            capture_output=True, text=True, cwd=infra.PROJECT, timeout=60)
    rows = [line.split() for line in listed.stdout.splitlines()]
    assert ["cli@example.org", "admin", "en", "disabled"] in rows
    assert ["rev@example.org", "reviewer", "fr", "locked"] in rows


@pytest.mark.real
def test_the_console_on_rabbitmq_postgresql_and_smtp(browser, tmp_path, rabbitmq, postgres,
                                                     smtp_server):
    env, token = environment(tmp_path)
    databases = {s: postgres(s) for s in SERVICES}
    env.update({f"{s.upper()}_DB_URL": d.url for s, d in databases.items()})
    env.update(AMQP_URI=rabbitmq.uri(), SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_server.port),
               CONSOLE_STAFF_TOKEN=secrets.token_urlsafe(24))
    system = System(env, token)
    # As deployed: the console in its own process, trusted by its configured token.
    processes = [infra.ServiceProcess(list(SERVICES[:4]), env, tmp_path / "services.log"),
                 infra.ServiceProcess(["console"], env, tmp_path / "console.log")]
    for process in processes:
        process.start()
    try:
        for process in processes:
            process.wait_healthy([system.ports[s] for s in process.services],
                                 timeout=PATIENCE * 2)
        review_and_accept(browser, system, lambda: [m for _, m in smtp_server.messages()])
    finally:
        for process in processes:
            process.stop()
    for process in processes:
        assert "Traceback" not in process.log(), process.log()
