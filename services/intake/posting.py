"""``POST /applications``, as a JSON body or as a form post: what is refused and how each kind
of client is told, and one rule for the rate limit. Every request counts once: a stored
submission in its own transaction (submissions.receive), a refusal on its own before its answer
(``Refused``), and a client over its limit is told so whatever it sent.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from marshmallow import ValidationError
from werkzeug.wrappers import Request, Response

from services.intake import db as intake_db
from services.intake import domain, guards, i18n, pages, submissions, waves, web
from services.intake.dependencies import Guard
from services.intake.domain import N_
from services.intake.schemas import errors_by_field, form_payload, form_schema
from shared.db import Database
from shared.http import HttpError, error_response, json_response

TOO_MANY = (N_("Too many attempts"),
            N_("Too many applications were sent from your connection. Please wait a little and "
               "try again."))


@dataclass(frozen=True)
class Desk:
    """What a submission needs from the service: its database, its guard and the public
    address its page links start with."""

    database: Database
    guard: Guard
    page_base: str

    def client(self, request: Request) -> str | None:
        return self.guard.client(request.remote_addr, request.headers.get("X-Forwarded-For"))

    def receive(self, application, admission, key: str | None = None) -> str:
        return submissions.receive(self.database, application, idempotency_key=key,
                                   admission=admission, page_base=self.page_base).reference


class Refused(Exception):
    """Answered without storing anything; ``answer`` builds the response once the request has
    been counted (a client over its limit is told that instead)."""

    def __init__(self, answer: Callable[[], Response]):
        super().__init__("refused")
        self.answer = answer


def json_post(desk: Desk, request: Request) -> Response:
    cors = desk.guard.cors_headers(request.headers.get("Origin"))
    if request.mimetype != "application/json":
        return error_response(415, "unsupported_media_type",
                              "send application/json or a form post", cors)

    def attempt(admission: guards.Admission | None) -> Response:
        try:
            payload = web.json_object(request)
            key = web.idempotency_key(request)
        except HttpError as refusal:
            answer = error_response(refusal.status, refusal.error, refusal.detail,
                                    {**cors, **refusal.headers})
            raise Refused(lambda: answer) from None
        fallback = payload.get("language") if isinstance(payload.get("language"), str) else "en"
        language = web.page_language(request, fallback)
        if domain.is_spam(payload):
            raise Refused(lambda: web.received_json(domain.new_reference(_year()), cors))
        payload.pop(domain.HONEYPOT_FIELD, None)
        try:
            application = form_schema(language).load(payload)
        except ValidationError as invalid:
            errors = errors_by_field(invalid.messages)
            raise Refused(lambda: json_response({"errors": errors}, 422, cors)) from None
        try:
            reference = desk.receive(application, admission, key)
        except submissions.KeyReused:
            raise Refused(lambda: error_response(
                422, "idempotency_key_reused",
                "this Idempotency-Key was sent with another application", cors)) from None
        return web.received_json(reference, cors)

    return _counted(desk, request, attempt, lambda retry_after: error_response(
        429, "too_many_requests", f"retry in {retry_after} s",
        {**cors, "Retry-After": str(retry_after)}))


def form_post(desk: Desk, request: Request) -> Response:
    language = web.page_language(request)

    def attempt(admission: guards.Admission | None) -> Response:
        try:
            form = web.read_form(request)
        except web.TooLarge:
            raise Refused(lambda: web.problem(language, web.TOO_LARGE, 413)) from None
        values = web.typed_values(form)
        if not web.csrf_valid(desk.guard, request, form):
            raise Refused(lambda: form_page(desk, request, language, values=values, status=403,
                                            notice=i18n.gettext(language, web.FORM_EXPIRED)))
        if domain.is_spam(form):
            raise Refused(lambda: web.see_thanks(domain.new_reference(_year()), language))
        try:
            application = form_schema(language).load(form_payload(form))
        except ValidationError as invalid:
            errors = errors_by_field(invalid.messages)
            raise Refused(lambda: form_page(desk, request, language, values=values, status=422,
                                            errors=errors)) from None
        return web.see_thanks(desk.receive(application, admission), language)

    return _counted(desk, request, attempt, lambda retry_after: web.problem(
        language, TOO_MANY, 429, {"Retry-After": str(retry_after)}))


def form_page(desk: Desk, request: Request, language: str, *, values=None, errors=None,
              notice=None, status: int = 200) -> Response:
    browser = web.browser_id(request)
    with desk.database.transaction() as session:
        wave = waves.current_wave(intake_db.known_waves(session))
    html = pages.form_page(language, values=values, errors=errors, notice=notice,
                           csrf_token=desk.guard.csrf_token(browser), wave=wave)
    response = web.page(html, language, status)
    response.headers["Vary"] = "Accept-Language, Cookie"
    return web.with_browser(request, response, browser)


def _counted(desk: Desk, request: Request,
             attempt: Callable[[guards.Admission | None], Response],
             too_many: Callable[[int], Response]) -> Response:
    # Refusals are answers, not failures: returned (not raised) so that nameko does not log
    # each one with a traceback.
    client = desk.client(request)
    try:
        try:
            return attempt(desk.guard.admission(client))
        except Refused as refused:
            desk.guard.admit(client)
            return refused.answer()
    except guards.TooManyRequests as limited:
        return too_many(limited.retry_after)


def _year() -> int:
    return datetime.now(UTC).year
