"""Sending the notification log: SMTP when SMTP_HOST is set, else .eml files in var/outbox/.

A mail is sent at most once per (event, recipient, template) row, and the window in which a crash
could send it twice is narrowed to the moments between the server's 250 and a short commit:
- a row is claimed with a short lease (shared.leases) that a heartbeat renews while this process
  lives, so a second replica or loop leaves it alone, and a killed process's rows are sent by
  another within seconds; a row whose lease this process lost is not sent;
- a few senders (green threads, each on its own SMTP connection, kept open while mail comes)
  share a batch; mails to one address are sent one after the other, in the order queued (the
  next once the server has the one before);
- each accepted mail is marked sent, with its ``notification.sent`` event, in a commit soon
  after the 250 (before the lease is let go), which also marks the mails the other senders had
  on their way and accepted meanwhile (``_SentBatch``, waiting ``JOIN_SECONDS`` at most): a
  sender goes on only once its mail is marked (NOTIFY_SENT_BATCH, 1). A larger
  NOTIFY_SENT_BATCH is faster but widens the window to that many mails per sender, so it is a
  deployment's choice, not the default. A crash between a 250 and that commit sends the mail
  again: SMTP has no way to make a submission idempotent, so a copy carries the same
  Message-ID (derived from the row's key, and the composed message is kept from the first
  failed attempt): receiving systems that suppress duplicates by Message-ID (Gmail, Cyrus,
  Sieve "duplicate") deliver it once, and mail clients fold it into the first.
Transient failures put the row back with exponential backoff (the rest of the log goes on);
permanent ones mark it failed, record ``notification.failed`` and queue an alert to staff.
"""
from __future__ import annotations

import json
import logging
import os
import smtplib
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import eventlet
from eventlet.semaphore import Semaphore
from sqlalchemy import bindparam, insert, text, update

from services.notify import db
from services.notify.db import FAILED, PENDING, SENT, NotificationRow
from services.notify.domain import ERASURE, Secretariat, delivery_failure_alert
from services.notify.failures import RETRY, Failure, classify, next_step
from services.notify.mail import MailSettings, Renderer, compose
from services.notify.unsubscribe import Signer, link
from shared import leases, outbox
from shared.clock import utcnow
from shared.db import Database
from shared.events import Event, checked_event
from shared.outbox import record
from shared.retry import Backoff
from shared.work_queue import WorkQueue

log = logging.getLogger(__name__)


# Connections stay open this long after the last poll that found mail: mail that trickles in
# (an acknowledgement now and then) reuses them instead of a connection, EHLO, STARTTLS and
# login per mail; servers close idle sessions after minutes (RFC 5321: at least 5).
KEEP_CONNECTIONS_SECONDS = 30.0
# How long a group commit waits for the mails the other senders have on their way (their 250):
# an exchange with a server takes milliseconds; a server slow to answer one mail delays the
# others' marks by this much at most, then they are committed without it.
JOIN_SECONDS = 0.05


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
    """SMTP connections kept open while there is mail to send, one per sender sending at the
    same moment; any connection trouble drops that connection for a fresh one. A connection
    that waited more than ``check_after`` seconds is asked for a NOOP before it carries a
    mail: the server may have closed it meanwhile, and a mail sent on a dead connection fails
    its attempt and waits for its backoff, where a NOOP that fails costs a fresh connection."""

    def __init__(self, server: SmtpServer, check_after: float = 2.0):
        self.server = server
        self.check_after = check_after
        self._idle: list[tuple[smtplib.SMTP, float]] = []

    def send(self, sender: str, recipient: str, message: bytes, name: str) -> None:
        smtp = self._take()
        try:
            smtp.sendmail(sender, [recipient], message)
        except smtplib.SMTPResponseException:
            # The server said no to this mail; the session itself is still good (smtplib RSETs).
            self._put(smtp)
            raise
        except Exception:
            _quit(smtp)
            raise
        self._put(smtp)

    def close(self) -> None:
        idle, self._idle = self._idle, []
        for smtp, _ in idle:
            _quit(smtp)

    def _take(self) -> smtplib.SMTP:
        while self._idle:
            smtp, since = self._idle.pop()
            if time.monotonic() - since < self.check_after:
                return smtp
            try:
                code, _ = smtp.noop()
            except (OSError, smtplib.SMTPException):
                code = None
            if code == 250:
                return smtp
            smtp.close()  # the server let it go: nothing was sent on it
        return self._connect()

    def _put(self, smtp: smtplib.SMTP) -> None:
        self._idle.append((smtp, time.monotonic()))

    def _connect(self) -> smtplib.SMTP:
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
        return smtp


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except Exception:  # closing a broken connection: nothing left to save
        smtp.close()


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


class MailDelivery(WorkQueue):
    """The notification log as a queue of leased work rows: a mail the server refused for good
    (or that kept failing for ``backoff.max_attempts``) is marked failed, and staff told."""

    model = NotificationRow
    waiting = NotificationRow.status == PENDING
    # Never due again: the moment stays, as when it failed (staff see it, may retry).
    given_up = {"status": FAILED}

    def __init__(
        self,
        database: Database,
        transport: Transport,
        renderer: Renderer,
        mail: MailSettings,
        secretariat: Secretariat,
        backoff: Backoff = RETRY,
        *,
        batch_size: int = 100,
        lease: timedelta = leases.LEASE,
        senders: int = 4,
        sent_batch: int = 1,
        secret: str | None = None,
    ):
        super().__init__(database, backoff=backoff, batch_size=batch_size, lease=lease)
        self.transport = transport
        self.renderer = renderer
        self.mail = mail
        self.secretariat = secretariat
        self.senders = senders
        self.sent_batch = sent_batch
        self._secret = secret
        self._signer: Signer | None = None
        self._last_due = 0.0

    def deliver_due(self) -> DeliveryReport:
        """Send one batch of due mail from ``senders`` green threads, each on its own SMTP
        connection; mails to one address go one after the other, in the order queued."""
        report = DeliveryReport()
        # Rows not reached (the server away, a lease lost) are released when the block ends.
        with self.claimed() as lease:
            report.claimed = len(lease.rows)
            if not lease.rows:
                if time.monotonic() - self._last_due > KEEP_CONNECTIONS_SECONDS:
                    # Nothing due for a while: the connections go until there is mail again.
                    self.transport.close()
                return report
            self._last_due = time.monotonic()
            line = _Line(lease)
            sent = _SentBatch(self, lease, line)
            try:
                # The first mail alone: when the server is away, one row learns it, not one
                # per sender. Its mark waits for the next mail's 250 when there is another to
                # send, so that the two share a commit (and their events a relay pass): a lone
                # application's two mails were two commits. This thread is then the first of
                # the senders, so a group still holds at most one mail per sender.
                self._sender(line, report, sent, limit=1, mark_with_next=len(line.rows) > 1)
                senders = [eventlet.spawn(self._sender, line, report, sent)
                           for _ in range(min(self.senders - 1, len(line.rows)))]
                failure: BaseException | None = None
                try:
                    sent.wait_marked()
                    self._sender(line, report, sent)
                except Exception as exc:  # the others finish their mail first
                    failure = exc
                for sender in senders:
                    try:
                        sender.wait()
                    except Exception as exc:  # the others finish their mail first
                        failure = failure or exc
                if failure is not None:
                    raise failure
            finally:
                # Before the lease is let go: no other holder may take an accepted mail.
                sent.flush()
                if report.stalled:
                    self.transport.close()
        return report

    def _sender(self, line: _Line, report: DeliveryReport, sent: _SentBatch,
                limit: int | None = None, mark_with_next: bool = False) -> None:
        """Sends rows until none is left (or ``limit``). ``mark_with_next``: the accepted
        mail's mark is left to the next commit (``_SentBatch.wait_marked``)."""
        count = 0
        while not report.stalled and (limit is None or count < limit):
            row = line.take()
            if row is None:
                return
            count += 1
            try:
                self._deliver(row, report, sent, mark_with_next)
            finally:
                line.done(row)  # when sending failed before its outcome
            eventlet.sleep(0)

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

    def _deliver(self, row: NotificationRow, report: DeliveryReport, sent: _SentBatch,
                 mark_with_next: bool = False) -> bool:
        """Send one row; False when the server is out of reach and the batch should stop."""
        message = row.message
        try:
            if message is None:
                notification = row.notification()
                message = compose(notification, self.renderer, self.mail, datetime.now(UTC),
                                  self._unsubscribe_link(row) if notification.announcement
                                  else None).as_string()
            self.transport.send(self.mail.mail_from, row.recipient, message.encode("ascii"),
                                f"{row.id:08d}")
        except Exception as exc:
            sent.line.done(row)
            failure = next_step(classify(exc), row.attempts + 1, self.backoff)
            self._failed(row, message, failure)
            if failure.transient:
                report.retrying += 1
                # No SMTP code: the server could not be reached; the rest of the batch would
                # only wait on the same timeout.
                report.stalled = failure.code is None
                return not report.stalled
            report.failed += 1
            return True
        # The server has it: the next mail to this address may go while this one's mark waits
        # for the group's commit (it is sent after this 250 all the same).
        sent.line.done(row)
        sent.add(row, message, wait=not mark_with_next)
        report.sent += 1
        return True

    def _unsubscribe_link(self, row: NotificationRow) -> str:
        """The announcement's one-click link, signed for this mail and this address."""
        if self._signer is None:
            self._signer = db.signer(self.database, self._secret)
        return link(self.mail.notify_url, self._signer.token(row.id, row.recipient))

    def _sent(self, sent: list[tuple[NotificationRow, str]]) -> None:
        """Mark mails sent, each with its ``notification.sent`` event, at once."""
        now = utcnow()
        events = [_outcome("notification.sent", row, None) for row, _ in sent]
        if any(row.template == ERASURE for row, _ in sent):
            with self.database.transaction() as session:
                session.execute(_MARK_SENT, _marks(sent, now))
                record(session, *events)
                for row, _ in sent:
                    if row.template == ERASURE:
                        # The confirmation was the last mail for this person: drop the address
                        # now.
                        db.forget_recipient(session, row.recipient)
            return
        rows = [outbox.pending_row(event, now) for event in events]
        if self.database.is_postgresql:
            # One statement for the whole group (the marks and their events' outbox rows),
            # committed by itself: one round trip and one commit, where a transaction per mail
            # took four round trips (BEGIN, UPDATE, INSERT, COMMIT) on every mail.
            with self.database.statement() as connection:
                connection.execute(_MARK_SENT_WITH_EVENTS, {
                    "sent": SENT, "at": now,
                    "ids": [row.id for row, _ in sent],
                    "messages": [message for _, message in sent],
                    "attempts": [row.attempts + 1 for row, _ in sent],
                    "event_ids": [event["event_id"] for event in rows],
                    "types": [event["type"] for event in rows],
                    "payloads": [json.dumps(event["payload"]) for event in rows]})
        else:
            # A Core transaction, not a session: the session's bookkeeping around its commit
            # cost a third of the mark (SQLite, a commit per group of mails).
            with self.database.engine.begin() as connection:
                connection.execute(_MARK_SENT, _marks(sent, now))
                connection.execute(insert(outbox.OutboxRow.__table__), rows)
        outbox.committed(self.database)

    def _failed(self, row: NotificationRow, message: str | None, failure: Failure) -> None:
        attempts = row.attempts + 1
        log.log(logging.WARNING if failure.transient else logging.ERROR,
                "mail %s #%d (%s) failed, attempt %d, %s: %s", row.template, row.id,
                row.event_id, attempts, failure.kind.value, failure.detail)
        self.failed(row, failure.detail, give_up=not failure.transient, message=message)

    def gave_up(self, session, row: NotificationRow, error: str) -> None:
        record(session, _outcome("notification.failed", row, error))
        db.queue(session, delivery_failure_alert(row.notification(), error, self.secretariat))


class _Line:
    """The leased rows waiting for a sender. A sender takes the oldest row whose recipient no
    other sender is writing to, so one address's mails keep their order; a row whose lease was
    lost is left to its new holder."""

    def __init__(self, lease: leases.Lease):
        self.lease = lease
        self.rows = list(lease.rows)
        # Each address with a mail on its way, and that mail's row.
        self._busy: dict[str, int] = {}

    def take(self) -> NotificationRow | None:
        while self.rows:
            for index, row in enumerate(self.rows):
                if row.recipient not in self._busy:
                    if not self.lease.holds(row):
                        self.rows.clear()  # the lease is lost: the rest is not ours to send
                        return None
                    self._busy[row.recipient] = row.id
                    return self.rows.pop(index)
            eventlet.sleep(0.001)  # every remaining row waits for a mail now being sent
        return None

    def done(self, row: NotificationRow) -> None:
        """The row's outcome came (the server's answer, or a failure to reach it); said
        again once its sender is done with it, when the next mail to the address may already
        be on its way."""
        if self._busy.get(row.recipient) == row.id:
            del self._busy[row.recipient]

    def on_their_way(self) -> bool:
        """Whether a sender has a mail whose outcome has not come yet."""
        return bool(self._busy)


class _SentBatch:
    """Mails the server accepted, marked sent in a commit soon after each 250, with those the
    other senders had on their way and accepted meanwhile (a group commit, ``_join``): a
    sender sends its next mail only once its last is marked, so a crash sends at most one mail
    per sender again, as a commit of its own per mail did, but a batch takes fewer commits than
    it has mails (a commit per mail cost more than composing it). ``sent_batch`` above 1 lets a
    sender go on until that many are accepted: a crash then sends that many again, each the
    same message with the same Message-ID, which mail clients fold."""

    def __init__(self, delivery: MailDelivery, lease: leases.Lease, line: _Line):
        self.delivery = delivery
        self.lease = lease
        self.line = line
        self._open = _Group()
        # One commit at a time: a sender whose mail was accepted meanwhile waits here, and the
        # first to get in commits every mail accepted until then.
        self._committing = Semaphore()
        # The group holding a mail whose mark waits for the next commit (``wait=False``).
        self._waiting: _Group | None = None

    def add(self, row: NotificationRow, message: str, wait: bool = True) -> None:
        """Returns once the mail is marked sent (or ``sent_batch`` allows it to wait).
        ``wait=False``: its mark goes with the next mail accepted; its sender sends nothing
        more before ``wait_marked``."""
        group = self._open
        group.rows.append((row, message))
        if not wait:
            self._waiting = group
        elif len(group.rows) >= self.delivery.sent_batch:
            self._join(group)
            self._commit(group)

    def wait_marked(self) -> None:
        """Returns once the mail added with ``wait=False`` is marked: by the commit of a mail
        the other senders had on its way, or, when none of them has one (they found no row, or
        failed), by a commit of its own."""
        group, self._waiting = self._waiting, None
        if group is None:
            return
        eventlet.sleep(0)  # the senders just started take their first rows
        self._join(group)
        self._commit(group)

    def _join(self, group: _Group) -> None:
        """Before a group commits, the mails the other senders have on their way join it when
        their 250 comes (at most ``JOIN_SECONDS``): one commit, and one relay pass for their
        events, per round of the senders, where the first 250 committed by itself and the
        others followed in groups of one or two. Each of those senders waits for its own mark
        before its next mail, so a group still holds at most one mail per sender."""
        deadline = time.monotonic() + JOIN_SECONDS
        while (not group.committed and self.line.on_their_way() and group is self._open
               and time.monotonic() < deadline):
            eventlet.sleep(0.001)

    def flush(self) -> None:
        """Mark every accepted mail not marked yet (the batch ends)."""
        self._commit(self._open)

    def _commit(self, group: _Group) -> None:
        with self._committing:
            if not group.committed and group.rows:
                # Not committed and no commit running: it is still the open group. The
                # senders whose 250 has come join it before it closes.
                eventlet.sleep(0)
                self._open = _Group()
                group.committed = True
                try:
                    self.delivery._sent(group.rows)
                except BaseException as exc:
                    group.failure = exc
                    raise
                # Marked sent, claimed_until cleared: no release write for them when the
                # batch ends.
                self.lease.finished([row for row, _ in group.rows])
        if group.failure is not None:
            # Not marked: this sender stops too, the mails are sent again after the lease.
            raise group.failure


@dataclass
class _Group:
    rows: list[tuple[NotificationRow, str]] = field(default_factory=list)
    committed: bool = False
    failure: BaseException | None = None


_MARK_SENT = (update(NotificationRow.__table__)
              .where(NotificationRow.__table__.c.id == bindparam("row_id")))
# PostgreSQL: the marks as a data-modifying CTE of the outbox rows' INSERT, a group of mails in
# arrays (the columns of ``outbox.pending_row``, the event's JSON as the engine writes it).
_MARK_SENT_WITH_EVENTS = text(f"""
WITH marked AS (
    UPDATE {NotificationRow.__tablename__} AS notification
    SET status = :sent, sent_at = :at, claimed_until = NULL, message = mark.message,
        attempts = mark.attempts, last_error = NULL
    FROM unnest(CAST(:ids AS integer[]), CAST(:messages AS text[]),
                CAST(:attempts AS integer[])) AS mark(id, message, attempts)
    WHERE notification.id = mark.id)
INSERT INTO {outbox.OutboxRow.__tablename__}
    (event_id, type, payload, created_at, next_attempt_at, attempts)
SELECT event.event_id, event.type, event.payload, :at, :at, 0
FROM unnest(CAST(:event_ids AS varchar[]), CAST(:types AS varchar[]),
            CAST(:payloads AS json[])) AS event(event_id, type, payload)
""")


def _marks(sent: list[tuple[NotificationRow, str]], now: datetime) -> list[dict]:
    """``_MARK_SENT``'s parameters for mails the server accepted."""
    return [{"row_id": row.id, "status": SENT, "sent_at": now, "claimed_until": None,
             "message": message, "attempts": row.attempts + 1, "last_error": None}
            for row, message in sent]


def _outcome(type_: str, row: NotificationRow, error: str | None) -> Event:
    # Every field is the row's own, checked when it was queued: validating the event again
    # cost a tenth of sending a mail (tests/notify/unit/test_fast_paths.py holds the
    # claim that it passes the catalogue's schema).
    return checked_event(type_, {"event_id": row.event_id, "template": row.template,
                             "recipient": row.recipient, "error": error})

