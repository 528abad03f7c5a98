"""Intake's entrypoints: the public form, ``POST /applications`` (form and JSON), the thank-you
page, health, and erasure requests. Each route parses, asks the guard, calls the rules and the
submission desk, and maps the outcome to a status; the rules live in domain/schemas/guards.

Settings (environment, or container config in tests):
- ``INTAKE_RATE_LIMIT``: requests per client address and fixed window, e.g. ``20/minute``
  (the default), ``5/10 seconds``, ``off``. Counted in the database: replicas share it.
- ``INTAKE_CORS_ORIGINS``: comma-separated origins whose pages may post JSON (none by default).
- ``INTAKE_SECRET``: the key of the form's CSRF tokens; by default one is generated and stored
  in intake's database by the first replica that needs it.
- ``INTAKE_TRUSTED_PROXIES``: comma-separated addresses of our own reverse proxies; behind
  them, the applicant's address is read from X-Forwarded-For (else every applicant would share
  the proxy's limit).
- ``INTAKE_RELAY_NUDGE_SECONDS``: how soon after a submission the relay publishes (0.05).

The JSON route needs no CSRF token: a page on another site cannot send ``application/json``
without a CORS preflight, which only the allow-list passes.
"""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from marshmallow import ValidationError
from nameko.dependency_providers import Config
from nameko.timer import timer
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from services.intake import db as intake_db
from services.intake import domain, guards, i18n, pages, submissions
from services.intake.dependencies import FormGuard, LongLivedHeap, RelayNudge
from services.intake.domain import N_
from services.intake.schemas import CSRF_FIELD, errors_by_field, form_payload, form_schema
from shared import health
from shared.db import ServiceDatabase
from shared.http import HttpError, error_response, http, json_response, parse_json_body
from shared.reliability import Inbox, Outbox, subscribed

MIGRATIONS = Path(__file__).parent / "migrations"
MAX_BODY = 64 * 1024
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
BROWSER_COOKIE = "hrc_intake_browser"
BROWSER_COOKIE_SECONDS = 30 * 86400
MAX_IDEMPOTENCY_KEY = 255
CORS_PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Idempotency-Key, Accept-Language",
    "Access-Control-Max-Age": "600",
}
# The pages load nothing from anywhere and post only to intake itself.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

NOT_FOUND = (N_("Application not found"),
             N_("There is no application with this reference. Check the reference and try again."))
TOO_MANY = (N_("Too many attempts"),
            N_("Too many applications were sent from your connection. Please wait a little and "
               "try again."))
TOO_LARGE = (N_("The form is too large"),
             N_("The texts are too long to be sent. Please shorten the longest ones."))
FORM_EXPIRED = N_("The form had expired. Check your answers and send it again.")


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
    guard = FormGuard()
    publish_soon = RelayNudge()
    heap = LongLivedHeap()

    @http("GET", "/health")
    def health(self, request):
        status, report = health.check(self.db, self.config["AMQP_URI"])
        return json_response(report, status)

    @http("GET", "/")
    def form(self, request):
        language = _page_language(request)
        return self._form_page(request, language)

    @http("POST", "/")
    def switch_language(self, request):
        """The language buttons post the form here: the same answers, in another language."""
        language = _page_language(request)
        try:
            form = _read_form(request)
        except _TooLarge:
            return _problem(language, TOO_LARGE, 413)
        return self._form_page(request, language, values=_typed_values(form))

    @http("GET", "/applications/<string:reference>")
    def thanks(self, request, reference):
        language = _page_language(request)
        try:
            reference = domain.parse_reference(reference)
        except domain.InvalidReference:
            return _problem(language, NOT_FOUND, 404)
        with self.db.transaction() as session:
            exists = intake_db.submission_exists(session, reference)
        if not exists:
            return _problem(language, NOT_FOUND, 404)
        return _page(pages.thanks_page(language, reference), language)

    @http("OPTIONS", "/applications")
    def preflight(self, request):
        origin = request.headers.get("Origin")
        if not guards.origin_allowed(origin, self.guard.origins):
            return error_response(403, "origin_not_allowed",
                                  "this origin may not post applications")
        return Response(status=204, headers={**self.guard.cors_headers(origin),
                                             **CORS_PREFLIGHT_HEADERS})

    @http("POST", "/applications")
    def submit_application(self, request):
        if request.mimetype in FORM_TYPES:
            return self._submit_form(request)
        return self._submit_json(request)

    @timer(interval=60)
    def forget_expired(self):
        submissions.forget_expired(self.db)

    # -- the JSON route ---------------------------------------------------------------------------

    def _submit_json(self, request):
        # Refusals are answers, not failures: returned (not raised) so that nameko does not
        # log each one with a traceback.
        cors = self.guard.cors_headers(request.headers.get("Origin"))
        try:
            return self._receive_json(request, cors)
        except guards.TooManyRequests as limited:
            return error_response(429, "too_many_requests", f"retry in {limited.retry_after} s",
                                  {**cors, "Retry-After": str(limited.retry_after)})
        except HttpError as refusal:
            return error_response(refusal.status, refusal.error, refusal.detail,
                                  {**cors, **refusal.headers})

    def _receive_json(self, request, cors: dict[str, str]) -> Response:
        client = self._applicant(request)
        if request.mimetype != "application/json":
            raise HttpError(415, "unsupported_media_type",
                            "send application/json or a form post")
        try:
            payload = _json_object(request)
            key = _idempotency_key(request)
        except HttpError:
            self.guard.admit(client)
            raise
        fallback = payload.get("language") if isinstance(payload.get("language"), str) else "en"
        language = _page_language(request, fallback)
        if domain.is_spam(payload):
            self.guard.admit(client)
            return _received_json(domain.new_reference(_year()), cors)
        payload.pop(domain.HONEYPOT_FIELD, None)
        try:
            application = form_schema(language).load(payload)
        except ValidationError as invalid:
            self.guard.admit(client)
            return json_response({"errors": errors_by_field(invalid.messages)}, 422, cors)
        try:
            receipt = submissions.receive(self.db, application, idempotency_key=key,
                                          admit=self.guard.admission(client))
        except submissions.KeyReused as reused:
            self.guard.admit(client)
            raise HttpError(422, "idempotency_key_reused",
                            "this Idempotency-Key was sent with another application") from reused
        if receipt.new:
            self.publish_soon()
        return _received_json(receipt.reference, cors)

    # -- the HTML form ----------------------------------------------------------------------------

    def _submit_form(self, request):
        language = _page_language(request)
        try:
            return self._receive_form(request, language)
        except guards.TooManyRequests as limited:
            return _problem(language, TOO_MANY, 429, {"Retry-After": str(limited.retry_after)})

    def _receive_form(self, request, language: str) -> Response:
        client = self._applicant(request)
        try:
            form = _read_form(request)
        except _TooLarge:
            self.guard.admit(client)
            return _problem(language, TOO_LARGE, 413)
        values = _typed_values(form)
        if not self.guard.csrf_valid(request.cookies.get(BROWSER_COOKIE), form.get(CSRF_FIELD)):
            self.guard.admit(client)
            return self._form_page(request, language, values=values, status=403,
                                   notice=i18n.gettext(language, FORM_EXPIRED))
        if domain.is_spam(form):
            self.guard.admit(client)
            return _see_thanks(domain.new_reference(_year()), language)
        try:
            application = form_schema(language).load(form_payload(form))
        except ValidationError as invalid:
            self.guard.admit(client)
            return self._form_page(request, language, values=values, status=422,
                                   errors=errors_by_field(invalid.messages))
        receipt = submissions.receive(self.db, application, admit=self.guard.admission(client))
        if receipt.new:
            self.publish_soon()
        return _see_thanks(receipt.reference, language)

    def _applicant(self, request) -> str | None:
        return self.guard.client(request.remote_addr, request.headers.get("X-Forwarded-For"))

    def _form_page(self, request, language: str, *, values=None, errors=None, notice=None,
                   status: int = 200) -> Response:
        browser_id = request.cookies.get(BROWSER_COOKIE) or guards.new_browser_id()
        html = pages.form_page(language, values=values, errors=errors, notice=notice,
                               csrf_token=self.guard.csrf_token(browser_id))
        response = _page(html, language, status)
        response.headers["Vary"] = "Accept-Language, Cookie"
        if request.cookies.get(BROWSER_COOKIE) != browser_id:
            response.set_cookie(BROWSER_COOKIE, browser_id, max_age=BROWSER_COOKIE_SECONDS,
                                httponly=True, samesite="Lax", path="/")
        return response


# -- request and response helpers ----------------------------------------------------------

def _page_language(request: Request, fallback: str = i18n.DEFAULT_LANGUAGE) -> str:
    return i18n.choose_language(request.args.get("lang"), request.headers.get("Accept-Language"),
                                fallback)


class _TooLarge(Exception):
    """A form post over MAX_BODY bytes."""


def _read_form(request: Request):
    """The posted form, at most MAX_BODY bytes of it."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise _TooLarge()
    request.max_content_length = MAX_BODY
    try:
        return request.form
    except RequestEntityTooLarge:
        raise _TooLarge() from None


def _typed_values(form) -> dict[str, Any]:
    """What was typed, to show it again (only the application's fields)."""
    return {name: (form.getlist(name) if name == "themes" else form.get(name))
            for name in domain.FIELDS if name in form}


def _json_object(request: Request) -> dict[str, Any]:
    # The WSGI server does not bound a chunked body, so werkzeug would read it as empty.
    if request.content_length is None and "chunked" in request.headers.get(
            "Transfer-Encoding", "").lower():
        raise HttpError(411, "length_required", "send the body with a Content-Length")
    payload = parse_json_body(request, MAX_BODY)
    if not isinstance(payload, dict):
        raise HttpError(400, "malformed_json", "the body must be a JSON object")
    return payload


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None or not key.strip():
        return None
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise HttpError(400, "bad_idempotency_key",
                        f"an Idempotency-Key has at most {MAX_IDEMPOTENCY_KEY} characters")
    return key.strip()


def _received_json(reference: str, cors: dict[str, str]) -> Response:
    return json_response({"reference": reference, "status": "received"}, 202, cors)


def _see_thanks(reference: str, language: str) -> Response:
    return Response(status=303, headers={"Location": f"/applications/{reference}?lang={language}"})


def _page(html: str, language: str, status: int = 200, headers: dict | None = None) -> Response:
    return Response(html, status=status, mimetype="text/html",
                    headers={**PAGE_HEADERS, "Content-Language": language, **(headers or {})})


def _problem(language: str, problem: tuple[str, str], status: int,
             headers: dict | None = None) -> Response:
    return _page(pages.problem_page(language, *problem), language, status, headers)


def _year() -> int:
    return datetime.now(UTC).year
