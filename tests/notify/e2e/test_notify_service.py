"""The notify service through its real entrypoints: a nameko container on a fresh RabbitMQ
vhost, its own SQLite database, mail to a real SMTP server (aiosmtpd), events published to the
broker as the other services publish them."""
from __future__ import annotations

import pytest
import requests
from sqlalchemy import func, select

from hrc.cli import main as hrc
from services.notify import db
from shared import db as shared_db
from shared import inbox
from shared.broker import EventPublisher
from shared.events import new_event
from tests.notify import samples
from tests.notify.e2e.conftest import STAFF, STAFF_TOKEN
from tests.support.infra import wait_for

pytestmark = pytest.mark.real


def publish(settings, *messages: dict) -> None:
    publisher = EventPublisher(settings.amqp_uri)
    try:
        for message in messages:
            publisher.publish(message)
    finally:
        publisher.close()


def statuses(settings) -> dict[str, int]:
    with shared_db.database_for(settings.db_urls["notify"]).transaction() as session:
        rows = session.execute(select(db.NotificationRow.status, func.count())
                               .group_by(db.NotificationRow.status))
        return dict(rows.all())


def application(wave: int = 3) -> list[dict]:
    return [samples.received().as_message(),
            new_event("application.under_review", {"application_id": 1, "wave": wave,
                                                   "reference": "HRC-2026-7KQ2M"}).as_message()]


def test_events_from_the_broker_become_mails_once_even_when_delivered_twice(
        settings, notify, smtp_server):
    messages = application()
    publish(settings, *messages, *messages)
    wait_for(lambda: len(smtp_server.messages()) >= 3, 30, what="three mails")
    wait_for(lambda: statuses(settings) == {"sent": 3}, 10, what="the log to say sent")
    recipients = sorted(r for rs, _ in smtp_server.messages() for r in rs)
    assert recipients == sorted(["zoe.martin@grigny.example", *STAFF])
    port = settings.ports["notify"]
    assert requests.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200


def test_smtp_down_then_up_while_the_service_runs(settings, notify, smtp_server):
    smtp_server.stop()
    publish(settings, *application())
    wait_for(lambda: statuses(settings).get("pending") == 3, 30, what="three mails queued")
    smtp_server.start()
    wait_for(lambda: statuses(settings) == {"sent": 3}, 30, what="all mails sent")
    assert len(smtp_server.messages()) == 3


def test_an_event_that_waits_too_long_is_parked_listed_and_replayed(settings, notify,
                                                                    smtp_server, capsys,
                                                                    monkeypatch):
    # hrc asks notify's own staff route (at NOTIFY_PORT), never its database.
    monkeypatch.setenv("HRC_STAFF_TOKEN", STAFF_TOKEN)
    # Its application never arrives within INBOX_WAIT_LIMIT_SECONDS: someone has to look.
    decline = new_event("application.declined", {"application_id": 1, "reason": "Incomplete",
                                                 "reference": "HRC-2026-7KQ2M"}).as_message()
    publish(settings, decline)

    def parked():
        with shared_db.database_for(settings.db_urls["notify"]).transaction() as session:
            return [row.event_id for row in inbox.parked(session)]

    wait_for(lambda: parked() == [decline["event_id"]], 30, what="the event to be parked")
    assert hrc(["events", "failed", "--service", "notify"]) == 0
    assert decline["event_id"] in capsys.readouterr().out
    received, under_review = application()
    publish(settings, received, under_review)

    def done(event_id):
        with shared_db.database_for(settings.db_urls["notify"]).transaction() as session:
            row = session.scalar(select(inbox.InboxRow).where(inbox.InboxRow.event_id == event_id))
            return row is not None and row.status == inbox.DONE

    wait_for(lambda: done(under_review["event_id"]), 30, what="the application to be filed")
    assert hrc(["events", "replay", "--service", "notify"]) == 0
    wait_for(lambda: any("declined" in m["Message-ID"] for _, m in smtp_server.messages()), 30,
             what="the declined mail after the replay")
