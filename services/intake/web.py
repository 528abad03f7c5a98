"""What intake's public routes read from a request and put on a response: the page language,
bounded form and JSON bodies, the Idempotency-Key, the browser cookie that the CSRF tokens
sign, and the headers of every page. No rules here and no database: the routes decide.

The JSON route needs no CSRF token: a page on another site cannot send ``application/json``
without a CORS preflight, which only the allow-list passes.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from services.intake import applicant, domain, guards, i18n, pages
from services.intake.domain import N_
from services.intake.schemas import CSRF_FIELD
from shared import validation
from shared.http import HttpError, json_response, parse_json_body

MAX_BODY = 64 * 1024
# Five files of 5 MB, the text and the multipart framing.
MAX_ANSWER_BODY = applicant.MAX_ATTACHMENTS * applicant.MAX_ATTACHMENT_BYTES + 256 * 1024
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
# The private page says nothing to other sites, nor to search engines.
PRIVATE_HEADERS = {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow"}

TOO_LARGE = (N_("The form is too large"),
             N_("The texts are too long to be sent. Please shorten the longest ones."))
FORM_EXPIRED = N_("The form had expired. Check your answers and send it again.")


class TooLarge(Exception):
    """A form post over MAX_BODY bytes."""


def page_language(request: Request, fallback: str = i18n.DEFAULT_LANGUAGE) -> str:
    return i18n.choose_language(request.args.get("lang"), request.headers.get("Accept-Language"),
                                fallback)


def read_form(request: Request):
    """The posted form, at most MAX_BODY bytes of it."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise TooLarge()
    request.max_content_length = MAX_BODY
    try:
        return request.form
    except RequestEntityTooLarge:
        raise TooLarge() from None


def typed_values(form) -> dict[str, Any]:
    """What was typed, to show it again (only the application's fields)."""
    return {name: (form.getlist(name) if name == "themes" else form.get(name))
            for name in domain.FIELDS if name in form}


def json_object(request: Request) -> dict[str, Any]:
    # The WSGI server does not bound a chunked body, so werkzeug would read it as empty.
    if request.content_length is None and "chunked" in request.headers.get(
            "Transfer-Encoding", "").lower():
        raise HttpError(411, "length_required", "send the body with a Content-Length")
    payload = parse_json_body(request, MAX_BODY)
    if not isinstance(payload, dict):
        raise HttpError(400, "malformed_json", "the body must be a JSON object")
    return payload


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None or not key.strip():
        return None
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise HttpError(400, "bad_idempotency_key",
                        f"an Idempotency-Key has at most {MAX_IDEMPOTENCY_KEY} characters")
    try:
        return validation.clean_text(key.strip(), name=True)
    except validation.Refused as refused:
        raise HttpError(400, "bad_idempotency_key", str(refused)) from None


def uploads(request: Request) -> list[applicant.Upload]:
    """The files of the answer form; an unused file input sends an empty part with no name."""
    found = []
    for storage in request.files.getlist("attachments"):
        content = storage.read()
        if not storage.filename and not content:
            continue
        found.append(applicant.Upload(storage.filename or "", content))
    return found


# -- the browser cookie of the CSRF tokens --------------------------------------------------------

def browser_id(request: Request) -> str:
    return request.cookies.get(BROWSER_COOKIE) or guards.new_browser_id()


def csrf_valid(guard, request: Request, form) -> bool:
    return guard.csrf_valid(request.cookies.get(BROWSER_COOKIE), form.get(CSRF_FIELD))


def with_browser(request: Request, response: Response, browser: str) -> Response:
    if request.cookies.get(BROWSER_COOKIE) != browser:
        response.set_cookie(BROWSER_COOKIE, browser, max_age=BROWSER_COOKIE_SECONDS,
                            httponly=True, samesite="Lax", path="/")
    return response


# -- responses ------------------------------------------------------------------------------------

def page(html: str, language: str, status: int = 200, headers: dict | None = None) -> Response:
    return Response(html, status=status, mimetype="text/html",
                    headers={**PAGE_HEADERS, "Content-Language": language, **(headers or {})})


def problem(language: str, problem: tuple[str, str], status: int,
            headers: dict | None = None) -> Response:
    return page(pages.problem_page(language, *problem), language, status, headers)


def received_json(reference: str, cors: dict[str, str]) -> Response:
    return json_response({"reference": reference, "status": "received"}, 202, cors)


def see_thanks(reference: str, language: str) -> Response:
    return Response(status=303, headers={"Location": f"/applications/{reference}?lang={language}"})


def page_path(reference: str, key: str) -> str:
    return f"/applications/{reference}/{key}"


def see_page(reference: str, key: str, language: str) -> Response:
    location = f"{page_path(reference, key)}?lang={language}"
    return Response(status=303, headers={"Location": location, **PRIVATE_HEADERS})


def attachment_disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
