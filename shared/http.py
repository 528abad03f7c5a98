"""The HTTP kit of every service: one route decorator, errors answered in one place.

``@route(method, path, staff=True)`` is a route of the house: a staff route authenticates first
(the service's ``staff`` dependency, shared.staff_access), the handler returns a Response or a
payload for JSON, and what it raises is answered here: ``HttpError``, marshmallow's
``ValidationError`` (422, a message per field), a domain error that carries ``http_status``, or
one of the service's own ``Routes(errors=...)`` table. Anything else is an internal error, logged
with its traceback and answered with a plain 500.
"""
from __future__ import annotations

import functools
import inspect
import json
import logging
import socket
from collections.abc import Callable, Sequence
from typing import Any

from marshmallow import ValidationError
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


class _ErrorsApp(WsgiApp):
    """nameko's WSGI app, with unknown routes and methods answered in JSON too, or by the
    service's own page when its class has one (``unknown_route_page(request, exc)``: the
    console's HTML 404)."""

    def __call__(self, environ, start_response):
        request = Request(environ, shallow=True)
        try:
            provider, values = self.url_map.bind_to_environ(environ).match()
        except HTTPException as exc:
            page = getattr(self.server.container.service_cls, "unknown_route_page", None)
            if page is not None:
                return page(request, exc)(environ, start_response)
            headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
            response = error_response(exc.code or 404, _error_name(exc), exc.description,
                                      headers)
            return response(environ, start_response)
        request.path_values = values
        return provider.handle_request(request)(environ, start_response)


class JsonWebServer(WebServer):
    """One web server per service (a second one on the same address would take half its
    requests): every route of a service uses it."""

    def get_wsgi_app(self) -> WsgiApp:
        return _ErrorsApp(self)

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

    def check_signature(self, args, kwargs):
        # nameko binds every request's arguments to the handler with inspect.getcallargs (3% of
        # a submission's CPU). Whether they bind depends only on how many positional arguments
        # there are and which names the route gave, never on their values: a shape that bound
        # once is not bound again.
        shape = (len(args), frozenset(kwargs))
        if shape not in self._signatures_bound:
            super().check_signature(args, kwargs)
            self._signatures_bound.add(shape)

    @functools.cached_property
    def _signatures_bound(self) -> set[tuple[int, frozenset[str]]]:
        return set()

    def response_from_exception(self, exc: Exception) -> Response:
        refused = route.refusal(exc)
        if refused is not None:
            return refused
        if isinstance(exc, HTTPException):
            return error_response(exc.code or 500, _error_name(exc), exc.description)
        log.error("unhandled error in %s", self.method_name, exc_info=exc)
        return error_response(500, "internal_error", "something went wrong on our side")


http = JsonHttpEntrypoint.decorator


# Exception class -> (status, error code) as a client sees it; the first matching class wins.
ErrorTable = Sequence[tuple[type[Exception], int, str]]


class Routes:
    """The route decorator of a service, with that service's table of expected errors.

    Expected errors become responses inside the worker, not exceptions: nameko would log a
    raised one as a failed worker, traceback and all, for what is only a 401 or a 409.
    """

    def __init__(self, errors: ErrorTable = (), *, detail: Callable[[Exception], Any] = str,
                 entrypoint: type[HttpRequestHandler] = JsonHttpEntrypoint):
        """``detail``: what a table error says."""
        self.errors = tuple(errors)
        self.detail = detail
        self.entrypoint = entrypoint

    def __call__(self, method: str, path: str, *, staff: bool = False, status: int = 200):
        def decorate(handler: Callable[..., Any]):
            # A staff handler that names ``who`` is told who acts (the token's label, or the
            # person the console names); the others are only guarded.
            names_who = staff and "who" in inspect.signature(handler).parameters

            @functools.wraps(handler)
            def entrypoint(service, request, **kwargs):
                if any(isinstance(v, int) and v > validation.INT_MAX for v in kwargs.values()):
                    # No row has an id beyond its 32-bit column: the database is not asked.
                    return error_response(404, "not_found", "no such item")
                try:
                    if staff:
                        who = service.staff.who(request)
                        if names_who:
                            kwargs["who"] = who
                    result = handler(service, request, **kwargs)
                except Exception as exc:
                    refused = self.refusal(exc)
                    if refused is None:
                        raise
                    return refused
                return result if isinstance(result, Response) else json_response(result, status)

            return self.entrypoint.decorator(method, path)(entrypoint)

        return decorate

    def refusal(self, exc: Exception) -> Response | None:
        """The answer to an expected error, or None for one that is not."""
        if isinstance(exc, HttpError):
            return error_response(exc.status, exc.error, exc.detail, exc.headers)
        if isinstance(exc, ValidationError):
            return error_response(422, "invalid_request", exc.messages)
        for kind, status, error in self.errors:
            if isinstance(exc, kind):
                return error_response(status, error, self.detail(exc))
        status = getattr(exc, "http_status", None)
        if isinstance(status, int):
            return error_response(status, getattr(exc, "error_code", type(exc).__name__),
                                  str(exc))
        return None


route = Routes()
