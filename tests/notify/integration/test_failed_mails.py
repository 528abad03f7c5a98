"""Failed mails as staff see them, and one sent again once the cause is fixed (SQLite and
PostgreSQL, a real SMTP server)."""
from __future__ import annotations

import pytest

from services.notify import db
from shared.events import new_event
from shared.retry import utcnow
from tests.notify import samples

CONTACT = "zoe.martin@grigny.example"
REFERENCE = samples.received().data["reference"]


def _refused_acknowledgement(notify, smtp_server) -> db.NotificationRow:
    notify.receive(samples.received())
    notify.send()  # the staff alert about the new application
    smtp_server.set_mode("permfail")
    notify.receive(new_event("application.waitlisted", {"application_id": 42,
                                                        "reference": REFERENCE}))
    notify.delivery.deliver_all()
    smtp_server.set_mode("ok")
    [failed] = [row for row in notify.rows(db.NotificationRow.status == db.FAILED)
                if row.recipient == CONTACT]
    return failed


def test_a_refused_mail_is_listed_with_what_it_is_about(notify, smtp_server):
    failed = _refused_acknowledgement(notify, smtp_server)
    with notify.database.transaction() as session:
        listing = db.failed_mails(session)
    mine = [item for item in listing["items"] if item["id"] == failed.id]
    assert listing["total"] == len(listing["items"]) >= 1
    [item] = mine
    assert item["recipient"] == CONTACT and item["reference"] == REFERENCE
    assert item["error"].startswith("550") and item["attempts"] == 1
    assert item["created_at"] <= item["failed_at"]


def test_a_failed_mail_sent_again_reaches_the_server_once_and_leaves_the_list(notify,
                                                                             smtp_server):
    failed = _refused_acknowledgement(notify, smtp_server)
    notify.send()  # the staff alerts about it go out
    before = len(smtp_server.messages())
    with notify.database.transaction() as session:
        assert db.retry_failed(session, failed.id, utcnow()) == {
            "id": failed.id, "template": failed.template, "status": "pending"}
    notify.send()
    to_contact = [m for r, m in smtp_server.messages()[before:] if r == [CONTACT]]
    assert len(to_contact) == 1
    [row] = notify.rows(db.NotificationRow.id == failed.id)
    assert row.status == db.SENT
    with notify.database.transaction() as session:
        assert failed.id not in [i["id"] for i in db.failed_mails(session)["items"]]
        with pytest.raises(db.NotRetriable, match="sent, not failed"):
            db.retry_failed(session, failed.id, utcnow())


def test_an_unknown_mail_or_an_erased_address_cannot_be_sent_again(notify, smtp_server):
    failed = _refused_acknowledgement(notify, smtp_server)
    with notify.database.transaction() as session:
        with pytest.raises(db.UnknownMail):
            db.retry_failed(session, failed.id + 10_000, utcnow())
        db.forget_recipient(session, CONTACT)
    with notify.database.transaction() as session:
        with pytest.raises(db.NotRetriable, match="erased"):
            db.retry_failed(session, failed.id, utcnow())
    [row] = notify.rows(db.NotificationRow.id == failed.id)
    assert row.status == db.FAILED


def test_a_mail_failing_again_does_not_alert_staff_twice(notify, smtp_server):
    failed = _refused_acknowledgement(notify, smtp_server)
    notify.send()
    alerts = notify.count(db.NotificationRow.template == "delivery_failed")
    smtp_server.set_mode("permfail")
    with notify.database.transaction() as session:
        db.retry_failed(session, failed.id, utcnow())
    notify.delivery.deliver_all()
    assert notify.count(db.NotificationRow.template == "delivery_failed") == alerts
    [row] = notify.rows(db.NotificationRow.id == failed.id)
    assert row.status == db.FAILED

