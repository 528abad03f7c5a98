"""One-click unsubscribe through notify's real entrypoints: its nameko container on RabbitMQ,
SQLite, a real SMTP server, its public HTTP route, and a browser on the page's button."""
from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import select

from hrc.cli import main as hrc
from services.notify import db
from shared import db as shared_db
from shared.events import new_event
from tests.notify import samples
from tests.notify.e2e.conftest import STAFF_TOKEN
from tests.notify.e2e.test_notify_service import publish
from tests.support.infra import wait_for

pytestmark = pytest.mark.real
A, B = "ana@city.example", "ben@town.example"


def joined(member_id: int, email: str, language: str) -> dict:
    return new_event("member.joined", {
        "member_id": member_id, "wave": 3, "government_name": "Ville", "country": "FR",
        "region": "Europe", "contact_email": email, "contact_name": "Contact",
        "language": language}).as_message()


def mails(smtp_server, address: str, template: str) -> list:
    return [m for rs, m in smtp_server.messages()
            if address in rs and f".{template}@" in m["Message-ID"]]


def unsubscribed(settings) -> list[str]:
    with shared_db.database_for(settings.db_urls["notify"]).transaction() as session:
        return list(session.scalars(select(db.UnsubscribeRow.email)))


def announce(settings, smtp_server, number: int, count: int) -> None:
    publish(settings, samples.wave_opened(number).as_message())
    wait_for(lambda: len([m for _, m in smtp_server.messages()
                          if ".wave_opened@" in m["Message-ID"]]) >= count, 30,
             what=f"the announcements of wave {number}")


@pytest.fixture
def announced(settings, notify, smtp_server):
    publish(settings, joined(1, A, "es"), joined(2, B, "en"))
    announce(settings, smtp_server, 3, 2)
    [wave3] = mails(smtp_server, A, "wave_opened")
    assert wave3["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    return re.fullmatch(r"<(http://[^>]+)>", wave3["List-Unsubscribe"]).group(1)


def test_one_click_then_no_announcement_but_the_other_mails(settings, smtp_server, announced):
    link = announced
    assert link.startswith(f"http://127.0.0.1:{settings.ports['notify']}/unsubscribe/")

    page = requests.get(link, timeout=10)  # what a link scanner does: nothing changes
    assert page.status_code == 200 and 'method="post"' in page.text
    assert '<html lang="es">' in page.text and page.headers["Cache-Control"] == "no-store"
    assert unsubscribed(settings) == []

    # RFC 8058: the mail client POSTs the fixed body, without cookies or any token of ours.
    for _ in range(2):
        done = requests.post(link, data={"List-Unsubscribe": "One-Click"}, timeout=10)
        assert done.status_code == 200 and "Se ha dado de baja" in done.text
    assert unsubscribed(settings) == [A]

    publish(settings, new_event("member.withdrawn", {"member_id": 1, "reason": "x"}).as_message())
    announce(settings, smtp_server, 4, 3)  # wave 4 reaches B
    wait_for(lambda: mails(smtp_server, A, "withdrawal"), 30, what="the member's withdrawal")
    assert len(mails(smtp_server, A, "wave_opened")) == 1
    assert len(mails(smtp_server, B, "wave_opened")) == 2


def test_a_forged_link_is_a_clear_404_that_changes_nothing(settings, announced):
    forged = re.sub(r"\.[A-Za-z0-9_-]{32}$", "." + "A" * 32, announced)
    for method in (requests.get, requests.post):
        answer = method(forged, headers={"Accept-Language": "fr-FR,fr;q=0.9"}, timeout=10)
        assert answer.status_code == 404
        assert answer.headers["Content-Type"].startswith("text/html")
        assert "Ce lien de désinscription ne fonctionne pas" in answer.text
    assert requests.post(announced.rsplit("/", 1)[0] + "/x", timeout=10).status_code == 404
    assert unsubscribed(settings) == []


def test_the_pages_button_unsubscribes_in_a_browser(settings, announced, browser):
    page = browser.new_page()
    try:
        page.goto(announced)
        assert page.locator("h1").inner_text() == "Darse de baja de los anuncios"
        page.get_by_role("button", name="Darme de baja").click()
        page.wait_for_selector("text=Se ha dado de baja de los anuncios")
    finally:
        page.close()
    assert unsubscribed(settings) == [A]


def test_staff_put_the_address_back_on_the_announcements(settings, smtp_server, announced):
    requests.post(announced, timeout=10)
    api = f"http://127.0.0.1:{settings.ports['notify']}/api/unsubscribes"
    staff = {"Authorization": f"Bearer {STAFF_TOKEN}"}
    assert requests.delete(api, params={"email": A}, timeout=10).status_code == 401
    refused = requests.delete(api, params={"email": "no address"}, headers=staff, timeout=10)
    assert refused.status_code == 422 and "email" in refused.json()["detail"]
    assert unsubscribed(settings) == [A]  # neither changed anything

    back = requests.delete(api, params={"email": A.upper()}, headers=staff, timeout=10)
    assert back.status_code == 200 and back.json()["was_unsubscribed"] is True
    assert unsubscribed(settings) == []
    announce(settings, smtp_server, 4, 4)
    assert len(mails(smtp_server, A, "wave_opened")) == 2


def test_hrc_members_resubscribe_puts_the_address_back(settings, announced, capsys,
                                                       monkeypatch):
    requests.post(announced, timeout=10)
    notify = f"http://127.0.0.1:{settings.ports['notify']}"

    def resubscribe(token: str) -> tuple[int, str, str]:
        monkeypatch.setenv("HRC_STAFF_TOKEN", token)
        capsys.readouterr()
        code = hrc(["members", "resubscribe", A.upper(), "--url", notify])
        out, err = capsys.readouterr()
        return code, out, err

    code, _, err = resubscribe("not-the-token")
    assert code == 1 and "HRC_STAFF_TOKEN" in err
    assert unsubscribed(settings) == [A]

    code, out, _ = resubscribe(STAFF_TOKEN)
    assert (code, out.strip()) == (0, f"{A} gets the wave announcements again")
    assert unsubscribed(settings) == []
    code, out, _ = resubscribe(STAFF_TOKEN)
    assert code == 0 and "had not unsubscribed" in out
