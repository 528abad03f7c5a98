"""Sending the notification log: SMTP when SMTP_HOST is set, else .eml files in var/outbox/."""
from __future__ import annotations

import logging
import os
import smtplib
from datetime import timedelta
from email import message_from_string, policy
from pathlib import Path

from sqlalchemy import or_, select, update

from services.notify.db import Notification
from shared.config import Settings
from shared.db import Database
from shared.retry import Backoff, utcnow

log = logging.getLogger(__name__)

PENDING, SENT, FAILED = "pending", "sent", "failed"


class MailTransport:
    def __init__(self, settings: Settings):
        self.settings = settings

    def send(self, notification_id: int, message_text: str) -> None:
        if self.settings.smtp_host:
            self._send_smtp(message_text)
        else:
            self._write_eml(notification_id, message_text)

    def _send_smtp(self, message_text: str) -> None:
        settings = self.settings
        message = message_from_string(message_text, policy=policy.SMTP)
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(message)

    def _write_eml(self, notification_id: int, message_text: str) -> None:
        outbox = self.settings.outbox_dir
        outbox.mkdir(parents=True, exist_ok=True)
        final = outbox / f"{notification_id:08d}.eml"
        # Write then rename, so a reader never sees half a message.
        partial = Path(f"{final}.partial")
        partial.write_text(message_text, encoding="utf-8")
        os.replace(partial, final)


class MailDelivery:
    def __init__(self, database: Database, transport: MailTransport,
                 backoff: Backoff = Backoff(2.0, 600.0), max_attempts: int = 8):
        self.database = database
        self.transport = transport
        self.backoff = backoff
        self.max_attempts = max_attempts

    def deliver_due(self) -> int:
        delivered = 0
        for notification in self._claim():
            try:
                self.transport.send(notification.id, notification.message)
            except Exception as exc:
                self._failed(notification, exc)
                continue
            with self.database.transaction() as session:
                session.execute(update(Notification).where(Notification.id == notification.id)
                                .values(status=SENT, sent_at=utcnow(), claimed_until=None))
            delivered += 1
        return delivered

    def _claim(self) -> list[Notification]:
        now = utcnow()
        with self.database.transaction() as session:
            query = (select(Notification)
                     .where(Notification.status == PENDING, Notification.next_attempt_at <= now,
                            or_(Notification.claimed_until.is_(None),
                                Notification.claimed_until < now))
                     .order_by(Notification.id).limit(50))
            if self.database.is_postgresql:
                query = query.with_for_update(skip_locked=True)
            rows = list(session.scalars(query))
            if rows:
                session.execute(update(Notification)
                                .where(Notification.id.in_([r.id for r in rows]))
                                .values(claimed_until=now + timedelta(minutes=5)))
            return rows

    def _failed(self, notification: Notification, exc: Exception) -> None:
        attempts = notification.attempts + 1
        log.warning("mail %s to %s failed (attempt %d): %r", notification.template,
                    notification.recipient, attempts, exc)
        with self.database.transaction() as session:
            session.execute(update(Notification).where(Notification.id == notification.id).values(
                attempts=attempts, last_error=repr(exc)[:2000], claimed_until=None,
                status=FAILED if attempts >= self.max_attempts else PENDING,
                next_attempt_at=self.backoff.next_attempt(attempts)))
