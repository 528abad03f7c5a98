"""Reports' use cases over the database: feed the read model, rebuild it, deliver digests.

Reports and digests hold no transaction open while they compute: the read model is copied out
in one short transaction, digests and charts are made outside it (in an OS thread, through
``offload``), and what they produce is written in another short transaction. The rebuild is the
exception: it keeps its locks until the new model is in place.
"""
from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import text

from services.reports import db
from services.reports.domain import (
    DIGEST,
    DigestContent,
    DigestSchedule,
    InMemoryStore,
    Overview,
    Period,
    build_digest,
)
from services.reports.domain.digest import digest_instant, digest_of
from services.reports.domain.progress import overview_of
from services.reports.handlers import project
from services.reports.views import digest_ready_data, members_chart, render_digest
from services.reports.views.i18n import check_language
from shared import outbox
from shared.db import Database
from shared.events import new_event
from shared.inbox import stored_event

log = logging.getLogger(__name__)

T = TypeVar("T")
Offload = Callable[..., Any]


def run_here(function: Callable[..., T], *args: Any) -> T:
    return function(*args)


# --- the read model: fed by handlers.py, rebuilt here from the inbox ------------------------

# The event_id of the delivery-log row that starts a new installation's schedule (nothing sent).
SCHEDULE_START = "schedule-start"


def rebuild(database: Database) -> int:
    """Throw the read model away and fold every processed event of the inbox into a new one.

    The inbox keeps every event reports has ever processed, so a rebuild needs no other
    service and works the same on the embedded broker and on RabbitMQ. Locks keep the inbox
    loop of every replica out meanwhile (read-model tables first, as the loop takes them), and
    the projection's order tolerance makes the replay order irrelevant. Returns the number of
    events replayed.
    """
    with collection_paused(), database.transaction() as session:
        if database.is_postgresql:
            for table in ("rm_applications", "rm_members", "rm_decisions", "rm_waves", "inbox"):
                session.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))
        db.clear_read_model(session)
        model = InMemoryStore()
        count = 0
        for payload in db.processed_events(session):
            project(stored_event(payload), model)
            count += 1
        db.insert_model(session, model)
    log.info("reports: read model rebuilt from %d events", count)
    return count


_pauses = {"depth": 0, "was_enabled": True}


@contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic garbage collection while a large model is read and reported on.

    Copying a 100,000-member model makes some 400,000 objects, and the collector re-walks the
    growing heap again and again meanwhile: measured, a third of the time of a digest. The
    objects hold no cycles; reference counting frees them all the same. Pauses of several
    greenthreads overlap; the last one out turns collection back on, if it was on.
    """
    if _pauses["depth"] == 0:
        _pauses["was_enabled"] = gc.isenabled()
        gc.disable()
    _pauses["depth"] += 1
    try:
        yield
    finally:
        _pauses["depth"] -= 1
        if _pauses["depth"] == 0 and _pauses["was_enabled"]:
            gc.enable()


def snapshot(database: Database) -> InMemoryStore:
    with database.transaction() as session:
        return InMemoryStore.copy_of(db.SqlStore(session))


def now_utc() -> datetime:
    return datetime.now(UTC)


def campaign_overview(database: Database, offload: Offload = run_here,
                      at: datetime | None = None) -> Overview:
    """The campaign at ``at``, counted by the database (see ``db.overview_parts``)."""
    at = at or now_utc()
    with database.transaction() as session:
        parts = db.overview_parts(session, at)
    return offload(_overview_of, at, parts)


def _overview_of(at: datetime, parts: dict[str, Any]) -> Overview:
    return overview_of(at, **parts)


# Anyone may ask for the public figures, as often as they like: each process computes them at
# most once a minute, and they say so in their Cache-Control header too.
PUBLIC_MAX_AGE_SECONDS = 60
_public: dict[str, tuple[float, Overview]] = {}


def public_overview(database: Database, offload: Offload = run_here) -> Overview:
    cached = _public.get(database.url)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    picture = campaign_overview(database, offload)
    _public[database.url] = (time.monotonic() + PUBLIC_MAX_AGE_SECONDS, picture)
    return picture


# --- digests ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class DigestSettings:
    schedule: DigestSchedule
    language: str
    recipients: tuple[str, ...]
    digest: str = DIGEST
    # A period is delivered this long after its end, not at once: events of its last moments
    # are still on their way through the broker and the inbox.
    settle: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        check_language(self.language)


def compose_digest(model: InMemoryStore, period: Period, language: str,
                   recipients: tuple[str, ...], digest: str) -> dict[str, Any]:
    """The ``digest.ready`` data for ``period`` from a model in memory: CPU work, meant for
    an OS thread."""
    content = build_digest(model, period, digest, sent_at=now_utc())
    return digest_data(content, language, recipients)


def digest_facts(database: Database, period: Period) -> tuple[datetime, dict[str, Any]]:
    """What a digest of ``period`` sent now is made of, read in one short transaction: the
    rows it lists and the campaign's totals, counted by the database."""
    at = digest_instant(period, now_utc())
    with database.transaction() as session:
        facts = db.digest_candidates(session, period, at)
        facts["overview"] = db.overview_parts(session, at)
    return at, facts


def compose_digest_of(at: datetime, facts: dict[str, Any], period: Period, language: str,
                      recipients: tuple[str, ...], digest: str) -> dict[str, Any]:
    """The ``digest.ready`` data from ``digest_facts``: CPU work, meant for an OS thread."""
    content = digest_of(period, at, digest, **{
        **facts, "overview": overview_of(at, **facts["overview"])})
    return digest_data(content, language, recipients)


def digest_data(content: DigestContent, language: str,
                recipients: tuple[str, ...]) -> dict[str, Any]:
    rendered = render_digest(content, language)
    chart = members_chart(content.overview.series, content.overview.progress, language)
    return digest_ready_data(content, rendered, chart, list(recipients), language)


class DigestDesk:
    """Delivers each scheduled period once, and on-demand digests whenever staff ask."""

    ON_DEMAND = "on-demand"

    def __init__(self, database: Database, settings: DigestSettings,
                 offload: Offload = run_here):
        self.database = database
        self.settings = settings
        self.offload = offload

    def deliver_due(self, now: datetime | None = None) -> list[Period]:
        """Deliver every period due at ``now`` that no process has delivered; returns those
        this call delivered. Another process delivering the same period makes it skip it."""
        now = now or now_utc()
        with self.database.transaction() as session:
            if db.inbox_backlog(session):
                # The read model is behind (after a downtime, the broker hands over what
                # queued meanwhile): a digest now would miss what its period saw.
                return []
            last_end = db.last_delivered_end(session, self.settings.digest)
        if last_end is None:
            self._start_schedule(now)
            return []
        delivered = []
        for period in self.settings.schedule.due(last_end, now - self.settings.settle):
            if not self._deliver(period, now):
                # Another process is delivering these periods; the next call starts after its.
                break
            delivered.append(period)
        return delivered

    def send_now(self, period: Period, language: str | None = None,
                 recipients: tuple[str, ...] | None = None) -> str:
        """A digest of any period, now, outside the schedule (and its exactly-once log)."""
        language = check_language(language or self.settings.language)
        with collection_paused():
            data = self.offload(compose_digest_of, *digest_facts(self.database, period),
                                period, language, recipients or self.settings.recipients,
                                self.ON_DEMAND)
        event = new_event("digest.ready", data)
        with self.database.transaction() as session:
            outbox.record(session, event)
        return event.event_id

    def _start_schedule(self, now: datetime) -> None:
        """A new installation: the schedule starts at the last fire time, with nothing sent.

        The period that ended before the installation is logged as the starting point (its
        ``event_id`` says so), so the first digest staff receive is the first full period the
        platform saw, and a fresh ``make run`` mails only what its users do.
        """
        period = self.settings.schedule.latest_period(now - self.settings.settle)
        with self.database.transaction() as session:
            db.claim_period(session, self.settings.digest, period, SCHEDULE_START, now)

    def _deliver(self, period: Period, now: datetime) -> bool:
        with collection_paused():
            data = self.offload(compose_digest_of, *digest_facts(self.database, period),
                                period, self.settings.language, self.settings.recipients,
                                self.settings.digest)
        event = new_event("digest.ready", data)
        with self.database.transaction() as session:
            claimed = db.claim_period(session, self.settings.digest, period, event.event_id, now)
            if claimed:
                outbox.record(session, event)
        if claimed:
            log.info("reports: digest %s for %s to %s is ready", self.settings.digest,
                     period.start.isoformat(), period.end.isoformat())
        return claimed
