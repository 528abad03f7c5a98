"""Notify's database (SQLite and PostgreSQL), its inbox and its sender, against a real SMTP
server (the ``smtp_server`` fixture: aiosmtpd in its own process)."""
from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from services.notify import db
from services.notify.delivery import MailDelivery, SmtpServer, SmtpTransport, Transport
from services.notify.domain import Secretariat
from services.notify.handlers import inbox_handlers
from services.notify.mail import MailSettings, Renderer
from services.notify.service import MIGRATIONS
from shared import config as shared_config
from shared import db as shared_db
from shared import inbox
from shared.events import Event
from shared.outbox import OutboxRow
from shared.retry import Backoff

STAFF = ("secretariat@uclg.example", "review@uclg.example")
MAIL = MailSettings(mail_from="campaign@uclg.example", reply_to="secretariat@uclg.example",
                    intake_url="https://join.uclg.example",
                    registry_url="https://staff.uclg.example",
                    console_url="https://console.uclg.example")
FAST = Backoff(0.05, 0.4, jitter=0.0, max_attempts=30)


def migrated_database(kind: str, request, tmp_path) -> shared_db.Database:
    """A fresh notify database, ``sqlite`` or ``postgresql``, at the newest revision."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path}/notify.db"
    else:
        url = request.getfixturevalue("postgres")("notify").url
    shared_db.migrate(url, MIGRATIONS)
    return shared_db.database_for(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    yield migrated_database(request.param, request, tmp_path)
    shared_db.dispose_all()


@dataclass
class Notify:
    """Notify without nameko: the inbox it stores events in, its handlers, its sender."""

    database: shared_db.Database
    processor: inbox.InboxProcessor
    delivery: MailDelivery

    def receive(self, *events: Event, timeout: float = 20.0) -> None:
        """Store the events as the broker would deliver them, and process the inbox until
        nothing is pending (each event done, or parked after its retries)."""
        for event in events:
            inbox.store(self.database, event.as_message())
        deadline = time.monotonic() + timeout
        while True:
            self.processor.process_due()
            with self.database.transaction() as session:
                if not inbox.counts(session).get(inbox.PENDING):
                    return
            if time.monotonic() > deadline:
                raise AssertionError("inbox events still pending")
            time.sleep(0.01)

    def send(self, timeout: float = 30.0) -> None:
        """Deliver until nothing is pending (retries included)."""
        deadline = time.monotonic() + timeout
        while self.pending():
            self.delivery.deliver_all()
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.pending()} mails still pending")
            time.sleep(0.02)

    def pending(self) -> int:
        return self.count(db.NotificationRow.status == db.PENDING)

    def count(self, *where) -> int:
        with self.database.transaction() as session:
            return session.scalar(select(func.count()).select_from(db.NotificationRow)
                                  .where(*where))

    def rows(self, *where) -> list[db.NotificationRow]:
        with self.database.transaction() as session:
            return list(session.scalars(select(db.NotificationRow).where(*where)
                                        .order_by(db.NotificationRow.id)))

    def outcomes(self) -> list[OutboxRow]:
        with self.database.transaction() as session:
            return list(session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def make_notify(database, transport: Transport, backoff: Backoff = FAST,
                staff_language: str = "en") -> Notify:
    settings = shared_config.load({"STAFF_EMAILS": ",".join(STAFF),
                                   "STAFF_LANGUAGE": staff_language})
    processor = inbox.InboxProcessor(database, inbox_handlers({"SETTINGS": settings}),
                                     backoff=Backoff(0.01, 0.05, max_attempts=3),
                                     wait_seconds=0.05)
    delivery = MailDelivery(database, transport, Renderer(), MAIL,
                            Secretariat(STAFF, staff_language), backoff)
    return Notify(database, processor, delivery)


@pytest.fixture
def notify(database, smtp_server):
    return make_notify(database, SmtpTransport(SmtpServer("127.0.0.1", smtp_server.port,
                                                          timeout=5)))
