"""Configuration from the environment, with the embedded defaults of DESIGN.md.

Every variable has a default that works on a laptop with nothing installed: an in-memory
broker, SQLite files and mail written to ``var/outbox/``. A real deployment overrides them.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from shared.staff_tokens import console_secret

SERVICE_PORTS = {
    "intake": 8000, "registry": 8001, "notify": 8002, "reports": 8003, "console": 8004,
}


@dataclass(frozen=True)
class Settings:
    var_dir: Path
    amqp_uri: str
    db_urls: dict[str, str]
    ports: dict[str, int]
    bind_host: str
    smtp_host: str | None
    smtp_port: int
    smtp_user: str | None
    smtp_password: str | None
    smtp_starttls: bool
    mail_from: str
    staff_emails: tuple[str, ...]
    staff_api_tokens: str | None
    digest_schedule: str
    raw: Mapping[str, str]
    # The console's own staff token (see shared.staff_tokens.console_secret); ``hrc run`` makes
    # one in memory when the console runs in the same process as the registry and reports.
    console_token: str | None = None

    @property
    def embedded_broker(self) -> bool:
        return self.amqp_uri.startswith("memory://")

    @property
    def outbox_dir(self) -> Path:
        return self.var_dir / "outbox"

    @property
    def console_url(self) -> str:
        """The console's public address, which staff mails link to."""
        return (self.raw.get("CONSOLE_URL")
                or f"http://localhost:{self.ports['console']}").rstrip("/")

    @property
    def intake_url(self) -> str:
        """Intake's public address (the form, the applicants' pages), which mails link to."""
        return (self.raw.get("INTAKE_URL")
                or f"http://localhost:{self.ports['intake']}").rstrip("/")

    @property
    def privacy_url(self) -> str:
        """The privacy notice every page and mail links to: intake's ``/privacy``, unless
        PRIVACY_URL names another page (the secretariat's own site, say)."""
        return (self.raw.get("PRIVACY_URL") or f"{self.intake_url}/privacy").rstrip("/")

    def privacy_url_in(self, language: str) -> str:
        """The privacy notice in ``language``: intake's page takes ``?lang=``; a PRIVACY_URL
        elsewhere is linked as it is, since its languages are not ours to name."""
        if self.raw.get("PRIVACY_URL"):
            return self.privacy_url
        return f"{self.privacy_url}?lang={language}"

    @property
    def secretariat_email(self) -> str:
        """Where people write about their data (export, erasure): SECRETARIAT_EMAIL, else the
        secretariat's sender address (MAIL_FROM)."""
        return self.raw.get("SECRETARIAT_EMAIL") or self.mail_from

    def service_url(self, service: str) -> str:
        """Where another process reaches a service's HTTP API (``<SERVICE>_URL``)."""
        return (self.raw.get(f"{service.upper()}_URL")
                or f"http://127.0.0.1:{self.ports[service]}").rstrip("/")

    def nameko_config(self, service: str) -> dict[str, Any]:
        """The config dict of one service's nameko container.

        Each service gets its own WEB_SERVER_ADDRESS: nameko 2.14 shares one web server per
        address, and two services on one address would silently take each other's requests.
        """
        config: dict[str, Any] = {
            "AMQP_URI": self.amqp_uri,
            "WEB_SERVER_ADDRESS": f"{self.bind_host}:{self.ports[service]}",
            "SERVICE_NAME": service,
            "DB_URL": self.db_urls[service],
            "SETTINGS": self,
            "max_workers": int(self.raw.get("MAX_WORKERS", "10")),
            "parent_calls_tracked": 10,
        }
        return config


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def load(environ: Mapping[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    var_dir = Path(env.get("HRC_VAR_DIR", "var")).resolve()
    db_urls = {
        service: env.get(f"{service.upper()}_DB_URL") or f"sqlite:///{var_dir / service}.db"
        for service in SERVICE_PORTS
    }
    ports = {
        service: int(env.get(f"{service.upper()}_PORT", default))
        for service, default in SERVICE_PORTS.items()
    }
    staff_emails = tuple(
        address.strip()
        for address in env.get("STAFF_EMAILS", "staff@localhost").split(",")
        if address.strip()
    )
    return Settings(
        var_dir=var_dir,
        amqp_uri=env.get("AMQP_URI", "memory://"),
        db_urls=db_urls,
        ports=ports,
        # Embedded mode answers this machine only; a container sets 0.0.0.0 (docker-compose).
        bind_host=env.get("BIND_HOST", "127.0.0.1"),
        smtp_host=env.get("SMTP_HOST") or None,
        smtp_port=int(env.get("SMTP_PORT", "25")),
        smtp_user=env.get("SMTP_USER") or None,
        smtp_password=env.get("SMTP_PASSWORD") or None,
        smtp_starttls=_flag(env.get("SMTP_STARTTLS")),
        mail_from=env.get("MAIL_FROM", "campaign@localhost"),
        staff_emails=staff_emails,
        staff_api_tokens=env.get("STAFF_API_TOKENS") or None,
        digest_schedule=env.get("DIGEST_SCHEDULE", "0 8 * * MON"),
        raw=env,
        console_token=console_secret(env.get("CONSOLE_STAFF_TOKEN"),
                                     env.get("STAFF_API_TOKENS")),
    )


T = TypeVar("T")


class Knobs:
    """What one container is configured with, read one way in every service: a key of the
    container's config (tests set knobs there), else the environment (``SETTINGS.raw``, or the
    process's own when a container runs without ``SETTINGS``), else the default."""

    def __init__(self, config: Mapping[str, Any]):
        self.config = config
        self.settings: Settings = config.get("SETTINGS") or load()

    def text(self, name: str, default: str = "") -> str:
        if name in self.config:
            return str(self.config[name])
        value = self.settings.raw.get(name)
        return default if value is None else value

    def number(self, name: str, default: float) -> float:
        return float(self.text(name, str(default)))


def service_settings(config: Mapping[str, Any], loader: Callable[[Knobs], T]) -> T:
    """A service's typed settings (its ``settings.load``) from its container's config."""
    return loader(Knobs(config))
