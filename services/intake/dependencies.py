"""The guard of the public form as a nameko dependency: rate limit, CSRF, CORS, with their
state in intake's database so that every replica shares it."""
from __future__ import annotations

import gc
from dataclasses import dataclass
from datetime import UTC, datetime

from nameko.extensions import DependencyProvider
from sqlalchemy.orm import Session

from services.intake import db as intake_db
from services.intake import guards, pages, schemas
from services.intake import settings as intake_settings
from shared.campaign import LANGUAGES
from shared.config import service_settings
from shared.db import Database, database_for

SECRET_SETTING = "csrf_secret"


class Guard:
    """What the entrypoints ask before they accept a request."""

    def __init__(self, database: Database, rate_limit: guards.RateLimit | None,
                 origins: frozenset[str], secret: str | None,
                 proxies: frozenset[str] = frozenset()):
        self.database = database
        self.rate_limit = rate_limit
        self.origins = origins
        self.proxies = proxies
        self._secret = secret

    def client(self, peer: str | None, forwarded_for: str | None) -> str | None:
        """Whom the rate limit counts: the peer, or the applicant behind our proxies."""
        return guards.client_address(peer, forwarded_for, self.proxies)

    def admit(self, address: str | None) -> None:
        """Count a request that goes no further than a refusal, in its own transaction;
        raises TooManyRequests over the limit (and the refused request is not counted)."""
        admission = self.admission(address)
        if admission is None:
            return
        with self.database.transaction() as session:
            admission.check(intake_db.count_request(session, *admission.counter))

    def admission(self, address: str | None) -> guards.Admission | None:
        """What a request from ``address`` counts against the rate limit, None without one:
        the submission desk counts it in the submission's own transaction."""
        if self.rate_limit is None:
            return None
        return self.rate_limit.admission(address, datetime.now(UTC))

    def secret(self) -> str:
        """INTAKE_SECRET, or the one generated and stored by the first replica that started."""
        if self._secret is None:
            with self.database.transaction() as session:
                self._secret = intake_db.setting(session, SECRET_SETTING, guards.new_secret())
        return self._secret

    def csrf_token(self, browser_id: str) -> str:
        return guards.csrf_token(self.secret(), browser_id)

    def csrf_valid(self, browser_id: str | None, token: str | None) -> bool:
        return guards.csrf_valid(self.secret(), browser_id, token)

    def cors_headers(self, origin: str | None) -> dict[str, str]:
        """The headers that let a browser on an allowed site read the JSON answer."""
        if not guards.origin_allowed(origin, self.origins):
            return {"Vary": "Origin"}
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


class FormGuard(DependencyProvider):
    def setup(self) -> None:
        config = self.container.config
        knobs = service_settings(config, intake_settings.load)
        self.guard = Guard(database_for(config["DB_URL"]), knobs.rate_limit, knobs.cors_origins,
                           knobs.secret, knobs.trusted_proxies)

    def get_dependency(self, worker_ctx) -> Guard:
        return self.guard


class LinkGuard(DependencyProvider):
    """The limits of "lost your link?": per client address (a refusal it sees), and per
    reference (silent, so that the answer never tells whether a reference exists)."""

    def setup(self) -> None:
        config = self.container.config
        knobs = service_settings(config, intake_settings.load)
        self.database = database_for(config["DB_URL"])
        self.per_client = knobs.link_rate_limit
        self.per_reference = knobs.link_mails_per_reference

    def get_dependency(self, worker_ctx) -> LinkGuard:
        return self

    def admit(self, address: str | None, reference: str) -> None:
        """Count one request; TooManyRequests for the client, QuietlyRefused for the
        reference. Counted in its own transaction: a refused request still counts."""
        now = datetime.now(UTC)
        with self.database.transaction() as session:
            client_over = _over(session, self.per_client, f"link|{address}", now)
            reference_over = _over(session, self.per_reference, f"reference|{reference}", now)
        if client_over is not None:
            raise guards.TooManyRequests(client_over)
        if reference_over is not None:
            raise guards.QuietlyRefused(reference)


def _over(session: Session, limit: guards.RateLimit | None, who: str,
          now: datetime) -> int | None:
    """Count a request of ``who``; the seconds to wait if it is over ``limit``, else None."""
    if limit is None:
        return None
    admission = limit.admission(who, now)
    return admission.over(intake_db.count_request(session, *admission.counter))


class PublicAddress(DependencyProvider):
    """INTAKE_URL: where the applicant's page links point (the address the public reaches)."""

    def setup(self) -> None:
        self.url = service_settings(self.container.config, intake_settings.load).url

    def get_dependency(self, worker_ctx) -> str:
        return self.url


@dataclass(frozen=True)
class Notice:
    """The privacy notice's address when it is not intake's own page, and the secretariat's."""

    elsewhere: str | None
    contact: str


class PrivacyNotice(DependencyProvider):
    """Where the privacy notice is and who it tells people to write to: PRIVACY_URL (when the
    secretariat publishes its notice elsewhere, intake's /privacy sends people there) and
    SECRETARIAT_EMAIL (else MAIL_FROM)."""

    def setup(self) -> None:
        knobs = service_settings(self.container.config, intake_settings.load)
        own = knobs.url + "/privacy"
        elsewhere = knobs.privacy_url
        self.notice = Notice(elsewhere if elsewhere and elsewhere != own else None,
                             knobs.secretariat_email)

    def get_dependency(self, worker_ctx) -> Notice:
        return self.notice


def relay_nudge_seconds(config) -> float:
    """How long the relay gathers the wakes of intake's commits (INTAKE_RELAY_NUDGE_SECONDS).

    Woken by every submission, it published one row at a time, with three transactions around
    each; under load that cost more than the submissions themselves. Gathered, each pass
    publishes a batch."""
    return service_settings(config, intake_settings.load).relay_nudge_seconds


class LongLivedHeap(DependencyProvider):
    """Once intake has started, moves every object of the process into the garbage collector's
    permanent generation (``gc.freeze``), after building the pages, catalogs and schemas of
    each language.

    What is alive at start-up stays alive (modules, catalogs, country names, engines); a full
    collection that walks it all stopped the process for about 70 ms under load, which made
    the slowest submissions. Frozen, a full collection takes about a millisecond.
    """

    def start(self) -> None:
        for language in LANGUAGES:
            pages.form_page(language)
            pages.thanks_page(language, "HRC-2026-00000")
            schemas.form_schema(language)
        gc.collect()
        gc.freeze()
