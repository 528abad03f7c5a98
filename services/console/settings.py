"""The console's knobs, read once at start (shared.config.service_settings).

CONSOLE_URL (its public address, which staff mails link to), its own staff token
(CONSOLE_STAFF_TOKEN or the ``console:`` item of STAFF_API_TOKENS; ``hrc run`` makes one),
CONSOLE_ADMIN_EMAIL and CONSOLE_ADMIN_PASSWORD (the first admin, created once),
<SERVICE>_URL (where it reaches the other services' staff APIs) and DIGEST_SCHEDULE (shown on
the digests page). The addresses are the shared Settings' own rules, not read again here.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.config import Knobs

# The services whose staff APIs the console acts through.
SERVICES = ("registry", "intake", "notify", "reports")


@dataclass(frozen=True)
class ConsoleSettings:
    url: str
    token: str | None
    admin_email: str | None
    admin_password: str | None
    service_urls: Mapping[str, str]
    digest_schedule: str

    @property
    def secure(self) -> bool:
        """Served over HTTPS: its cookies are then marked Secure."""
        return self.url.startswith("https://")


def load(knobs: Knobs) -> ConsoleSettings:
    shared = knobs.settings
    return ConsoleSettings(
        url=shared.console_url,
        token=shared.console_token,
        admin_email=knobs.text("CONSOLE_ADMIN_EMAIL") or None,
        admin_password=knobs.text("CONSOLE_ADMIN_PASSWORD") or None,
        service_urls={name: shared.service_url(name) for name in SERVICES},
        digest_schedule=shared.digest_schedule,
    )
