"""One-click unsubscribe on notify's database (SQLite and PostgreSQL): the link in a sent
announcement unsubscribes its address from announcements only, once, and nothing else opens."""
from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest
from sqlalchemy import func, select

from services.notify import db
from services.notify.unsubscribe import Signer
from shared.clock import utcnow
from shared.events import new_event
from tests.notify import samples
from tests.notify.integration.conftest import make_notify

A, B = "ana@city.example", "ben@town.example"


class Recorder:
    """A transport that keeps what it is given (the SMTP path is test_delivery's)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, object]] = []

    def send(self, sender: str, recipient: str, message: bytes, name: str) -> None:
        self.sent.append((recipient, message_from_bytes(message, policy=policy.default)))

    def close(self) -> None:
        pass

    def to(self, address: str, template: str) -> list:
        return [m for r, m in self.sent if r == address and f".{template}@" in m["Message-ID"]]


def joined(member_id: int, email: str, language: str):
    return new_event("member.joined", {
        "member_id": member_id, "wave": 3, "government_name": "Ville", "country": "FR",
        "region": "Europe", "contact_email": email, "contact_name": "Contact",
        "language": language})


@pytest.fixture
def notify(database):
    return make_notify(database, Recorder())


def token_in(message) -> str:
    url = re.fullmatch(r"<(https?://[^>]+)>", message["List-Unsubscribe"]).group(1)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    return url.rsplit("/unsubscribe/", 1)[1]


def click(notify, token: str):
    """What POST /unsubscribe/<token> does: the recipient, unsubscribed; None if it opens no one."""
    with notify.database.transaction() as session:
        recipient = db.announcement_recipient(session, db.signer(notify.database, None), token)
        if recipient is not None:
            db.unsubscribe(session, recipient, utcnow())
        return recipient


def unsubscribes(notify) -> list[tuple[str, str]]:
    with notify.database.transaction() as session:
        return [(r.email, r.language) for r in session.scalars(select(db.UnsubscribeRow))]


def announced(notify) -> None:
    notify.receive(joined(1, A, "fr"), joined(2, B, "en"), samples.wave_opened(3))
    notify.send()


def test_the_link_unsubscribes_its_address_from_announcements_only_and_once(notify):
    announced(notify)
    [wave3] = notify.delivery.transport.to(A, "wave_opened")
    token = token_in(wave3)

    first = click(notify, token)
    assert (first.email, first.language, first.unsubscribed) == (A, "fr", False)
    again = click(notify, token)  # a second click, a client's retry: the same, once
    assert again.unsubscribed
    assert unsubscribes(notify) == [(A, "fr")]
    with notify.database.transaction() as session:  # the person's export says so
        [held] = db.held_about(session, A)["unsubscribes"]
        assert held["email"] == A and held["language"] == "fr"

    notify.receive(samples.wave_opened(4),
                   new_event("member.withdrawn", {"member_id": 1, "reason": "Fin de mandat"}))
    notify.send()
    transport = notify.delivery.transport
    assert len(transport.to(A, "wave_opened")) == 1  # wave 3 only
    assert len(transport.to(A, "withdrawal")) == 1  # what concerns the member still goes
    assert len(transport.to(B, "wave_opened")) == 2


def test_a_forged_or_foreign_token_opens_no_one_and_changes_nothing(notify):
    announced(notify)
    [wave3] = notify.delivery.transport.to(A, "wave_opened")
    token = token_in(wave3)
    mail_id = int(token.split(".")[0])
    [b_row] = notify.rows(db.NotificationRow.recipient == B)
    forged = [
        f"{mail_id}.{'A' * 32}",  # the right mail, a made-up signature
        Signer("another-deployment").token(mail_id, A),  # signed with another secret
        token.replace(f"{mail_id}.", f"{b_row.id}.", 1),  # A's signature on B's mail
        f"{mail_id + 1000}.{token.split('.')[1]}",  # no such mail
        "not-a-token",
    ]
    for bad in forged:
        assert click(notify, bad) is None, bad
    # A correctly signed link to a mail that is not an announcement opens nothing either.
    notify.receive(new_event("member.withdrawn", {"member_id": 2, "reason": "x"}))
    notify.send()
    [withdrawal] = notify.rows(db.NotificationRow.template == "withdrawal")
    signer = db.signer(notify.database, None)
    assert click(notify, signer.token(withdrawal.id, withdrawal.recipient)) is None
    assert unsubscribes(notify) == []


def test_announcements_still_waiting_for_that_address_are_cancelled(notify):
    announced(notify)
    token = token_in(notify.delivery.transport.to(A, "wave_opened")[0])
    notify.receive(samples.wave_opened(4))  # queued, not sent yet
    click(notify, token)
    [pending_for_a] = notify.rows(db.NotificationRow.recipient == A,
                                  db.NotificationRow.template == "wave_opened",
                                  db.NotificationRow.event_id != notify.rows()[0].event_id)
    assert pending_for_a.status == db.CANCELLED
    notify.send()
    assert len(notify.delivery.transport.to(A, "wave_opened")) == 1
    assert len(notify.delivery.transport.to(B, "wave_opened")) == 2


def test_erasure_forgets_the_unsubscribe_and_kills_the_link(notify):
    announced(notify)
    token = token_in(notify.delivery.transport.to(A, "wave_opened")[0])
    click(notify, token)
    notify.receive(new_event("member.erased", {"member_id": 1, "references": []}))
    notify.send()
    assert unsubscribes(notify) == []
    assert click(notify, token) is None
    with notify.database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(db.UnsubscribeRow)) == 0


def test_every_replica_signs_with_one_secret_unless_one_is_configured(database):
    first, second = db.signer(database, None), db.signer(database, None)
    assert first == second and len(first.secret) >= 40
    assert db.signer(database, "configured").secret == "configured"


def test_the_secretariat_puts_an_address_back_on_the_announcements(notify):
    announced(notify)
    click(notify, token_in(notify.delivery.transport.to(A, "wave_opened")[0]))
    with notify.database.transaction() as session:
        assert db.resubscribe(session, "Ana@City.example")
    with notify.database.transaction() as session:
        assert not db.resubscribe(session, A)  # once is enough; again changes nothing
    notify.receive(samples.wave_opened(4))
    notify.send()
    assert len(notify.delivery.transport.to(A, "wave_opened")) == 2
