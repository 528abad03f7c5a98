"""Notify's failed mails through its real staff routes: a container on RabbitMQ, a real SMTP
server that refuses, then accepts the mail sent again."""
from __future__ import annotations

import pytest
import requests

from shared.broker import EventPublisher
from shared.events import new_event
from tests.notify import samples
from tests.notify.e2e.conftest import STAFF_TOKEN
from tests.support.infra import wait_for

pytestmark = pytest.mark.real
STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}
CONTACT = "zoe.martin@grigny.example"


def test_a_refused_mail_is_listed_sent_again_and_delivered(settings, notify, smtp_server):
    url = f"http://127.0.0.1:{settings.ports['notify']}/api/notifications"
    smtp_server.set_mode("permfail")
    publisher = EventPublisher(settings.amqp_uri)
    publisher.publish(samples.received().as_message())
    publisher.publish(new_event("application.waitlisted", {
        "application_id": 1, "reference": samples.received().data["reference"]}).as_message())
    publisher.close()

    def failed_to_contact():
        items = requests.get(f"{url}/failed", headers=STAFF, timeout=10).json()["items"]
        return next((m for m in items if m["recipient"] == CONTACT), None)

    mail = wait_for(failed_to_contact, 30, what="the refused mail to be listed")
    assert mail["error"].startswith("550") and mail["reference"]
    assert requests.get(f"{url}/failed", timeout=10).status_code == 401
    assert requests.post(f"{url}/{mail['id']}/retry", timeout=10).status_code == 401

    smtp_server.set_mode("ok")
    answer = requests.post(f"{url}/{mail['id']}/retry", headers=STAFF, timeout=10)
    assert answer.status_code == 200 and answer.json()["status"] == "pending"
    wait_for(lambda: any(r == [CONTACT] for r, _ in smtp_server.messages()), 30,
             what="the mail sent again")
    assert failed_to_contact() is None
    again = requests.post(f"{url}/{mail['id']}/retry", headers=STAFF, timeout=10)
    assert again.status_code == 409
    assert requests.post(f"{url}/{mail['id'] + 9999}/retry", headers=STAFF,
                         timeout=10).status_code == 404
