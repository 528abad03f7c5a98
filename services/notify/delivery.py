"""Sending the notification log: SMTP when SMTP_HOST is set, else .eml files in var/outbox/.

A mail is sent at most once per (event, recipient, template) row, and the window in which a crash
could send it twice is narrowed to the moment between the server's 250 and one short commit:
- a row is claimed with a short lease (shared.leases) that a heartbeat renews while this process
  lives, so a second replica or loop leaves it alone, and a killed process's rows are sent by
  another within seconds; a row whose lease this process lost is not sent;
- it is marked sent, with its ``notification.sent`` event, in a transaction right after the
  server accepts it. A crash between the 250 and that commit sends the mail again: SMTP has no
  way to make a submission idempotent, so the copy carries the same Message-ID (derived from the
  row's key, and the composed message is kept from the first failed attempt): receiving systems
  that suppress duplicates by Message-ID (Gmail, Cyrus, Sieve "duplicate") deliver it once, and
  mail clients fold it into the first.
Transient failures put the row back with exponential backoff (the rest of the log goes on);
permanent ones mark it failed, record ``notification.failed`` and queue an alert to staff.
"""
from __future__ import annotations

import logging
import os
import smtplib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import eventlet
from sqlalchemy import update

from services.notify import db
from services.notify.db import FAILED, PENDING, SENT, NotificationRow
from services.notify.domain import ERASURE, Secretariat, delivery_failure_alert
from services.notify.failures import Failure, FailureKind, RetryPolicy, classify
from services.notify.mail import MailSettings, Renderer, compose
from shared import leases
from shared.db import Database
from shared.events import new_event
from shared.outbox import record
from shared.retry import utcnow

log = logging.getLogger(__name__)


class Transport(Protocol):
    def send(self, sender: str, recipient: str, message: bytes, name: str) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 30.0


class SmtpTransport:
    """One SMTP connection reused for a batch; any connection trouble drops it for a fresh one."""

    def __init__(self, server: SmtpServer):
        self.server = server
        self._smtp: smtplib.SMTP | None = None

    def send(self, sender: str, recipient: str, message: bytes, name: str) -> None:
        smtp = self._connection()
        try:
            smtp.sendmail(sender, [recipient], message)
        except smtplib.SMTPResponseException:
            # The server said no to this mail; the session itself is still good (smtplib RSETs).
            raise
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except Exception:  # closing a broken connection: nothing left to save
            smtp.close()

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            server = self.server
            smtp = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
            try:
                if server.starttls:
                    smtp.starttls()
                if server.user:
                    smtp.login(server.user, server.password or "")
            except Exception:
                smtp.close()
                raise
            self._smtp = smtp
        return self._smtp


class EmlTransport:
    """The embedded default: each mail becomes ``<dir>/<name>.eml``."""

    def __init__(self, directory: Path):
        self.directory = directory

    def send(self, sender: str, recipient: str, message: bytes, name: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.directory / f"{name}.eml"
        # Write then rename, so a reader never sees half a message.
        partial = final.with_suffix(".partial")
        partial.write_bytes(message)
        os.replace(partial, final)

    def close(self) -> None:
        pass


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    # A connection-level failure stopped the batch: the server is away, wait before the next.
    stalled: bool = False
    claimed: int = field(default=0)


class MailDelivery:
    def __init__(
        self,
        database: Database,
        transport: Transport,
        renderer: Renderer,
        mail: MailSettings,
        secretariat: Secretariat,
        policy: RetryPolicy = RetryPolicy(),
        *,
        batch_size: int = 100,
        lease: timedelta = leases.LEASE,
    ):
        self.database = database
        self.transport = transport
        self.renderer = renderer
        self.mail = mail
        self.secretariat = secretariat
        self.policy = policy
        self.batch_size = batch_size
        self.lease = lease

    def deliver_due(self) -> DeliveryReport:
        """Send one batch of due mail."""
        report = DeliveryReport()
        now = utcnow()
        due = [NotificationRow.status == PENDING, NotificationRow.next_attempt_at <= now]
        # Rows not reached (the server away, a lease lost) are released when the block ends.
        with leases.hold(self.database, NotificationRow, due, limit=self.batch_size,
                         duration=self.lease) as lease:
            report.claimed = len(lease.rows)
            try:
                for row in lease.rows:
                    if not lease.holds(row) or not self._deliver(row, report):
                        break
                    eventlet.sleep(0)
            finally:
                self.transport.close()
        return report

    def deliver_all(self) -> DeliveryReport:
        """Send batches until nothing is due or the server is away."""
        total = DeliveryReport()
        while True:
            report = self.deliver_due()
            total.sent += report.sent
            total.retrying += report.retrying
            total.failed += report.failed
            total.claimed += report.claimed
            total.stalled = report.stalled
            if report.stalled or report.claimed < self.batch_size:
                return total

    def _deliver(self, row: NotificationRow, report: DeliveryReport) -> bool:
        """Send one row; False when the server is out of reach and the batch should stop."""
        message = row.message
        try:
            if message is None:
                message = compose(row.notification(), self.renderer, self.mail,
                                  datetime.now(UTC)).as_string()
            self.transport.send(self.mail.mail_from, row.recipient, message.encode("ascii"),
                                f"{row.id:08d}")
        except Exception as exc:
            failure = self.policy.next_step(classify(exc), row.attempts + 1)
            self._failed(row, message, failure)
            if failure.transient:
                report.retrying += 1
                # No SMTP code: the server could not be reached; the rest of the batch would
                # only wait on the same timeout.
                report.stalled = failure.code is None
                return not report.stalled
            report.failed += 1
            return True
        self._sent(row, message)
        report.sent += 1
        return True

    def _sent(self, row: NotificationRow, message: str) -> None:
        with self.database.transaction() as session:
            session.execute(update(NotificationRow).where(NotificationRow.id == row.id).values(
                status=SENT, sent_at=utcnow(), claimed_until=None, message=message,
                attempts=row.attempts + 1, last_error=None))
            record(session, _outcome("notification.sent", row, None))
            if row.template == ERASURE:
                # The confirmation was the last mail for this person: drop the address now.
                db.forget_recipient(session, row.recipient)

    def _failed(self, row: NotificationRow, message: str | None, failure: Failure) -> None:
        attempts = row.attempts + 1
        log.log(logging.WARNING if failure.transient else logging.ERROR,
                "mail %s #%d (%s) failed, attempt %d, %s: %s", row.template, row.id,
                row.event_id, attempts, failure.kind.value, failure.detail)
        values: dict = {"attempts": attempts, "last_error": failure.detail[:2000],
                        "claimed_until": None, "message": message}
        if failure.transient:
            values["next_attempt_at"] = utcnow() + self.policy.delay(attempts)
        else:
            values["status"] = FAILED
        with self.database.transaction() as session:
            result = session.execute(update(NotificationRow)
                                     .where(NotificationRow.id == row.id,
                                            NotificationRow.status == PENDING)
                                     .values(**values))
            if failure.kind is FailureKind.PERMANENT and result.rowcount == 1:
                record(session, _outcome("notification.failed", row, failure.detail))
                db.queue(session, delivery_failure_alert(row.notification(), failure.detail,
                                                         self.secretariat))


def _outcome(type_: str, row: NotificationRow, error: str | None):
    return new_event(type_, {"event_id": row.event_id, "template": row.template,
                             "recipient": row.recipient, "error": error})

