"""The digest scheduler: a managed greenthread in every reports process.

Every replica runs one; they need no coordination beyond the delivery log's unique
constraint (see reporting.DigestDesk), so any number of them deliver each period once.
"""
from __future__ import annotations

import logging
from datetime import timedelta

import eventlet
from nameko.extensions import DependencyProvider

from services.reports.domain import DigestSchedule
from services.reports.offload import in_thread
from services.reports.reporting import DigestDesk, DigestSettings
from shared.config import Settings, load
from shared.db import database_for
from shared.reliability import Loop, Outbox
from shared.retry import Backoff

log = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 30.0
DEFAULT_SETTLE_SECONDS = 60.0


def digest_settings(settings: Settings) -> DigestSettings:
    return DigestSettings(
        schedule=DigestSchedule(settings.digest_schedule),
        language=settings.raw.get("DIGEST_LANGUAGE", "en") or "en",
        recipients=settings.staff_emails,
        settle=timedelta(seconds=_settle_seconds(settings)),
    )


def _settle_seconds(settings: Settings) -> float:
    return float(settings.raw.get("DIGEST_SETTLE_SECONDS", DEFAULT_SETTLE_SECONDS))


def settings_of(config) -> Settings:
    return config.get("SETTINGS") or load()


class DigestScheduler(DependencyProvider):
    """Injects the DigestDesk; its loop delivers what is due every DIGEST_POLL_SECONDS."""

    def setup(self) -> None:
        self._stopped = False
        settings = settings_of(self.container.config)
        self.desk = DigestDesk(
            database_for(self.container.config["DB_URL"]),
            digest_settings(settings),
            # Charts and big digests are CPU work: in an OS thread, the hub keeps serving.
            offload=in_thread,
            wake_outbox=self._wake_outbox,
        )
        self.loop = Loop(
            "reports digest scheduler",
            self._step,
            float(settings.raw.get("DIGEST_POLL_SECONDS", DEFAULT_POLL_SECONDS)),
            Backoff(1.0, 300.0),
        )

    def _step(self) -> bool:
        self.desk.deliver_due()
        return True

    def _wake_outbox(self) -> None:
        for dependency in self.container.dependencies:
            if isinstance(dependency, Outbox):
                dependency.wake()

    def start(self) -> None:
        self.container.spawn_managed_thread(self._run)

    def _run(self) -> None:
        # After a downtime, the events that queued meanwhile reach the inbox first.
        eventlet.sleep(self.desk.settings.settle.total_seconds())
        if not self._stopped:
            self.loop.run()

    def stop(self) -> None:
        self._stopped = True
        self.loop.stop()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx) -> DigestDesk:
        return self.desk
