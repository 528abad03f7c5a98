"""The registry's entrypoints: applications arrive as events; staff act over HTTP."""
from __future__ import annotations

from pathlib import Path

from nameko.dependency_providers import Config

from services.registry import db as registry_db
from shared import health
from shared.db import ServiceDatabase
from shared.events import new_event
from shared.http import http, json_response
from shared.outbox import record
from shared.retry import utcnow
from shared.reliability import Inbox, Outbox, subscribed

MIGRATIONS = Path(__file__).parent / "migrations"


def handlers(config):
    def receive_application(event, session):
        data = event.data
        if registry_db.application_by_reference(session, data["reference"]) is not None:
            return
        row = registry_db.ApplicationRow(
            reference=data["reference"], status="waitlisted",
            government_name=data["government_name"], country=data["country"],
            received_at=utcnow(), form=data,
        )
        session.add(row)
        session.flush()
        record(session, new_event("application.waitlisted",
                                  {"application_id": row.id, "reference": row.reference}))

    return {"application.received": receive_application}


@subscribed
class RegistryService:
    name = "registry"

    config = Config()
    db = ServiceDatabase()
    outbox = Outbox()
    inbox = Inbox(handlers)

    @http("GET", "/health")
    def health(self, request):
        status, report = health.check(self.db, self.config["AMQP_URI"])
        return json_response(report, status)
