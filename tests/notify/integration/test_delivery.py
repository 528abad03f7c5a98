"""Each mail in each language through the inbox, the log and a real SMTP server; exactly once
under redelivery, SMTP away then back, 4xx then success, 5xx recorded."""
from __future__ import annotations

import contextlib
import json
import re
import shutil
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.notify import db
from services.notify.mail import TEMPLATES_DIR, Renderer
from shared import inbox
from shared.events import new_event
from tests.notify import samples
from tests.notify.integration.conftest import STAFF

UNRENDERED = re.compile(r"\{\{|\{%|%\}|\}\}|%\([a-z_]+\)s")
CONTACT = "zoe.martin@grigny.example"


def step(type_, reference="HRC-2026-7KQ2M", application_id=42, **data):
    return new_event(type_, {"application_id": application_id, "reference": reference, **data})


def joined(member_id, email, language, reference=None, name="Ville"):
    return new_event("member.joined", {
        "member_id": member_id, "wave": 3, "government_name": name, "country": "FR",
        "region": "Europe", "contact_email": email, "contact_name": "Contact",
        "language": language, "reference": reference})


def the_life_of_an_application(language: str) -> list:
    """Every event that mails someone, for one applicant writing in ``language``."""
    ref, other, third = (f"HRC-2026-{language.upper()}AAA", f"HRC-2026-{language.upper()}BBB",
                         f"HRC-2026-{language.upper()}CCC")
    return [
        samples.wave_opened(3),
        samples.received(reference=ref, language=language),
        step("application.under_review", ref, 1, wave=3),
        step("application.info_requested", ref, 1, message="Merci de joindre la délibération."),
        step("application.under_review", ref, 1, wave=3),
        step("application.accepted", ref, 1, member_id=11, wave=3),
        joined(11, CONTACT, language, ref),
        samples.received(reference=other, language=language, contact_email="b@town.example"),
        step("application.waitlisted", other, 2),
        step("application.withdrawn", other, 2, reason="Nouvelle mandature"),
        samples.received(reference=third, language=language, contact_email="c@town.example"),
        step("application.under_review", third, 3, wave=3),
        step("application.declined", third, 3, reason="Le formulaire n'est pas signé."),
        samples.wave_opened(4),
        new_event("member.withdrawn", {"member_id": 11, "reason": "Changement de mandature"}),
        new_event("member.erased", {"member_id": 11, "references": [ref]}),
        new_event("digest.ready", samples.digest_data(list(STAFF))),
    ]


EXPECTED = sorted([
    ("acknowledgement", CONTACT), ("info_requested", CONTACT), ("acknowledgement", CONTACT),
    ("welcome", CONTACT),
    ("waitlisted", "b@town.example"), ("withdrawal", "b@town.example"),
    ("acknowledgement", "c@town.example"), ("declined", "c@town.example"),
    ("wave_opened", CONTACT), ("withdrawal", CONTACT), ("erasure", CONTACT),
    *[("new_application", s) for s in STAFF for _ in range(3)],
    *[("digest", s) for s in STAFF],
])


def template_of(message) -> str:
    return re.search(r"\.([a-z_]+)@", message["Message-ID"]).group(1)


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_every_mail_in_every_language_reaches_the_smtp_server_once(notify, smtp_server,
                                                                     language):
    *life, erasure, digest = the_life_of_an_application(language)
    notify.receive(*life)
    notify.send()
    # Erasure cancels what is still unsent to the person: send first, as time would.
    notify.receive(erasure, digest)
    notify.send()

    mails = smtp_server.messages()
    assert sorted((template_of(m), r[0]) for r, m in mails) == EXPECTED
    assert len({m["Message-ID"] for _, m in mails}) == len(mails)
    for recipients, message in mails:
        template = template_of(message)
        assert [a.addr_spec for a in message["To"].addresses] == recipients
        assert message["From"].addresses[0].addr_spec == "campaign@uclg.example"
        assert message["Reply-To"].addresses[0].addr_spec == "secretariat@uclg.example"
        assert message["Date"].datetime is not None
        staff = recipients[0] in STAFF
        if template != "digest":
            assert message["Content-Language"] == ("en" if staff else language)
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        for body in (message["Subject"], text, html):
            assert not UNRENDERED.search(body)
        assert ("List-Unsubscribe" in message) == (template == "wave_opened")
        if template == "acknowledgement" and recipients == [CONTACT]:
            assert "HRC-2026-" in message["Subject"]
            assert f"https://join.uclg.example/applications/HRC-2026-{language.upper()}AAA" in html
        if template == "new_application":
            assert re.search(r"https://console.uclg.example/applications/\d+", text)
            assert "https://console.uclg.example/applications/" in html
    assert all(o.type == "notification.sent" for o in notify.outcomes())
    assert len(notify.outcomes()) == len(mails)


def test_redelivered_and_replayed_events_send_nothing_twice(notify, smtp_server):
    events = [samples.received(), step("application.under_review", wave=3)]
    notify.receive(*events)
    notify.receive(*events)  # the broker delivers again: the inbox drops the copies
    notify.send()
    # The same event processed again: the log's unique key holds (or the step, already
    # applied, waits for another that would make it apply again, and changes nothing).
    for event in events:
        with contextlib.suppress(inbox.Waiting), notify.database.transaction() as session:
            notify.processor.handlers[event.type](event, session)
    notify.send()
    mails = smtp_server.messages()
    assert sorted((template_of(m), r[0]) for r, m in mails) == sorted(
        [("acknowledgement", "zoe.martin@grigny.example"),
         *[("new_application", s) for s in STAFF]])


def test_smtp_down_for_a_while_then_up_delivers_every_mail_once(notify, smtp_server):
    smtp_server.stop()
    notify.receive(samples.received(), step("application.under_review", wave=3))
    for _ in range(3):
        report = notify.delivery.deliver_all()
        assert report.stalled and report.sent == 0
    assert notify.pending() == 3
    [first, *_] = notify.rows()
    assert first.attempts >= 1 and "ConnectionRefused" in first.last_error
    smtp_server.start()
    notify.send()
    assert len(smtp_server.messages()) == 3
    assert notify.count(db.NotificationRow.status == db.SENT) == 3


def test_4xx_is_retried_with_backoff_then_succeeds(notify, smtp_server):
    smtp_server.set_mode("tempfail")
    notify.receive(samples.received(), step("application.waitlisted"))
    report = notify.delivery.deliver_all()
    assert report.retrying == 3 and not report.stalled
    assert {r.last_error for r in notify.rows()} == {"451 4.3.0 try again later"}
    assert smtp_server.messages() == []
    smtp_server.set_mode("ok")
    notify.send()
    assert len(smtp_server.messages()) == 3
    assert all(r.status == db.SENT and r.attempts >= 2 for r in notify.rows())


def test_5xx_is_recorded_reported_to_staff_and_never_retried(notify, smtp_server):
    notify.receive(samples.received())
    smtp_server.set_mode("permfail")
    notify.receive(step("application.waitlisted"))
    notify.delivery.deliver_all()
    failed = notify.rows(db.NotificationRow.status == db.FAILED)
    assert len(failed) == 3 and failed[0].last_error.startswith("550")
    outcomes = [o for o in notify.outcomes() if o.type == "notification.failed"]
    assert len(outcomes) == 3
    assert outcomes[0].payload["data"]["error"].startswith("550 5.1.1")
    # Each staff address hears of each failed mail (but never of a failed alert: no loop).
    smtp_server.set_mode("ok")
    notify.send()
    alerts = smtp_server.messages()
    assert sorted(r[0] for r, _ in alerts) == sorted(STAFF * 3)
    assert all(template_of(m) == "delivery_failed" for _, m in alerts)
    assert sum("zoe.martin@grigny.example" in m["Subject"] for _, m in alerts) == 2
    assert notify.count(db.NotificationRow.status == db.FAILED) == 3


def test_a_hostile_government_name_arrives_harmless(notify, smtp_server):
    hostile = samples.HOSTILE_NAME
    notify.receive(joined(1, "mayor@evil.example", "en", name=hostile), samples.wave_opened(5),
                   samples.received(government_name="<img src=x onerror=alert(1)>\r\nBcc: a@b.c",
                                    contact_name="Eve\r\nBcc: spy@evil.example"),
                   step("application.under_review", wave=5))
    notify.send()
    mails = smtp_server.messages()
    assert len(mails) == 4
    for recipients, message in mails:
        assert len(recipients) == 1
        assert "Bcc" not in message and "X-Injected" not in message
        assert len(str(message["Subject"])) <= 200
        html = message.get_body(("html",)).get_content()
        assert "<script>" not in html and "<img src=x" not in html and "<b>Evil" not in html


def test_an_event_that_waits_too_long_is_parked_and_replayed(notify, smtp_server):
    notify.processor.wait_limit = timedelta(0)
    decline = step("application.declined", reason="Incomplete")
    notify.receive(decline)  # the application never came: parked for someone to look
    with notify.database.transaction() as session:
        assert [row.event_id for row in inbox.parked(session)] == [decline.event_id]
    notify.receive(samples.received(), step("application.under_review", wave=3))
    with notify.database.transaction() as session:
        assert inbox.replay(session) == 1
    notify.receive()
    notify.send()
    assert sorted(template_of(m) for _, m in smtp_server.messages()) == [
        "acknowledgement", "declined", "new_application", "new_application"]


def test_erasure_keeps_no_personal_data(notify, smtp_server):
    ref = "HRC-2026-7KQ2M"
    notify.receive(samples.received(), step("application.under_review", wave=3),
                   step("application.accepted", member_id=7, wave=3),
                   joined(7, CONTACT, "fr", ref))
    notify.send()
    notify.receive(new_event("member.erased", {"member_id": 7, "references": [ref]}))
    notify.send()
    assert template_of(smtp_server.messages()[-1][1]) == "erasure"
    with notify.database.transaction() as session:
        applicant, member = session.get(db.ApplicantRow, ref), session.get(db.MemberRow, 7)
        assert (applicant.email, applicant.name, applicant.facts) == ("", "", {})
        assert (member.status, member.email, member.name) == ("erased", None, None)
        rows = list(session.scalars(select(db.NotificationRow)))
        payloads = [r.payload for r in session.scalars(select(inbox.InboxRow))]
    assert [r.template for r in rows if r.recipient in STAFF] == ["new_application"] * 2
    for row in rows:
        assert row.recipient in STAFF or row.recipient.startswith("erased:")
        assert row.context is None and row.message is None and row.recipient_name is None
    dumped = json.dumps(payloads, ensure_ascii=False)
    assert CONTACT not in dumped and "Zoé" not in dumped
    # What the events did is kept (a rebuild or an audit can still read them).
    received = next(p for p in payloads if p["type"] == "application.received")
    assert (received["data"]["government_name"], received["data"]["contact_email"]) == (
        "Ville de Grigny", "[erased]")


def test_a_new_contact_person_is_told_and_gets_the_next_announcement(notify, smtp_server):
    notify.receive(joined(7, CONTACT, "fr", None))
    notify.receive(new_event("member.contact_changed", {
        "member_id": 7, "contact_name": "Nouvelle Élue", "contact_email": "elue@grigny.example",
        "language": "es", "government_name": "Ville de Grigny"}))
    notify.send()
    recipients, message = smtp_server.messages()[-1]
    assert recipients == ["elue@grigny.example"] and template_of(message) == "contact_changed"
    assert "Ville de Grigny" in message["Subject"] and "persona de contacto" in message["Subject"]
    notify.receive(samples.wave_opened(4))
    notify.send()
    assert [rs for rs, m in smtp_server.messages() if template_of(m) == "wave_opened"] == [
        ["elue@grigny.example"]]


def test_an_applicant_who_never_became_a_member_is_erased(notify, smtp_server):
    ref = "HRC-2026-7KQ2M"
    notify.receive(samples.received(), step("application.under_review", wave=3),
                   step("application.declined", reason="out of scope"))
    notify.send()
    notify.receive(new_event("application.erased", {"application_id": 42, "reference": ref}))
    notify.send()
    assert template_of(smtp_server.messages()[-1][1]) == "erasure"
    with notify.database.transaction() as session:
        applicant = session.get(db.ApplicantRow, ref)
        assert (applicant.email, applicant.name, applicant.status) == ("", "", "erased")
        payloads = [r.payload for r in session.scalars(select(inbox.InboxRow))]
    dumped = json.dumps(payloads, ensure_ascii=False)
    assert CONTACT not in dumped and "out of scope" not in dumped


def test_erasure_cancels_mail_not_yet_sent_to_the_person(notify, smtp_server):
    ref = "HRC-2026-7KQ2M"
    notify.receive(samples.received(), step("application.under_review", wave=3),
                   step("application.accepted", member_id=7, wave=3),
                   new_event("member.erased", {"member_id": 7, "references": [ref]}))
    notify.send()
    to_person = [template_of(m) for rs, m in smtp_server.messages() if rs == [CONTACT]]
    assert to_person == ["erasure"]
    assert notify.count(db.NotificationRow.status == db.CANCELLED) == 2


def test_a_broken_template_fails_that_mail_only_and_tells_staff(notify, smtp_server, tmp_path):
    broken = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, broken)
    (broken / "mail" / "waitlisted.html").write_text("{{ no_such_value.attribute }}")
    notify.delivery.renderer = Renderer(templates_dir=broken)
    notify.receive(samples.received(), step("application.waitlisted"))
    notify.send()
    [failed] = notify.rows(db.NotificationRow.status == db.FAILED)
    assert failed.template == "waitlisted" and "no_such_value" in failed.last_error
    sent = sorted(template_of(m) for _, m in smtp_server.messages())
    assert sent == ["delivery_failed"] * 2 + ["new_application"] * 2


def test_a_sent_mail_is_marked_with_its_event_and_nothing_else_changes(notify, smtp_server):
    """The mark and the ``notification.sent`` event go together (on PostgreSQL one statement,
    committed by itself): the row keeps its key, the event names it."""
    notify.receive(samples.received(), step("application.under_review", wave=3))
    queued = {row.id: row for row in notify.rows()}
    notify.send()
    rows = notify.rows()
    assert [(r.id, r.event_id, r.recipient, r.template) for r in rows] == [
        (r.id, r.event_id, r.recipient, r.template) for r in queued.values()]
    for row in rows:
        assert (row.status, row.attempts, row.claimed_until, row.last_error) == (
            db.SENT, 1, None, None)
        assert row.sent_at is not None and row.message.startswith("Subject:")
    outcomes = notify.outcomes()
    assert sorted((o.type, o.payload["data"]["event_id"], o.payload["data"]["recipient"])
                  for o in outcomes) == sorted(
        ("notification.sent", r.event_id, r.recipient) for r in rows)
    assert all(o.sent_at is None and o.attempts == 0 for o in outcomes)
