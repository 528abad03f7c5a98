"""The digest scheduler: a managed greenthread in every reports process.

Every replica runs one; they need no coordination beyond the delivery log's unique
constraint (see reporting.DigestDesk), so any number of them deliver each period once.
"""
from __future__ import annotations

import logging

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


def digest_settings(settings: Settings) -> DigestSettings:
    return DigestSettings(
        schedule=DigestSchedule(settings.digest_schedule),
        language=settings.raw.get("DIGEST_LANGUAGE", "en") or "en",
        recipients=settings.staff_emails,
    )


def settings_of(config) -> Settings:
    return config.get("SETTINGS") or load()


class DigestScheduler(DependencyProvider):
    """Injects the DigestDesk; its loop delivers what is due every DIGEST_POLL_SECONDS."""

    def setup(self) -> None:
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
        self.container.spawn_managed_thread(self.loop.run)

    def stop(self) -> None:
        self.loop.stop()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx) -> DigestDesk:
        return self.desk
