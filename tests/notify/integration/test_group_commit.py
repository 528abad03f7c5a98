"""Sent marks committed in groups (SQLite and PostgreSQL, a real SMTP server): a sender's mail is
marked before that sender sends its next, so a group never holds more than one mail per sender
and a crash could send at most that many again; a group whose commit fails stops its senders,
leaves those mails unmarked (no mark without its event) and they go out again, the same
message."""
from __future__ import annotations

from collections import Counter

import eventlet
import pytest
from sqlalchemy import select

from services.notify import db
from services.notify.delivery import MailDelivery, SmtpServer, SmtpTransport
from services.notify.domain import Secretariat
from services.notify.mail import Renderer
from shared.outbox import OutboxRow
from tests.notify import samples
from tests.notify.integration.conftest import FAST, MAIL, STAFF
from tests.notify.integration.test_wave_fanout import seed_members

MEMBERS = 120
SENDERS = 4


class Watching(SmtpTransport):
    """Checks, as each sender sends, that its last accepted mail is already marked sent."""

    def __init__(self, server: SmtpServer, database):
        super().__init__(server)
        self.database = database
        self.last: dict[int, int] = {}
        self.unmarked_before_next: list[int] = []

    def send(self, sender, recipient, message, name):
        sender_thread = id(eventlet.getcurrent())
        previous = self.last.get(sender_thread)
        if previous is not None:
            with self.database.transaction() as session:
                if session.get(db.NotificationRow, previous).status != db.SENT:
                    self.unmarked_before_next.append(previous)
        super().send(sender, recipient, message, name)
        self.last[sender_thread] = int(name)


def _delivery(notify, smtp_server, transport=None) -> MailDelivery:
    transport = transport or SmtpTransport(SmtpServer("127.0.0.1", smtp_server.port, timeout=5))
    return MailDelivery(notify.database, transport, Renderer(), MAIL, Secretariat(STAFF), FAST,
                        batch_size=50, senders=SENDERS)


def _outcomes(notify) -> Counter:
    with notify.database.transaction() as session:
        return Counter(payload["data"]["recipient"] for payload in session.scalars(
            select(OutboxRow.payload).where(OutboxRow.type == "notification.sent")))


def test_a_group_holds_at_most_one_mail_per_sender_each_marked_before_its_sender_goes_on(
        notify, smtp_server):
    seed_members(notify.database, MEMBERS)
    notify.receive(samples.wave_opened(4))
    transport = Watching(SmtpServer("127.0.0.1", smtp_server.port, timeout=5), notify.database)
    delivery = _delivery(notify, smtp_server, transport)
    groups = []
    mark = delivery._sent
    delivery._sent = lambda sent: (groups.append(len(sent)), mark(sent))

    delivery.deliver_all()
    transport.close()

    print(f"{len(groups)} commits for {MEMBERS} mails, groups {sorted(Counter(groups).items())}")
    assert transport.unmarked_before_next == []
    assert sum(groups) == MEMBERS and max(groups) <= SENDERS
    sent = [r.recipient for r in notify.rows(db.NotificationRow.status == db.SENT)]
    assert len(sent) == MEMBERS and _outcomes(notify) == Counter(sent)
    assert len(smtp_server.messages()) == MEMBERS


def test_a_group_whose_commit_fails_stops_its_senders_and_its_mails_go_out_again(
        notify, smtp_server):
    seed_members(notify.database, MEMBERS)
    notify.receive(samples.wave_opened(4))
    delivery = _delivery(notify, smtp_server)
    commits, failed = [], []
    mark = delivery._sent

    def database_away_once(sent):
        commits.append(len(sent))
        if len(commits) == 5:
            failed.extend(row.recipient for row, _ in sent)
            raise ConnectionError("the database went away")
        mark(sent)

    delivery._sent = database_away_once
    with pytest.raises(ConnectionError):
        delivery.deliver_due()
    accepted = Counter(r for rs, _ in smtp_server.messages() for r in rs)
    marked = {r.recipient for r in notify.rows(db.NotificationRow.status == db.SENT)}
    # Accepted but not marked: the failed group's mails, at most one per sender.
    assert set(accepted) - marked == set(failed) and 1 <= len(failed) <= SENDERS
    assert _outcomes(notify) == Counter(marked)

    delivery.transport.close()
    notify.send()  # another sender, once the failed batch let its rows go
    mails = smtp_server.messages()
    received = Counter(r for rs, _ in mails for r in rs)
    assert len(received) == MEMBERS
    # Only the failed group's mails came twice, each the same message both times.
    assert {r for r, n in received.items() if n > 1} <= set(failed)
    assert all(n <= 2 for n in received.values())
    for recipient in failed:
        copies = {m["Message-ID"] for rs, m in mails if recipient in rs}
        assert len(copies) == 1
    sent = [r.recipient for r in notify.rows(db.NotificationRow.status == db.SENT)]
    assert len(sent) == MEMBERS and _outcomes(notify) == Counter(sent)
