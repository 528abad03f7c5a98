"""Every HTTP error is JSON with the right status, through a real nameko web server."""
from __future__ import annotations

import inspect

import pytest
import requests
from nameko.containers import ServiceContainer

from shared.http import HttpError, http, json_response, parse_json_body


class Refused(Exception):
    http_status = 409


class Echo:
    name = "echo"

    @http("POST", "/echo")
    def echo(self, request):
        return json_response(parse_json_body(request, max_bytes=100))

    @http("GET", "/conflict")
    def conflict(self, request):
        raise Refused("already accepted")

    @http("GET", "/teapot")
    def teapot(self, request):
        raise HttpError(418, "teapot", {"field": ["short and stout"]})

    @http("GET", "/bug")
    def bug(self, request):
        raise KeyError("secret internals")

    @http("GET", "/hello/<string:name>")
    def hello(self, request, name):
        return json_response({"hello": name})

    # The route names ``name``, the handler takes ``other``: nameko refuses to call it.
    @http("GET", "/mismatch/<string:name>")
    def mismatch(self, request, other):
        return json_response({"called": True})


@pytest.fixture
def base_url(free_port):
    port = free_port()
    container = ServiceContainer(Echo, {"AMQP_URI": "memory://",
                                        "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"})
    container.start()
    yield f"http://127.0.0.1:{port}"
    container.stop()


@pytest.mark.parametrize("method, path, kwargs, status, error", [
    ("POST", "/echo", {"data": "{not json", "headers": {"Content-Type": "application/json"}},
     400, "malformed_json"),
    ("POST", "/echo", {"data": "a=1", "headers": {"Content-Type": "text/plain"}},
     415, "unsupported_media_type"),
    ("POST", "/echo", {"json": {"x": "y" * 200}}, 413, "payload_too_large"),
    ("GET", "/conflict", {}, 409, "Refused"),
    ("GET", "/teapot", {}, 418, "teapot"),
    ("GET", "/nowhere", {}, 404, "not_found"),
    ("DELETE", "/echo", {}, 405, "method_not_allowed"),
    ("GET", "/bug", {}, 500, "internal_error"),
])
def test_errors_are_json(base_url, method, path, kwargs, status, error):
    response = requests.request(method, base_url + path, timeout=5, **kwargs)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"] == error
    assert "secret internals" not in response.text and "Traceback" not in response.text


def test_a_valid_body_passes_through(base_url):
    response = requests.post(base_url + "/echo", json={"a": 1}, timeout=5)
    assert (response.status_code, response.json()) == (200, {"a": 1})


def test_a_lone_surrogate_echoed_back_is_a_json_escape_not_a_500():
    response = json_response({"errors": {"\ud800": ["Unknown field."]}}, 422)
    assert response.status_code == 422
    assert response.get_data() == b'{"errors": {"\\ud800": ["Unknown field."]}}'


def test_a_route_whose_handler_takes_other_arguments_is_refused_every_time(base_url):
    # Signatures that bound are remembered by shape; one that did not must fail each request.
    for _ in range(3):
        response = requests.get(base_url + "/mismatch/ana", timeout=5)
        assert (response.status_code, response.json()["error"]) == (500, "internal_error")
    for name in ("ana", "bo"):
        response = requests.get(base_url + f"/hello/{name}", timeout=5)
        assert (response.status_code, response.json()) == (200, {"hello": name})


def test_a_signature_is_bound_once_per_shape(base_url, monkeypatch):
    calls = []
    real = inspect.getcallargs
    monkeypatch.setattr(inspect, "getcallargs",
                        lambda *a, **k: calls.append(k) or real(*a, **k))
    for name in ("ana", "bo", "cy"):
        assert requests.get(base_url + f"/hello/{name}", timeout=5).status_code == 200
    assert len(calls) == 1
    for _ in range(2):
        assert requests.get(base_url + "/mismatch/ana", timeout=5).status_code == 500
    assert len(calls) == 3
