"""SMTP connections kept between polls (a real SMTP server; SQLite and PostgreSQL): mail that
trickles in reuses the open connection instead of a fresh one per mail, and a connection the
server dropped meanwhile costs a fresh one, not a failed attempt."""
from __future__ import annotations

from services.notify import db
from services.notify.delivery import MailDelivery, SmtpServer, SmtpTransport
from services.notify.domain import Secretariat
from services.notify.mail import Renderer
from tests.notify import samples
from tests.notify.integration.conftest import FAST, MAIL, STAFF


class Counting(SmtpTransport):
    def __init__(self, server: SmtpServer, check_after: float):
        super().__init__(server, check_after)
        self.connections = 0

    def _connect(self):
        self.connections += 1
        return super()._connect()


def _delivery(database, smtp_server, check_after: float) -> MailDelivery:
    transport = Counting(SmtpServer("127.0.0.1", smtp_server.port, timeout=5), check_after)
    return MailDelivery(database, transport, Renderer(), MAIL, Secretariat(STAFF), FAST)


def _queue(database, notification) -> None:
    with database.transaction() as session:
        db.queue(session, [notification])


def test_mail_that_trickles_in_reuses_the_connection_across_empty_polls(database, smtp_server):
    delivery = _delivery(database, smtp_server, check_after=0.0)
    mails = samples.every_notification("en")[:3]
    for mail in mails:
        _queue(database, mail)
        assert delivery.deliver_due().sent == 1
        assert delivery.deliver_due().claimed == 0  # a poll that finds nothing
    delivery.transport.close()
    assert delivery.transport.connections == 1
    assert len(smtp_server.messages()) == 3


def test_a_connection_the_server_dropped_costs_a_fresh_one_not_a_failed_attempt(
        database, smtp_server):
    delivery = _delivery(database, smtp_server, check_after=0.0)
    first, second = samples.every_notification("fr")[:2]
    _queue(database, first)
    assert delivery.deliver_due().sent == 1
    smtp_server.stop()  # the server restarts: every session it had is gone
    smtp_server.start()

    _queue(database, second)
    report = delivery.deliver_due()
    delivery.transport.close()

    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    assert delivery.transport.connections == 2
    with database.transaction() as session:
        rows = session.query(db.NotificationRow).order_by(db.NotificationRow.id).all()
        assert [(r.status, r.attempts) for r in rows] == [(db.SENT, 1), (db.SENT, 1)]
    assert len(smtp_server.messages()) == 2
