"""Reports' entrypoints: the read model is fed by events; progress is read over HTTP."""
from __future__ import annotations

from pathlib import Path

from nameko.dependency_providers import Config
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from services.reports import db as reports_db
from shared import health
from shared.db import ServiceDatabase
from shared.http import http, json_response
from shared.reliability import Inbox, Outbox, subscribed
from shared.retry import utcnow

MIGRATIONS = Path(__file__).parent / "migrations"


def handlers(config):
    def count_application(event, session):
        insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
        session.execute(insert(reports_db.ApplicationSeen).values(
            reference=event.data["reference"], country=event.data["country"],
            received_at=utcnow(),
        ).on_conflict_do_nothing(index_elements=["reference"]))

    return {"application.received": count_application}


@subscribed
class ReportsService:
    name = "reports"

    config = Config()
    db = ServiceDatabase()
    outbox = Outbox()
    inbox = Inbox(handlers)

    @http("GET", "/health")
    def health(self, request):
        status, report = health.check(self.db, self.config["AMQP_URI"])
        return json_response(report, status)

    @http("GET", "/public/progress.json")
    def public_progress(self, request):
        with self.db.transaction() as session:
            applications = reports_db.count_applications(session)
        return json_response({"applications": applications, "members": 0,
                              "goals": [10, 100, 1000]})
