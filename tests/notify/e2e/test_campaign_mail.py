"""The whole system on its embedded defaults (``hrc run``: one process, in-memory broker,
SQLite, mail as .eml files): what an applicant and the secretariat receive from application
to membership to erasure, each mail once, with the events the registry really emits."""
from __future__ import annotations

import json
import re
from collections import Counter

import requests

from tests.support import infra

EXAMPLE = json.loads((infra.PROJECT / "docs" / "example-application.json").read_text())
STAFF = ["secretariat@example.org", "review@example.org"]
TOKEN = "notify-e2e-token"
WAVE = {
    "number": 4,
    "name": {"en": "Care and dignity", "fr": "Soins et dignité", "es": "Cuidados y dignidad"},
    "theme": {"en": "Local care policies", "fr": "Politiques locales de soins",
              "es": "Políticas locales de cuidados"},
    "opens_at": "2026-11-24T00:00:00+00:00",
    "closes_at": "2027-06-30T00:00:00+00:00",
}


def mails(outbox) -> list[tuple[str, str, object]]:
    """(template, recipient, message) of every .eml written so far."""
    found = []
    for message in infra.read_eml_dir(outbox):
        template = re.search(r"\.([a-z_]+)@", message["Message-ID"]).group(1)
        found.append((template, str(message["To"]), message))
    return found


def test_from_application_to_erasure(tmp_path):
    var = tmp_path / "var"
    env = infra.base_env(var)
    env.update(STAFF_EMAILS=",".join(STAFF), STAFF_API_TOKENS=f"e2e:{TOKEN}",
               MAIL_FROM="campaign@example.org")
    ports = {s: int(env[f"{s.upper()}_PORT"]) for s in ("intake", "registry", "notify", "reports")}
    registry = f"http://127.0.0.1:{ports['registry']}"
    staff = {"Authorization": f"Bearer {TOKEN}"}
    outbox = var / "outbox"
    contact = EXAMPLE["contact_email"]

    def sent(template: str, recipient: str) -> int:
        return sum(1 for t, r, _ in mails(outbox) if (t, r) == (template, recipient))

    system = infra.ServiceProcess([], env, tmp_path / "hrc.log")
    system.start()
    try:
        system.wait_healthy(list(ports.values()))
        response = requests.post(f"http://127.0.0.1:{ports['intake']}/applications",
                                 json=EXAMPLE, timeout=10)
        assert response.status_code == 202, response.text
        reference = response.json()["reference"]
        infra.wait_for(lambda: sent("waitlisted", contact) == 1, 30, what="the acknowledgement")
        infra.wait_for(lambda: all(sent("new_application", s) == 1 for s in STAFF), 30,
                       what="the staff alerts")

        assert requests.post(f"{registry}/api/waves", json=WAVE, headers=staff,
                             timeout=10).status_code == 201
        assert requests.post(f"{registry}/api/waves/4/open", headers=staff,
                             timeout=10).status_code == 200
        infra.wait_for(lambda: sent("wave_opened", contact) + sent("acknowledgement", contact)
                       == 1, 30, what="the applicant to hear of wave 4")
        for template, recipient, message in mails(outbox):
            if (template, recipient) == ("wave_opened", contact):
                # One click on the announcement's link: the welcome below still comes.
                link = message["List-Unsubscribe"].strip("<>")
                clicked = requests.post(link, data={"List-Unsubscribe": "One-Click"}, timeout=10)
                assert clicked.status_code == 200, clicked.text

        listing = requests.get(f"{registry}/api/applications", headers=staff, timeout=10).json()
        [application] = [a for a in listing["items"] if a["reference"] == reference]
        accepted = requests.post(f"{registry}/api/applications/{application['id']}/accept",
                                 json={"wave": 4}, headers=staff, timeout=10)
        assert accepted.status_code == 200, accepted.text
        infra.wait_for(lambda: sent("welcome", contact) == 1, 30, what="the welcome")

        member_id = accepted.json()["member"]["id"]
        erased = requests.delete(f"{registry}/api/members/{member_id}", headers=staff, timeout=10)
        assert erased.status_code in (200, 204), erased.text
        infra.wait_for(lambda: sent("erasure", contact) == 1, 30, what="the erasure notice")
    finally:
        system.stop()
    assert "Traceback" not in system.log(), system.log()

    everything = mails(outbox)
    counts = Counter((t, r) for t, r, _ in everything)
    assert max(counts.values()) == 1, counts
    to_applicant = [t for t, r, _ in everything if r == contact]
    assert to_applicant[0] == "waitlisted" and to_applicant[-1] == "erasure"
    assert len(to_applicant) == 4
    # Staff read words, not the form's codes (STAFF_LANGUAGE: English).
    alert = next(m for t, _, m in everything if t == "new_application")
    alert_text = alert.get_body(("plain",)).get_content()
    assert "Country: France" in alert_text and "Right to the city, Housing" in alert_text
    assert not re.search(r"\d{4}-\d\d-\d\dT", alert_text) and "UTC" in alert_text
    for _, _, message in everything:  # every mail links the privacy notice
        assert "/privacy?lang=" in message.get_body(("plain",)).get_content()
    [announcement] = [m for t, r, m in everything if t == "wave_opened"] or [None]
    if announcement is not None:  # the applicant heard of wave 4 through the announcement
        assert announcement["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert f":{ports['notify']}/unsubscribe/" in announcement["List-Unsubscribe"]
    [welcome] = [m for t, r, m in everything if t == "welcome"]
    text = welcome.get_body(("plain",)).get_content()
    assert welcome["Content-Language"] == "fr"
    assert "vague 4" in text and "Soins et dignité" in text and "Amina Diallo" in text
