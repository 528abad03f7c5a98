"""Notify's entrypoints: events in, mail out."""
from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from services.notify.db import Notification
from services.notify.delivery import PENDING, MailDelivery, MailTransport
from shared import health
from shared.db import ServiceDatabase, database_for
from shared.http import http, json_response
from shared.reliability import Inbox, Loop, subscribed
from shared.retry import Backoff, utcnow

MIGRATIONS = Path(__file__).parent / "migrations"


def _compose(settings, recipient: str, subject: str, body: str) -> str:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.mail_from.rpartition("@")[2] or None)
    message.set_content(body)
    return message.as_string()


def handlers(config):
    settings = config["SETTINGS"]

    def queue_mail(session, event, template, recipient, subject, body):
        insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
        now = utcnow()
        session.execute(insert(Notification).values(
            event_id=event.event_id, recipient=recipient, template=template,
            message=_compose(settings, recipient, subject, body), status=PENDING, attempts=0,
            created_at=now, next_attempt_at=now,
        ).on_conflict_do_nothing(index_elements=["event_id", "recipient", "template"]))

    def acknowledge(event, session):
        data = event.data
        queue_mail(session, event, "acknowledgement", data["contact_email"],
                   f"Application received: {data['reference']}",
                   f"Thank you. Your application {data['reference']} for "
                   f"{data['government_name']} has been received.")
        for staff in settings.staff_emails:
            queue_mail(session, event, "staff_new_application", staff,
                       f"New application {data['reference']}",
                       f"New application {data['reference']}: {data['government_name']} "
                       f"({data['country']}). Review: hrc applications show {data['reference']}")

    return {"application.received": acknowledge}


class Mailer(DependencyProvider):
    """Sends queued notifications in a loop of its own, so a slow SMTP server delays only mail."""

    def setup(self) -> None:
        config = self.container.config
        self.delivery = MailDelivery(database_for(config["DB_URL"]),
                                     MailTransport(config["SETTINGS"]))
        self.loop = Loop("notify mail delivery", lambda: self.delivery.deliver_due() >= 0,
                          0.5, Backoff(1.0, 30.0))

    def start(self) -> None:
        self.container.spawn_managed_thread(self.loop.run)

    def stop(self) -> None:
        self.loop.stop()

    kill = stop


@subscribed
class NotifyService:
    name = "notify"

    config = Config()
    db = ServiceDatabase()
    inbox = Inbox(handlers)
    mailer = Mailer()

    @http("GET", "/health")
    def health(self, request):
        status, report = health.check(self.db, self.config["AMQP_URI"])
        return json_response(report, status)
