"""The notify service in its nameko container on a fresh RabbitMQ vhost, its own SQLite
database and a real SMTP server (aiosmtpd): the fixtures of notify's e2e tests."""
from __future__ import annotations

import pytest
from nameko.containers import ServiceContainer

from hrc import run
from services.notify.service import NotifyService
from shared import config
from shared import db as shared_db
from tests.support.infra import free_port

STAFF = ["secretariat@uclg.example", "review@uclg.example"]
STAFF_TOKEN = "notify-e2e-staff-token"


@pytest.fixture
def settings(tmp_path, rabbitmq, smtp_server, monkeypatch):
    port = free_port()
    env = {
        "HRC_VAR_DIR": str(tmp_path / "var"), "AMQP_URI": rabbitmq.uri(),
        "NOTIFY_DB_URL": f"sqlite:///{tmp_path}/notify.db", "NOTIFY_PORT": str(port),
        "NOTIFY_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "BIND_HOST": "127.0.0.1", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_server.port),
        "SMTP_TIMEOUT": "5", "STAFF_EMAILS": ",".join(STAFF), "MAIL_FROM": "campaign@uclg.example",
        "INBOX_POLL_SECONDS": "0.05", "INBOX_RETRY_BASE_SECONDS": "0.05",
        "INBOX_RETRY_MAX_SECONDS": "0.2", "INBOX_MAX_ATTEMPTS": "3",
        "NOTIFY_POLL_SECONDS": "0.05", "NOTIFY_RETRY_BASE_SECONDS": "0.1",
        "NOTIFY_RETRY_MAX_SECONDS": "0.5", "RELAY_POLL_SECONDS": "0.05",
        "INBOX_WAIT_SECONDS": "0.1", "INBOX_WAIT_LIMIT_SECONDS": "1",
        "STAFF_API_TOKENS": f"e2e:{STAFF_TOKEN}",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield config.load(env)
    shared_db.dispose_all()


@pytest.fixture
def notify(settings):
    run.setup(settings, ["notify"])
    container = ServiceContainer(NotifyService, settings.nameko_config("notify"))
    container.start()
    yield container
    container.stop()
