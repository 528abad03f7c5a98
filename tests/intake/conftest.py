"""Intake in a container of this process, on SQLite or PostgreSQL, embedded or real broker."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from nameko.containers import ServiceContainer
from sqlalchemy import func, select

from services.intake import db as intake_db
from services.intake.service import MIGRATIONS, IntakeService
from shared import db as shared_db
from shared import topology
from shared.outbox import OutboxRow
from tests.support import infra

EXAMPLE: dict[str, Any] = json.loads(
    (infra.PROJECT / "docs" / "example-application.json").read_text()
)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def example(**changes: Any) -> dict[str, Any]:
    return {**EXAMPLE, **changes}


def as_form(application: dict[str, Any]) -> list[tuple[str, str]]:
    """An application as a browser posts it: themes repeated, the box ticked."""
    fields: list[tuple[str, str]] = []
    for name, value in application.items():
        if name == "themes":
            fields += [("themes", theme) for theme in value]
        elif name == "consent":
            if value:
                fields.append(("consent", "yes"))
        elif value is not None:
            fields.append((name, str(value)))
    return fields


@dataclass
class Intake:
    container: ServiceContainer
    database: shared_db.Database
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def post_json(self, payload: Any, **kwargs: Any) -> requests.Response:
        return requests.post(f"{self.url}/applications", json=payload, timeout=10, **kwargs)

    def browser(self) -> requests.Session:
        return requests.Session()

    def form_token(self, browser: requests.Session, lang: str = "en") -> str:
        page = browser.get(f"{self.url}/?lang={lang}", timeout=10)
        assert page.status_code == 200
        return CSRF.search(page.text).group(1)

    def post_form(self, browser: requests.Session, fields, lang: str = "en",
                  **kwargs: Any) -> requests.Response:
        return browser.post(f"{self.url}/applications?lang={lang}", data=fields, timeout=10,
                            allow_redirects=False, **kwargs)

    def submissions(self) -> list[intake_db.Submission]:
        with self.database.transaction() as session:
            return list(session.scalars(select(intake_db.Submission)
                                        .order_by(intake_db.Submission.id)))

    def outbox(self) -> list[OutboxRow]:
        with self.database.transaction() as session:
            return list(session.scalars(select(OutboxRow).order_by(OutboxRow.id)))

    def pending(self) -> int:
        with self.database.transaction() as session:
            return session.scalar(select(func.count()).select_from(OutboxRow)
                                  .where(OutboxRow.sent_at.is_(None)))


def start_intake(db_url: str, amqp_uri: str, port: int, **settings: Any) -> Intake:
    shared_db.migrate(db_url, MIGRATIONS)
    topology.declare_on(amqp_uri)
    config = {
        "AMQP_URI": amqp_uri,
        "DB_URL": db_url,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
        "INBOX_POLL_SECONDS": 0.05,
        "RELAY_POLL_SECONDS": 0.05,
        "RELAY_RETRY_BASE_SECONDS": 0.1,
        "RELAY_RETRY_MAX_SECONDS": 0.5,
        "INTAKE_RATE_LIMIT": "off",
        **settings,
    }
    container = ServiceContainer(IntakeService, config)
    container.start()
    return Intake(container, shared_db.database_for(db_url), port)


@pytest.fixture
def sqlite_url(tmp_path):
    yield f"sqlite:///{tmp_path}/intake.db"
    shared_db.dispose_all()


@pytest.fixture
def make_intake(sqlite_url, free_port):
    """``make_intake(**settings)``: intake on SQLite and the in-memory broker."""
    started: list[Intake] = []

    def make(db_url: str = sqlite_url, amqp_uri: str = "memory://", **settings: Any) -> Intake:
        intake = start_intake(db_url, amqp_uri, free_port(), **settings)
        started.append(intake)
        return intake

    yield make
    for intake in started:
        intake.container.stop()


@pytest.fixture
def intake(make_intake) -> Intake:
    return make_intake()


@pytest.fixture
def intake_process(tmp_path):
    """Intake alone in its own process (``hrc run intake``) on SQLite, for the browser tests:
    its address and its database (tests write the registry's projection straight into it)."""
    env = infra.base_env(tmp_path / "var")
    env["INTAKE_URL"] = f"http://127.0.0.1:{env['INTAKE_PORT']}"
    env["SECRETARIAT_EMAIL"] = "campaign@uclg.example"
    process = infra.ServiceProcess(["intake"], env, tmp_path / "intake.log")
    process.start()
    try:
        process.wait_healthy([int(env["INTAKE_PORT"])])
        yield env["INTAKE_URL"], shared_db.database_for(f"sqlite:///{tmp_path}/var/intake.db")
    finally:
        process.stop()
        shared_db.dispose_all()
    assert "Traceback" not in process.log(), process.log()
