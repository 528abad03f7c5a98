"""The HTTP entrypoint of every service: errors become JSON in one place, never a stack trace.

Routes raise ``HttpError`` (or a domain error that carries ``http_status``); anything else is
an internal error, logged with its traceback and answered with a plain 500.
"""
from __future__ import annotations

import json
import logging
import socket
from typing import Any

from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from shared import validation

log = logging.getLogger(__name__)


class HttpError(Exception):
    def __init__(self, status: int, error: str, detail: Any = None, headers: dict | None = None):
        super().__init__(f"{status} {error}")
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers or {}


def json_response(payload: Any, status: int = 200, headers: dict | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, default=str)
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate echoed back (an unknown field's name, say) cannot be UTF-8: as a
        # JSON escape it can, and the answer stays what it is instead of becoming a 500.
        body = json.dumps(payload, ensure_ascii=True, default=str)
    return Response(
        body,
        status=status,
        headers=headers,
        mimetype="application/json",
    )


def error_response(status: int, error: str, detail: Any = None,
                   headers: dict | None = None) -> Response:
    return json_response({"error": error, "detail": detail}, status, headers)


def parse_json_body(request, max_bytes: int = 64 * 1024) -> Any:
    """The request's JSON body, or the HttpError a client should see (nesting bounded to
    ``validation.MAX_DEPTH``)."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise HttpError(413, "payload_too_large", f"the body is limited to {max_bytes} bytes")
    if request.mimetype != "application/json":
        raise HttpError(415, "unsupported_media_type", "send application/json")
    raw = request.get_data(cache=True)
    if len(raw) > max_bytes:
        raise HttpError(413, "payload_too_large", f"the body is limited to {max_bytes} bytes")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise HttpError(400, "malformed_json", str(exc)) from exc
    except RecursionError as exc:  # nesting deeper than the decoder's own recursion limit
        raise HttpError(400, "malformed_json", validation.TOO_DEEP) from exc
    try:
        validation.check_depth(body)
    except validation.Refused as exc:
        raise HttpError(400, "malformed_json", str(exc)) from exc
    return body


class _JsonErrorsApp(WsgiApp):
    """nameko's WSGI app, with unknown routes and methods answered in JSON too."""

    def __call__(self, environ, start_response):
        request = Request(environ, shallow=True)
        try:
            provider, values = self.url_map.bind_to_environ(environ).match()
        except HTTPException as exc:
            headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
            response = error_response(exc.code or 404, _error_name(exc), exc.description,
                                      headers)
            return response(environ, start_response)
        request.path_values = values
        return provider.handle_request(request)(environ, start_response)


class JsonWebServer(WebServer):
    def get_wsgi_app(self) -> WsgiApp:
        return _JsonErrorsApp(self)

    def get_wsgi_server(self, sock, wsgi_app, *args, **kwargs):
        # eventlet writes a response's headers and body in separate sends: with Nagle's
        # algorithm on, a kept-alive client's delayed ACK held every mid-sized answer back
        # some 40 ms. Connections accepted from this socket inherit TCP_NODELAY (Linux).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return super().get_wsgi_server(sock, wsgi_app, *args, **kwargs)


def _error_name(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_")


class JsonHttpEntrypoint(HttpRequestHandler):
    server = JsonWebServer()

    def response_from_exception(self, exc: Exception) -> Response:
        if isinstance(exc, HttpError):
            return error_response(exc.status, exc.error, exc.detail, exc.headers)
        status = getattr(exc, "http_status", None)
        if isinstance(status, int):
            return error_response(status, getattr(exc, "error_code", type(exc).__name__),
                                  str(exc))
        if isinstance(exc, HTTPException):
            return error_response(exc.code or 500, _error_name(exc), exc.description)
        log.error("unhandled error in %s", self.method_name, exc_info=exc)
        return error_response(500, "internal_error", "something went wrong on our side")


http = JsonHttpEntrypoint.decorator
