"""Builders for the unit tests: applications as intake sends them, waves, and an id counter."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from services.registry.domain import Application, Event, Wave, WaveStatus
from shared.events import new_event

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)


def received_data(**overrides: Any) -> dict[str, Any]:
    """The data of an application.received event, valid against the catalogue."""
    number = next(_ids)
    data = {
        "reference": f"HRC-TEST-{number:04d}",
        "language": "fr",
        "submitted_at": NOW.isoformat(),
        "government_name": "Ville de Grigny",
        "country": "FR",
        "jurisdiction_type": "municipality",
        "population": 29000,
        "website": "https://www.grigny91.fr",
        "authority_name": "Philippe Rio",
        "authority_title": "Maire",
        "contact_name": "Amanda Test",
        "contact_position": "Chargée de mission",
        "contact_email": "amanda@example.org",
        "contact_phone": "+33 1 00 00 00 00",
        "themes": ["right_to_the_city", "housing"],
        "commitment": "Nous nous engageons à faire des droits humains une réalité locale.",
        "frameworks": "Charte-Agenda mondiale des droits humains dans la ville",
        "consent": True,
    }
    new_event("application.received", {**data, **overrides})
    return {**data, **overrides}


def application(**overrides: Any) -> Application:
    app = Application.receive(received_data(**overrides))
    app.id = next(_ids)
    return app


def wave(number: int = 4, status: WaveStatus = WaveStatus.PLANNED) -> Wave:
    created = Wave.create(
        number=number,
        name={"en": f"Wave {number}", "fr": f"Vague {number}", "es": f"Ola {number}"},
        theme={"en": "Care", "fr": "Soins", "es": "Cuidados"},
        opens_at=datetime(2026, 1, 1, tzinfo=UTC),
        closes_at=datetime(2026, 12, 31, tzinfo=UTC),
    )
    created.status = status
    return created


def assert_valid(events: list[Event]) -> list[str]:
    """Every event validates against shared/events.py; returns their types, in order."""
    for type_, data in events:
        new_event(type_, data)
    return [type_ for type_, _ in events]
