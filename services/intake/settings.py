"""Intake's knobs (shared.config.Knobs: the container's config, else the environment).

INTAKE_RATE_LIMIT (20/minute per client), INTAKE_CORS_ORIGINS (none), INTAKE_SECRET (generated
and stored), INTAKE_TRUSTED_PROXIES (none), INTAKE_LINK_RATE_LIMIT (5/hour per client) and
INTAKE_LINK_MAILS_PER_REFERENCE (3/day) for "lost your link?", INTAKE_URL (where the
applicant's page links point), INTAKE_RELAY_NUDGE_SECONDS (0.2: the wakes of the relay
gathered into one), PRIVACY_URL (the privacy notice when it is not intake's own page) and
SECRETARIAT_EMAIL (else MAIL_FROM: whom the notice tells people to write to).
"""
from __future__ import annotations

from dataclasses import dataclass

from services.intake import guards
from shared.config import Knobs

# A relay pass has a fixed cost, its claim and its sent mark (7-8 ms of CPU on the busy machine
# for up to a dozen rows, then 0.13 ms a row, when this was chosen; 1.5 ms in-process since the
# claim is built once, 592be78): gathered for 50 ms, a pass carried 5-15 submissions and cost
# each more than its own statement. 200 ms is a small part of the acknowledgement's wait.
RELAY_NUDGE_SECONDS = 0.2


@dataclass(frozen=True)
class IntakeSettings:
    rate_limit: guards.RateLimit | None
    cors_origins: frozenset[str]
    secret: str | None
    trusted_proxies: frozenset[str]
    link_rate_limit: guards.RateLimit | None
    link_mails_per_reference: guards.RateLimit | None
    url: str
    relay_nudge_seconds: float
    privacy_url: str
    secretariat_email: str


def load(knobs: Knobs) -> IntakeSettings:
    port = knobs.settings.ports["intake"]
    return IntakeSettings(
        rate_limit=guards.RateLimit.parse(knobs.text("INTAKE_RATE_LIMIT", "20/minute")),
        cors_origins=guards.allowed_origins(knobs.text("INTAKE_CORS_ORIGINS")),
        secret=knobs.text("INTAKE_SECRET") or None,
        trusted_proxies=guards.trusted_proxies(knobs.text("INTAKE_TRUSTED_PROXIES")),
        link_rate_limit=guards.RateLimit.parse(knobs.text("INTAKE_LINK_RATE_LIMIT", "5/hour")),
        link_mails_per_reference=guards.RateLimit.parse(
            knobs.text("INTAKE_LINK_MAILS_PER_REFERENCE", "3/day")),
        url=knobs.text("INTAKE_URL", f"http://localhost:{port}").rstrip("/"),
        relay_nudge_seconds=knobs.number("INTAKE_RELAY_NUDGE_SECONDS", RELAY_NUDGE_SECONDS),
        privacy_url=knobs.text("PRIVACY_URL").rstrip("/"),
        secretariat_email=(knobs.text("SECRETARIAT_EMAIL")
                           or knobs.text("MAIL_FROM", "campaign@localhost")),
    )
