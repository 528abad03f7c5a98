"""The digest scheduler: a managed greenthread in every reports process.

Every replica runs one; they need no coordination beyond the delivery log's unique
constraint (see reporting.DigestDesk), so any number of them deliver each period once.
"""
from __future__ import annotations

import logging

import eventlet

from services.reports import settings as reports_settings
from services.reports.offload import in_thread
from services.reports.reporting import DigestDesk
from shared.config import service_settings
from shared.db import database_for
from shared.reliability import BackgroundLoop
from shared.retry import Backoff

log = logging.getLogger(__name__)


class DigestScheduler(BackgroundLoop):
    """Injects the DigestDesk; its loop delivers what is due every DIGEST_POLL_SECONDS."""

    def setup(self) -> None:
        self._stopped = False
        settings = service_settings(self.container.config, reports_settings.load)
        self.desk = DigestDesk(
            database_for(self.container.config["DB_URL"]),
            settings.digest,
            # Charts and big digests are CPU work: in an OS thread, the hub keeps serving.
            offload=in_thread,
        )
        self.runs("reports digest scheduler", settings.digest_poll_seconds, Backoff(1.0, 300.0))

    def step(self) -> bool:
        self.desk.deliver_due()
        return True

    def run(self) -> None:
        # After a downtime, the events that queued meanwhile reach the inbox first.
        eventlet.sleep(self.desk.settings.settle.total_seconds())
        if not self._stopped:
            super().run()

    def stop(self) -> None:
        self._stopped = True
        super().stop()

    def get_dependency(self, worker_ctx) -> DigestDesk:
        return self.desk
