"""Reports' knobs (shared.config.Knobs: the container's config, else the environment).

DIGEST_SCHEDULE (cron, UTC), DIGEST_LANGUAGE (en), STAFF_EMAILS (the digest's recipients),
DIGEST_SETTLE_SECONDS (60: how long a started process lets queued events reach the inbox
before it sends a digest), DIGEST_POLL_SECONDS (30), PUBLIC_FRAME_ANCESTORS (``*``: the CSP
``frame-ancestors`` sources that may frame the public directory, separated by spaces).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from services.reports.domain import DigestSchedule
from services.reports.reporting import DigestSettings
from shared.config import Knobs


@dataclass(frozen=True)
class ReportsSettings:
    digest: DigestSettings
    digest_poll_seconds: float
    frame_ancestors: str


def load(knobs: Knobs) -> ReportsSettings:
    settings = knobs.settings
    ancestors = knobs.text("PUBLIC_FRAME_ANCESTORS", "*").strip() or "*"
    if any(c in ancestors for c in ";,\r\n"):
        raise ValueError("PUBLIC_FRAME_ANCESTORS: CSP sources separated by spaces")
    return ReportsSettings(
        digest=DigestSettings(
            schedule=DigestSchedule(knobs.text("DIGEST_SCHEDULE", settings.digest_schedule)),
            language=knobs.text("DIGEST_LANGUAGE", "en") or "en",
            recipients=settings.staff_emails,
            settle=timedelta(seconds=knobs.number("DIGEST_SETTLE_SECONDS", 60.0)),
        ),
        digest_poll_seconds=knobs.number("DIGEST_POLL_SECONDS", 30.0),
        frame_ancestors=ancestors,
    )
