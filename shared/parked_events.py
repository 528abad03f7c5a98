"""Parked events over each service's own staff API: ``hrc events`` and the console read and
replay them here, so that nothing outside a service opens its database.

- ``GET /api/events/parked``: the inbox events that kept failing (``shared.inbox.parked_events``).
- ``POST /api/events/parked/<id>/replay``: one of them back in line (404 unknown, 409 not parked).

A service on the shared web server takes the routes by inheriting ``ParkedEventRoutes``; one on
a web server of its own (the console) declares them with its own route decorator and calls
``listed`` and ``replayed``. Either way the service has ``inbox`` (shared.reliability.Inbox) and
``staff`` (shared.staff_access.StaffAccess).
"""
from __future__ import annotations

from typing import Any

from shared import inbox
from shared.http import route

LIST_PATH = "/api/events/parked"
REPLAY_PATH = "/api/events/parked/<int:parked_id>/replay"


def listed(service) -> dict[str, Any]:
    with service.inbox.database.transaction() as session:
        return {"service": service.name, **inbox.parked_events(session)}


def replayed(service, parked_id: int) -> dict[str, Any]:
    with service.inbox.database.transaction() as session:
        item = inbox.replay_parked(session, parked_id)
    # Processed now, not at the inbox's next poll.
    service.inbox.loop.wake()
    return {"service": service.name, "replayed": item}


class ParkedEventRoutes:
    @route("GET", LIST_PATH, staff=True)
    def parked_events(self, request) -> dict[str, Any]:
        return listed(self)

    @route("POST", REPLAY_PATH, staff=True)
    def replay_parked_event(self, request, parked_id: int) -> dict[str, Any]:
        return replayed(self, parked_id)
