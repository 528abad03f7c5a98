"""What ``GET /health`` reports: can the service reach its database and its broker."""
from __future__ import annotations

from typing import Any

from kombu import Connection
from werkzeug.wrappers import Response

from shared.db import Database
from shared.http import http, json_response


def respond(service, request) -> Response:
    """The answer of ``GET /health`` for a service that has ``db`` and ``config``."""
    status, report = check(service.db, service.config["AMQP_URI"])
    return json_response(report, status)


class HealthRoute:
    """``GET /health`` for a service class on the shared web server (shared.http)."""

    @http("GET", "/health")
    def health(self, request) -> Response:
        return respond(self, request)


def check(database: Database, amqp_uri: str) -> tuple[int, dict[str, Any]]:
    report: dict[str, Any] = {"database": _probe(database.ping),
                              "broker": _probe(lambda: _ping_broker(amqp_uri))}
    healthy = all(part["ok"] for part in report.values())
    report["status"] = "ok" if healthy else "degraded"
    return (200 if healthy else 503), report


def _probe(action) -> dict[str, Any]:
    try:
        action()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True}


def _ping_broker(amqp_uri: str) -> None:
    if amqp_uri.startswith("memory://"):
        return
    with Connection(amqp_uri, connect_timeout=2) as connection:
        connection.ensure_connection(max_retries=1)
