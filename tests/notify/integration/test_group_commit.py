"""Sent marks committed in groups (SQLite and PostgreSQL, a real SMTP server): a sender's mail is
marked before that sender sends its next, so a group never holds more than one mail per sender
and a crash could send at most that many again; a group whose commit fails stops its senders,
leaves those mails unmarked (no mark without its event) and they go out again, the same
message."""
from __future__ import annotations

import smtplib
from collections import Counter

import eventlet
import pytest
from sqlalchemy import select

from services.notify import db
from services.notify.delivery import MailDelivery, SmtpServer, SmtpTransport
from services.notify.domain import Secretariat
from services.notify.mail import Renderer
from shared.events import new_event
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
        self.accepted: list[tuple[str, int]] = []  # (recipient, row id), in the server's order

    def send(self, sender, recipient, message, name):
        sender_thread = id(eventlet.getcurrent())
        previous = self.last.get(sender_thread)
        if previous is not None:
            with self.database.transaction() as session:
                if session.get(db.NotificationRow, previous).status != db.SENT:
                    self.unmarked_before_next.append(previous)
        super().send(sender, recipient, message, name)
        self.accepted.append((recipient, int(name)))
        self.last[sender_thread] = int(name)


def _delivery(notify, smtp_server, transport=None, senders=SENDERS) -> MailDelivery:
    transport = transport or SmtpTransport(SmtpServer("127.0.0.1", smtp_server.port, timeout=5))
    return MailDelivery(notify.database, transport, Renderer(), MAIL, Secretariat(STAFF), FAST,
                        batch_size=50, senders=senders)


def _counted(delivery: MailDelivery) -> list[list[str]]:
    """The recipients of each group commit, in commit order."""
    groups: list[list[str]] = []
    mark = delivery._sent
    delivery._sent = lambda sent: (groups.append([row.recipient for row, _ in sent]),
                                   mark(sent))
    return groups


def _application_answered(notify) -> None:
    """An application's first answer: its acknowledgement and a notice per staff address."""
    notify.receive(samples.received())
    notify.receive(new_event("application.under_review", {
        "application_id": 1, "reference": "HRC-2026-7KQ2M", "possible_duplicates": [],
        "wave": 3}))


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


def test_the_first_mails_mark_shares_the_commit_of_the_next_one(notify, smtp_server):
    """A lone application's mails (one to the applicant, one per staff address): the first is
    sent alone (a server that is away costs one row an attempt), but its mark waits for the
    next mail's 250 and goes in the same commit, where it was a commit of its own; each
    sender's mail is still marked before that sender sends another."""
    _application_answered(notify)
    transport = Watching(SmtpServer("127.0.0.1", smtp_server.port, timeout=5), notify.database)
    delivery = _delivery(notify, smtp_server, transport)
    groups = _counted(delivery)

    assert delivery.deliver_due().sent == 3
    transport.close()

    assert len(groups[0]) >= 2 and len(groups) <= 2, groups
    assert sorted(r for group in groups for r in group) == sorted(
        [*STAFF, "zoe.martin@grigny.example"])
    assert transport.unmarked_before_next == []
    assert notify.count(db.NotificationRow.status == db.SENT) == 3
    assert sum(_outcomes(notify).values()) == 3


def test_one_sender_marks_each_mail_before_the_next(notify, smtp_server):
    """NOTIFY_SENDERS 1: no other sender has a mail on its way, so the first mail's mark does
    not wait, and no group holds two mails."""
    _application_answered(notify)
    transport = Watching(SmtpServer("127.0.0.1", smtp_server.port, timeout=5), notify.database)
    delivery = _delivery(notify, smtp_server, transport, senders=1)
    groups = _counted(delivery)

    assert delivery.deliver_due().sent == 3
    transport.close()

    assert [len(group) for group in groups] == [1, 1, 1]
    assert transport.unmarked_before_next == []


class RefusingAllBut(SmtpTransport):
    """The server refuses every address but one for good (a 550)."""

    def __init__(self, server: SmtpServer, accepted: str):
        super().__init__(server)
        self.accepted = accepted

    def send(self, sender, recipient, message, name):
        if recipient != self.accepted:
            raise smtplib.SMTPRecipientsRefused({recipient: (550, b"no such user")})
        super().send(sender, recipient, message, name)


def test_the_first_mails_mark_is_committed_when_no_other_mail_is_accepted(notify, smtp_server):
    """The mails after the first are refused: the first one's mark, waiting for a next 250
    that does not come, is committed by itself, before the batch ends."""
    _application_answered(notify)
    first = notify.rows()[0].recipient
    delivery = _delivery(notify, smtp_server,
                         RefusingAllBut(SmtpServer("127.0.0.1", smtp_server.port, timeout=5),
                                        first))
    groups = _counted(delivery)

    report = delivery.deliver_due()
    delivery.transport.close()

    assert report.sent == 1 and report.failed == 2 and groups == [[first]]
    assert [r.recipient for r in notify.rows(db.NotificationRow.status == db.SENT)] == [first]
    assert _outcomes(notify) == Counter([first])


def test_the_next_mail_to_an_address_goes_while_the_one_before_is_being_marked(
        notify, smtp_server):
    """One address's mails: the next one goes once the server has the one before (its 250),
    not once that one is marked, so a group may hold two mails to the address, from two
    senders; they still arrive in the order queued, and each sender's mail is marked before it
    sends another. (The marks are slowed down so that the senders run meanwhile.)"""
    person = [n for n in samples.every_notification("en")
              if n.recipient == "zoe.martin@grigny.example"][:6]
    with notify.database.transaction() as session:
        db.queue(session, person)
    queued = [row.id for row in notify.rows()]
    transport = Watching(SmtpServer("127.0.0.1", smtp_server.port, timeout=5), notify.database)
    delivery = _delivery(notify, smtp_server, transport)
    groups: list[int] = []
    before_marked: list[int] = []  # mails sent while the one before to the address was not
    mark, send = delivery._sent, transport.send

    def slow_mark(sent):
        groups.append(len(sent))
        eventlet.sleep(0.05)
        mark(sent)

    def watched_send(sender, recipient, message, name):
        row_id = int(name)
        if queued.index(row_id) >= 2:  # the second one may go as the first mail's mark waits
            with notify.database.transaction() as session:
                previous = session.get(db.NotificationRow, queued[queued.index(row_id) - 1])
                if previous.status != db.SENT:
                    before_marked.append(row_id)
        send(sender, recipient, message, name)

    delivery._sent, transport.send = slow_mark, watched_send
    assert delivery.deliver_due().sent == len(queued) == 6
    transport.close()

    assert before_marked, groups
    assert max(groups) <= SENDERS and sum(groups) == 6
    assert transport.unmarked_before_next == []
    assert [row_id for _, row_id in transport.accepted] == queued
