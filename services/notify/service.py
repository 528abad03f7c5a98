"""Notify's entrypoints: events in (through the inbox), mail out (through the log)."""
from __future__ import annotations

from pathlib import Path

from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Response

from services.notify import db, unsubscribe
from services.notify import settings as notify_settings
from services.notify.db import announced_tokens, read_ahead
from services.notify.delivery import MailDelivery
from services.notify.handlers import inbox_handlers
from services.notify.mail import Renderer
from shared import subject_access
from shared.clock import utcnow
from shared.config import service_settings
from shared.db import database_for
from shared.http import HttpError, route
from shared.parked_events import ParkedEventRoutes
from shared.reliability import BackgroundLoop, Inbox, subscribed
from shared.retry import Backoff
from shared.service import Service
from shared.staff_access import StaffAccess

MIGRATIONS = Path(__file__).parent / "migrations"


class Mailer(BackgroundLoop):
    """Sends the notification log in a loop of its own: a slow or absent SMTP server delays
    mail, never the handling of events. The inbox wakes it when events were handled, and so
    does a route that puts a mail back in line (a failed one sent again)."""

    follows_inbox = True

    def setup(self) -> None:
        config = self.container.config
        knobs = service_settings(config, notify_settings.load)
        self.delivery = MailDelivery(
            database_for(config["DB_URL"]), knobs.transport(), Renderer(), knobs.mail,
            knobs.secretariat, knobs.backoff, batch_size=knobs.batch_size,
            lease=knobs.lease, senders=knobs.senders, sent_batch=knobs.sent_batch,
            secret=knobs.secret,
        )
        self.runs("notify mail delivery", knobs.poll_seconds, Backoff(1.0, 30.0))

    def step(self) -> bool:
        # Its notification.sent and .failed events wake the relay with the commit that marks.
        return not self.delivery.deliver_all().stalled


class Unsubscribes(DependencyProvider):
    """The one-click unsubscribe from announcements (RFC 8058): a public page per link, and the
    POST that records it. A link that names no announcement of ours is a 404 that changes
    nothing."""

    # The token is in the address: no referrer carries it away, no cache or index keeps it.
    HEADERS = {
        "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                   "form-action 'self'; frame-ancestors 'none'",
    }

    def setup(self) -> None:
        knobs = service_settings(self.container.config, notify_settings.load)
        self.database = database_for(self.container.config["DB_URL"])
        self.mail, self.secret = knobs.mail, knobs.secret
        self.pages = unsubscribe.Pages()
        self._signer: unsubscribe.Signer | None = None

    def get_dependency(self, worker_ctx) -> Unsubscribes:
        return self

    def page(self, request, token: str, click: bool) -> Response:
        """The question (a GET, which scanners do too), or the unsubscribe itself (a POST)."""
        if self._signer is None:
            self._signer = db.signer(self.database, self.secret)
        with self.database.transaction() as session:
            recipient = db.announcement_recipient(session, self._signer, token)
            if recipient is not None and click:
                db.unsubscribe(session, recipient, utcnow())
        if recipient is None:
            language = unsubscribe.page_language(request.args.get("lang"),
                                                 request.headers.get("Accept-Language"))
            return self._answer(404, unsubscribe.UNKNOWN, language)
        return self._answer(200, unsubscribe.DONE if click else unsubscribe.ASK,
                            recipient.language, token=token, already=recipient.unsubscribed)

    def _answer(self, status: int, state: str, language: str, **values) -> Response:
        html = self.pages.render(state, language, secretariat=self.mail.reply_to,
                                 privacy_url=self.mail.privacy_url(language), **values)
        return Response(html, status=status, mimetype="text/html", headers=self.HEADERS)


@subscribed
class NotifyService(Service, ParkedEventRoutes):
    name = "notify"
    inbox = Inbox(inbox_handlers, prepare=read_ahead)
    mailer = Mailer()
    staff = StaffAccess(announced_tokens.digests)
    unsubscribes = Unsubscribes()

    @route("GET", "/api/people", staff=True)
    def person(self, request):
        """``?email=``: what notify holds about the person at that address, the mails sent to
        it first (their export)."""
        email = subject_access.email_asked(request.args)
        with self.db.transaction() as session:
            return {"service": "notify", "email": email, **db.held_about(session, email)}

    @route("GET", "/unsubscribe/<token>")
    def unsubscribe_page(self, request, token):
        return self.unsubscribes.page(request, token, click=False)

    @route("POST", "/unsubscribe/<token>")
    def unsubscribe(self, request, token):
        """RFC 8058's one click (no cookie, no CSRF token), or the page's button."""
        return self.unsubscribes.page(request, token, click=True)

    @route("DELETE", "/api/unsubscribes", staff=True)
    def resubscribe(self, request):
        """``?email=``: announcements to that address again, when the person asks the
        secretariat (the unsubscribe page says to); ``GET /api/people`` shows the state."""
        email = subject_access.email_asked(request.args)
        with self.db.transaction() as session:
            was = db.resubscribe(session, email)
        return {"email": email, "unsubscribed": False, "was_unsubscribed": was}

    @route("GET", "/api/notifications", staff=True)
    def notifications(self, request):
        """``?reference=``: the mails about one application, for the console's timeline."""
        reference = request.args.get("reference", "").strip()[:40]
        if not reference:
            raise HttpError(422, "invalid_request", {"reference": ["required"]})
        with self.db.transaction() as session:
            return {"items": db.mails_about(session, reference)}

    @route("GET", "/api/notifications/failed", staff=True)
    def failed_mails(self, request):
        """Mails refused for good, for the console's "Needs someone"."""
        with self.db.transaction() as session:
            return db.failed_mails(session)

    @route("POST", "/api/notifications/<int:mail_id>/retry", staff=True)
    def retry_mail(self, request, mail_id):
        """One failed mail sent again, once its cause is fixed (404 unknown; 409 not failed, or
        its address erased)."""
        with self.db.transaction() as session:
            answer = db.retry_failed(session, mail_id, utcnow())
        self.mailer.wake()
        return answer
