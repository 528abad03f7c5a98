"""Several senders per batch and two replicas on one database (SQLite and PostgreSQL), against a
real SMTP server: every mail once, each address's mails in the order they were queued, and a
``notification.sent`` per mail."""
from __future__ import annotations

from collections import Counter

import eventlet
from sqlalchemy import select

from services.notify import db
from services.notify.delivery import MailDelivery, SmtpServer, SmtpTransport
from services.notify.domain import Secretariat
from services.notify.mail import Renderer, message_id
from shared.outbox import OutboxRow
from tests.notify import samples
from tests.notify.integration.conftest import FAST, MAIL, STAFF
from tests.notify.integration.test_wave_fanout import seed_members

MEMBERS = 300


def _replica(database, smtp_server) -> MailDelivery:
    return MailDelivery(database, SmtpTransport(SmtpServer("127.0.0.1", smtp_server.port,
                                                           timeout=5)),
                        Renderer(), MAIL, Secretariat(STAFF), FAST, batch_size=40, senders=4,
                        sent_batch=7)


def test_two_replicas_with_four_senders_each_send_every_mail_once(notify, smtp_server):
    seed_members(notify.database, MEMBERS)
    notify.receive(samples.wave_opened(4))
    # One address with several mails of its own, queued in a known order among the others.
    person = samples.every_notification("en")[:6]
    with notify.database.transaction() as session:
        db.queue(session, person)
    replicas = [_replica(notify.database, smtp_server) for _ in range(2)]

    threads = [eventlet.spawn(r.deliver_all) for r in replicas for _ in range(2)]
    for thread in threads:
        thread.wait()
    notify.send()  # anything a batch left behind

    mails = smtp_server.messages()
    keys = Counter((tuple(rs), m["Message-ID"]) for rs, m in mails)
    assert max(keys.values()) == 1
    assert len(mails) == MEMBERS + len(person)
    assert notify.pending() == 0
    for recipient in {n.recipient for n in person}:
        queued = [message_id(n, MAIL.domain) for n in person if n.recipient == recipient]
        arrived = [m["Message-ID"] for rs, m in mails if m["Message-ID"] in queued]
        assert arrived == queued
    with notify.database.transaction() as session:
        outcomes = Counter(session.scalars(select(OutboxRow.type)))
    assert outcomes["notification.sent"] == MEMBERS + len(person)
    for replica in replicas:
        replica.transport.close()
