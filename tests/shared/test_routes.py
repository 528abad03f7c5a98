"""The route kit (shared.http.Routes) through a real nameko web server: staff routes refuse
without a token, expected errors are answered (never logged as failed workers), payloads are
JSON, and the service's own error table applies."""
from __future__ import annotations

import logging

import pytest
import requests
from marshmallow import Schema, fields
from nameko.containers import ServiceContainer

from shared.http import Routes, route
from shared.staff_access import StaffAccess

TOKEN = "kit-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


class Taken(Exception):
    """A domain error that knows nothing of HTTP: the service's table maps it."""


class Body(Schema):
    name = fields.String(required=True)


service_route = Routes([(Taken, 409, "conflict")], detail=lambda exc: f"taken: {exc}")


class Kit:
    name = "kit"
    staff = StaffAccess()

    @route("GET", "/public")
    def public(self, request):
        return {"open": True}

    @route("GET", "/staff/<int:item>", staff=True)
    def item(self, request, who, item):
        return {"who": who, "item": item}

    @route("POST", "/things", staff=True, status=201)
    def create(self, request):
        return Body().load(request.get_json(force=True))

    @service_route("POST", "/taken")
    def taken(self, request):
        raise Taken("wave 3")

    @service_route("GET", "/fine")
    def fine(self, request):
        return {"fine": True}


@pytest.fixture
def base_url(free_port):
    port = free_port()
    container = ServiceContainer(Kit, {"AMQP_URI": "memory://", "DB_URL": "sqlite://",
                                       "STAFF_API_TOKENS": f"secretariat:{TOKEN}",
                                       "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"})
    container.start()
    yield f"http://127.0.0.1:{port}"
    container.stop()


def test_a_payload_is_json_and_a_public_route_needs_no_token(base_url):
    response = requests.get(f"{base_url}/public", timeout=5)
    assert response.status_code == 200 and response.json() == {"open": True}


def test_a_staff_route_refuses_without_a_token_and_names_who_acts(base_url):
    refused = requests.get(f"{base_url}/staff/7", timeout=5)
    assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="kit"'
    allowed = requests.get(f"{base_url}/staff/7", headers=HEADERS, timeout=5)
    assert allowed.json() == {"who": "secretariat", "item": 7}


def test_an_id_beyond_its_column_is_a_404_without_asking(base_url):
    response = requests.get(f"{base_url}/staff/{2**31}", headers=HEADERS, timeout=5)
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_invalid_fields_are_a_422_with_a_message_per_field(base_url, caplog):
    with caplog.at_level(logging.WARNING):
        response = requests.post(f"{base_url}/things", json={}, headers=HEADERS, timeout=5)
    assert response.status_code == 422
    assert response.json() == {"error": "invalid_request",
                               "detail": {"name": ["Missing data for required field."]}}
    assert not [r for r in caplog.records if "error handling worker" in r.getMessage()]
    created = requests.post(f"{base_url}/things", json={"name": "x"}, headers=HEADERS,
                            timeout=5)
    assert created.status_code == 201


def test_the_services_table_maps_its_errors(base_url):
    response = requests.post(f"{base_url}/taken", timeout=5)
    assert response.status_code == 409
    assert response.json() == {"error": "conflict", "detail": "taken: wave 3"}
    assert requests.get(f"{base_url}/fine", timeout=5).status_code == 200
