"""The guard of the public form as a nameko dependency: rate limit, CSRF, CORS, with their
state in intake's database so that every replica shares it."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from nameko.extensions import DependencyProvider

from services.intake import db as intake_db
from services.intake import guards
from shared.db import Database, database_for

DEFAULT_RATE_LIMIT = "30/minute"
SECRET_SETTING = "csrf_secret"


def setting(config: Mapping[str, Any], name: str, default: str) -> str:
    """A container config key (tests), else the environment (``SETTINGS.raw``), else default."""
    if name in config:
        return str(config[name])
    settings = config.get("SETTINGS")
    if settings is not None and settings.raw.get(name) is not None:
        return settings.raw[name]
    return default


class Guard:
    """What the entrypoints ask before they accept a request."""

    def __init__(self, database: Database, rate_limit: guards.RateLimit | None,
                 origins: frozenset[str], secret: str | None):
        self.database = database
        self.rate_limit = rate_limit
        self.origins = origins
        self._secret = secret

    def retry_after(self, address: str | None, now: datetime | None = None) -> int | None:
        """Count a request of this client; None if it may go on, else seconds to wait."""
        if self.rate_limit is None:
            return None
        now = now or datetime.now(UTC)
        window = self.rate_limit.window(now)
        ends = datetime.fromtimestamp((window + 1) * self.rate_limit.window_seconds, UTC)
        with self.database.transaction() as session:
            count = intake_db.count_request(
                session, guards.client_key(address), window,
                (ends + timedelta(seconds=1)).replace(tzinfo=None),
            )
        return None if self.rate_limit.allows(count) else self.rate_limit.retry_after(now)

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
        self.guard = Guard(
            database_for(config["DB_URL"]),
            guards.RateLimit.parse(setting(config, "INTAKE_RATE_LIMIT", DEFAULT_RATE_LIMIT)),
            guards.allowed_origins(setting(config, "INTAKE_CORS_ORIGINS", "")),
            setting(config, "INTAKE_SECRET", "") or None,
        )

    def get_dependency(self, worker_ctx) -> Guard:
        return self.guard
