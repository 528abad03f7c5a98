"""The sender's lease, on SQLite and PostgreSQL: a sender SIGKILLed in the middle of an SMTP
exchange loses its mails within the lease, and another sends each of them once."""
from __future__ import annotations

import time
from datetime import timedelta

from services.notify import db
from services.notify.delivery import MailDelivery
from services.notify.domain import Secretariat
from services.notify.mail import Renderer
from tests.notify import samples
from tests.notify.integration.conftest import MAIL, STAFF
from tests.support.holder import Holder
from tests.support.infra import wait_for

LEASE = 1.5


class Recording:
    def __init__(self):
        self.sent: list[tuple[str, bytes]] = []

    def send(self, sender, recipient, message, name):
        self.sent.append((recipient, message))

    def close(self):
        pass


def test_a_killed_sender_s_mails_go_out_from_another_within_the_lease(database):
    mails = samples.every_notification("fr")[:4]
    with database.transaction() as session:
        db.queue(session, mails)
    transport = Recording()
    delivery = MailDelivery(database, transport, Renderer(), MAIL, Secretariat(STAFF),
                            lease=timedelta(seconds=LEASE))
    holder = Holder(database.url, "mail", LEASE)
    holder.wait_holding()
    time.sleep(3 * LEASE)
    assert delivery.deliver_due().claimed == 0, "a live sender's mails were taken"
    died = holder.kill()
    wait_for(lambda: delivery.deliver_due().sent, 10 * LEASE, 0.05, "the killed sender's mails")
    print(f"mail on {database.engine.dialect.name}: sent {time.monotonic() - died:.2f} s after "
          f"SIGKILL (lease {LEASE} s)")
    delivery.deliver_all()
    assert sorted(r for r, _ in transport.sent) == sorted(m.recipient for m in mails)
    assert delivery.deliver_due().claimed == 0
