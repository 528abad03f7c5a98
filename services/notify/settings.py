"""Notify's knobs, read from the shared Settings (environment) with working defaults.

Beyond DESIGN.md's variables: STAFF_LANGUAGE (en), MAIL_FROM_NAME, MAIL_REPLY_TO (the first of
STAFF_EMAILS), INTAKE_URL (or INTAKE_PUBLIC_URL) / REGISTRY_PUBLIC_URL (links in mails),
NOTIFY_PUBLIC_URL (notify's public address, where announcements' unsubscribe links point:
``http://localhost:<NOTIFY_PORT>``), NOTIFY_SECRET (signs those links; by default one is
generated and stored in notify's database by the first replica that needs it), SMTP_TIMEOUT (30 s),
NOTIFY_RETRY_BASE_SECONDS (30), NOTIFY_RETRY_MAX_SECONDS (3600), NOTIFY_MAX_ATTEMPTS (12),
NOTIFY_POLL_SECONDS (0.5), NOTIFY_BATCH_SIZE (100), LEASE_SECONDS (10: how long a claimed
mail stays this process's without its heartbeat, shared.leases), NOTIFY_SENDERS (4: SMTP
connections sending at once), NOTIFY_SENT_BATCH (1: accepted mails marked sent per commit;
more is faster, and a crash may then send that many again).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from services.notify.delivery import EmlTransport, SmtpServer, SmtpTransport, Transport
from services.notify.domain import DEFAULT_LANGUAGE, Secretariat
from services.notify.failures import RETRY
from services.notify.mail import MailSettings
from shared.campaign import LANGUAGES
from shared.config import Knobs
from shared.leases import LEASE
from shared.retry import Backoff


@dataclass(frozen=True)
class NotifySettings:
    mail: MailSettings
    secretariat: Secretariat
    backoff: Backoff
    smtp: SmtpServer | None
    outbox_dir: Path
    poll_seconds: float
    batch_size: int
    lease: timedelta
    senders: int = 4
    sent_batch: int = 1
    # NOTIFY_SECRET; None: the one stored in notify's database (db.signer).
    secret: str | None = None

    def transport(self) -> Transport:
        if self.smtp is None:
            return EmlTransport(self.outbox_dir)
        return SmtpTransport(self.smtp)


def load(knobs: Knobs) -> NotifySettings:
    settings = knobs.settings
    language = knobs.text("STAFF_LANGUAGE", DEFAULT_LANGUAGE)
    staff = settings.staff_emails or ("staff@localhost",)
    mail = MailSettings(
        mail_from=settings.mail_from,
        from_name=knobs.text("MAIL_FROM_NAME", MailSettings.from_name),
        # The address mails tell people to write to is the one the privacy notice gives
        # (SECRETARIAT_EMAIL), unless replies go elsewhere: two addresses for one secretariat
        # left applicants wondering which to use.
        reply_to=(knobs.text("MAIL_REPLY_TO") or knobs.text("SECRETARIAT_EMAIL") or staff[0]),
        intake_url=(knobs.text("INTAKE_URL") or knobs.text("INTAKE_PUBLIC_URL")
                    or f"http://localhost:{settings.ports['intake']}"),
        registry_url=(knobs.text("REGISTRY_PUBLIC_URL")
                      or f"http://localhost:{settings.ports['registry']}"),
        console_url=settings.console_url,
        notify_url=(knobs.text("NOTIFY_PUBLIC_URL")
                    or f"http://localhost:{settings.ports['notify']}").rstrip("/"),
        privacy_urls={language: settings.privacy_url_in(language) for language in LANGUAGES},
    )
    backoff = replace(
        RETRY,
        base_seconds=knobs.number("NOTIFY_RETRY_BASE_SECONDS", RETRY.base_seconds),
        max_seconds=knobs.number("NOTIFY_RETRY_MAX_SECONDS", RETRY.max_seconds),
        max_attempts=int(knobs.number("NOTIFY_MAX_ATTEMPTS", RETRY.max_attempts)),
    )
    smtp = None
    if settings.smtp_host:
        smtp = SmtpServer(settings.smtp_host, settings.smtp_port, settings.smtp_user,
                          settings.smtp_password, settings.smtp_starttls,
                          knobs.number("SMTP_TIMEOUT", 30))
    return NotifySettings(
        mail=mail,
        secretariat=Secretariat(staff, language if language in LANGUAGES else DEFAULT_LANGUAGE),
        backoff=backoff,
        smtp=smtp,
        outbox_dir=settings.outbox_dir,
        poll_seconds=knobs.number("NOTIFY_POLL_SECONDS", 0.5),
        batch_size=int(knobs.number("NOTIFY_BATCH_SIZE", 100)),
        lease=timedelta(seconds=knobs.number("LEASE_SECONDS", LEASE.total_seconds())),
        senders=max(1, int(knobs.number("NOTIFY_SENDERS", 4))),
        sent_batch=max(1, int(knobs.number("NOTIFY_SENT_BATCH", 1))),
        secret=knobs.text("NOTIFY_SECRET") or None,
    )
