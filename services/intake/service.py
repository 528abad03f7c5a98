"""Intake's entrypoints: the public application route, health, and erasure requests."""
from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path

from nameko.dependency_providers import Config

from services.intake import db as intake_db
from shared import health
from shared.db import ServiceDatabase
from shared.events import InvalidEvent, new_event
from shared.http import HttpError, http, json_response, parse_json_body
from shared.outbox import record
from shared.reliability import Inbox, Outbox, subscribed

MIGRATIONS = Path(__file__).parent / "migrations"
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _new_reference(now: datetime) -> str:
    return f"HRC-{now.year}-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(5))


def handlers(config):
    def forget_erased(event, session):
        intake_db.forget_references(session, event.data["references"])

    return {"member.erased": forget_erased}


@subscribed
class IntakeService:
    name = "intake"

    config = Config()
    db = ServiceDatabase()
    outbox = Outbox()
    inbox = Inbox(handlers)

    @http("GET", "/health")
    def health(self, request):
        status, report = health.check(self.db, self.config["AMQP_URI"])
        return json_response(report, status)

    @http("POST", "/applications")
    def submit_application(self, request):
        payload = parse_json_body(request)
        if not isinstance(payload, dict):
            raise HttpError(400, "malformed_json", "the body must be a JSON object")
        now = datetime.now(UTC)
        reference = _new_reference(now)
        data = {**payload, "reference": reference, "submitted_at": now.isoformat()}
        try:
            event = new_event("application.received", data)
        except InvalidEvent as exc:
            return json_response({"errors": exc.errors.get("data", exc.errors)}, 422)
        with self.db.transaction() as session:
            intake_db.add_submission(session, reference, now.replace(tzinfo=None), event.data)
            record(session, event)
        self.outbox.wake()
        return json_response({"reference": reference, "status": "received"}, 202)
