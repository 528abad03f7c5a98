"""The applicant's page across the whole system, twice: on the embedded defaults and on
RabbitMQ + PostgreSQL + an SMTP server. Apply; staff request information; the applicant follows
the link in the mail and answers with a PDF; the application is under review again, staff are
told once, and the PDF downloads byte for byte with a staff token."""
from __future__ import annotations

import json
import re
import time
from collections.abc import Callable

import pytest
import requests

from tests.support import infra

EXAMPLE = json.loads((infra.PROJECT / "docs" / "example-application.json").read_text())
STAFF = ["secretariat@example.org", "review@example.org"]
CONSOLE_ADMIN = ("reviewer@example.org", "a long enough password")
TOKEN = "e2e-staff-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PDF = (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
       b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
       b"trailer << /Root 1 0 R >>\n%%EOF\n") + bytes(range(256)) * 40
WAVE_4 = {
    "number": 4,
    "name": {"en": "Fourth wave", "fr": "Quatrième vague", "es": "Cuarta ola"},
    "theme": {"en": "Care", "fr": "Soins", "es": "Cuidados"},
    "opens_at": "2026-01-01",
    "closes_at": "2030-12-31T23:59:59Z",
}
QUESTION = "Merci de joindre la délibération du conseil municipal."

Mails = Callable[[], list]


def _env(var):
    env = infra.base_env(var)
    env.update(STAFF_EMAILS=",".join(STAFF), STAFF_API_TOKENS=f"secretariat:{TOKEN}",
               INTAKE_URL=f"http://127.0.0.1:{env['INTAKE_PORT']}",
               CONSOLE_ADMIN_EMAIL=CONSOLE_ADMIN[0], CONSOLE_ADMIN_PASSWORD=CONSOLE_ADMIN[1])
    return env


def _body(message) -> str:
    return message.get_body(("plain",)).get_content()


def _to_applicant(mails: Mails, subject_part: str) -> list:
    return [m for recipients, m in mails() if EXAMPLE["contact_email"] in
            [r.strip() for r in recipients] and subject_part in m["Subject"]]


def _staff_answers(mails: Mails) -> list:
    return [(recipients, m) for recipients, m in mails() if "info_provided" in m["Message-ID"]]


def _page_link(message, intake: str, reference: str) -> str:
    found = re.search(rf"{re.escape(intake)}/applications/{reference}/[A-Za-z0-9_-]+",
                      _body(message))
    assert found, _body(message)
    return found.group(0)


def _seen_in_the_console(console: str, application_id: int) -> None:
    """Staff see the answer and its PDF on the application's page, the file downloaded through
    the console (their browser holds no staff token)."""
    staff = requests.Session()
    form = staff.get(f"{console}/login", timeout=10).text
    signed_in = staff.post(f"{console}/login", timeout=10, data={
        "email": CONSOLE_ADMIN[0], "password": CONSOLE_ADMIN[1], "next": "/",
        "csrf_token": CSRF.search(form).group(1)})
    assert signed_in.status_code == 200 and "/login" not in signed_in.url, signed_in.text
    page = staff.get(f"{console}/applications/{application_id}", timeout=10).text
    assert "the applicant answered" in page and "Voici la délibération." in page
    [link] = re.findall(rf'href="(/applications/{application_id}/attachments/[0-9a-f]+)"', page)
    got = staff.get(console + link, timeout=10)
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["Content-Disposition"].startswith("attachment")
    not_this_case = f"{console}/applications/{application_id}/attachments/{'0' * 32}"
    assert staff.get(not_this_case, timeout=10).status_code == 404
    assert requests.get(console + link, timeout=10, allow_redirects=False).status_code == 303


def _flow(ports: dict[str, int], mails: Mails) -> int:
    registry = f"http://127.0.0.1:{ports['registry']}"
    intake = f"http://127.0.0.1:{ports['intake']}"
    # Waves 1-3 are history: the form sends applications to the waiting list, until wave 4.
    assert "No wave is open at the moment" in requests.get(intake, timeout=10).text
    assert requests.post(f"{registry}/api/waves", json=WAVE_4, headers=AUTH,
                         timeout=10).status_code == 201
    assert requests.post(f"{registry}/api/waves/4/open", headers=AUTH, timeout=10).ok
    infra.wait_for(lambda: "Quatrième vague" in requests.get(f"{intake}/?lang=fr",
                                                             timeout=10).text,
                   30, what="the form to show the open wave 4")
    response = requests.post(f"{intake}/applications", json=EXAMPLE, timeout=10)
    reference = response.json()["reference"]

    [ack] = infra.wait_for(lambda: _to_applicant(mails, reference), 60, what="the acknowledgement")
    link = _page_link(ack, intake, reference)
    browser = requests.Session()
    assert "Ville de Grigny" in browser.get(link, timeout=10).text

    application = infra.wait_for(lambda: requests.get(
        f"{registry}/api/applications", params={"status": "under_review"}, headers=AUTH,
        timeout=10).json()["items"], 30, what="the application under review")[0]
    assert requests.post(f"{registry}/api/applications/{application['id']}/request-info",
                         json={"message": QUESTION}, headers=AUTH, timeout=10).ok
    infra.wait_for(lambda: [m for m in _to_applicant(mails, reference)
                            if QUESTION in _body(m)], 60, what="the information request mail")
    [request_mail] = [m for m in _to_applicant(mails, reference) if QUESTION in _body(m)]
    link = _page_link(request_mail, intake, reference)
    page = infra.wait_for(lambda: (lambda text: text if 'id="answer"' in text else None)(
        browser.get(link, timeout=10).text), 30, what="the page to ask the question")
    assert QUESTION in page

    answered = browser.post(f"{link}/answer", timeout=30, allow_redirects=False,
                            data={"message": "Voici la délibération.",
                                  "csrf_token": CSRF.search(page).group(1)},
                            files=[("attachments", ("délibération.pdf", PDF,
                                                    "application/pdf"))])
    assert answered.status_code == 303, answered.text

    def under_review_again():
        shown = requests.get(f"{registry}/api/applications/{application['id']}", headers=AUTH,
                             timeout=10).json()
        return shown if shown["status"] == "under_review" else None

    infra.wait_for(under_review_again, 60, what="the application under review again")
    trail = requests.get(f"{registry}/api/applications/{application['id']}/audit",
                         headers=AUTH, timeout=10).json()["items"]
    [answer] = [e for e in trail if e["action"] == "info_provided"]
    assert answer["who"] == "applicant" and answer["after"]["answer"] == "Voici la délibération."

    infra.wait_for(lambda: len(_staff_answers(mails)) >= len(STAFF), 60,
                   what="staff told of the answer")
    time.sleep(1.5)  # a second alert would have come by now: there is none
    alerts = _staff_answers(mails)
    assert sorted(r.strip() for recipients, _ in alerts for r in recipients) == sorted(STAFF)
    text = _body(alerts[0][1])
    assert reference in text and "Voici la délibération." in text
    # The mail's link opens in the console (staff are signed in there); intake's staff API
    # serves the same file to a staff token.
    attachment = re.search(rf"/applications/{application['id']}/attachments/([0-9a-f]+)",
                           text).group(1)
    assert f"{intake}/api/attachments" not in text
    download = f"{intake}/api/attachments/{attachment}"
    assert requests.get(download, timeout=10).status_code == 401
    got = requests.get(download, headers=AUTH, timeout=10)
    assert got.status_code == 200 and got.content == PDF
    assert f"/applications/{application['id']}" in text  # the console page
    assert link.rsplit("/", 1)[1] not in text  # staff never see the applicant's key

    page = browser.get(link, params={"lang": "en"}, timeout=10).text
    assert "Under review in wave 4" in page and "You sent your answer" in page
    return application["id"]


def test_embedded_defaults(tmp_path):
    var = tmp_path / "var"
    env = _env(var)
    ports = {s: int(env[f"{s.upper()}_PORT"]) for s in ("intake", "registry", "notify", "reports")}
    system = infra.ServiceProcess([], env, tmp_path / "hrc.log")
    system.start()
    try:
        system.wait_healthy(list(ports.values()))
        application_id = _flow(ports, lambda: [([r.strip() for r in m["To"].split(",")], m)
                                               for m in infra.read_eml_dir(var / "outbox")])
        _seen_in_the_console(f"http://127.0.0.1:{env['CONSOLE_PORT']}", application_id)
    finally:
        system.stop()
    assert "Traceback" not in system.log(), system.log()


@pytest.mark.real
def test_real_rabbitmq_postgresql_smtp(tmp_path, rabbitmq, postgres, smtp_server):
    env = _env(tmp_path / "var")
    databases = {s: postgres(s) for s in ("intake", "registry", "notify", "reports")}
    env.update({f"{s.upper()}_DB_URL": d.url for s, d in databases.items()})
    env.update(AMQP_URI=rabbitmq.uri(), SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_server.port),
               MAIL_FROM="campaign@example.org")
    ports = {s: int(env[f"{s.upper()}_PORT"]) for s in databases}
    systems = [infra.ServiceProcess([s], env, tmp_path / f"{s}.log") for s in databases]
    for system in systems:
        system.start()
    try:
        for system in systems:
            system.wait_healthy([ports[system.services[0]]])
        _flow(ports, smtp_server.messages)
    finally:
        for system in systems:
            system.stop()
    for system in systems:
        assert "Traceback" not in system.log(), system.log()
