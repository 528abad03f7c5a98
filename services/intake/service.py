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
- ``INTAKE_URL``: intake's public address, which the page links in mails start with
  (``http://localhost:<INTAKE_PORT>``).
- ``INTAKE_LINK_RATE_LIMIT``: "lost your link?" requests per client address (``5/hour``); each
  reference is mailed at most ``INTAKE_LINK_MAILS_PER_REFERENCE`` times a day (3).
- ``PRIVACY_URL``: the privacy notice, when the secretariat publishes it elsewhere (``/privacy``
  then sends people there); ``SECRETARIAT_EMAIL`` (else ``MAIL_FROM``): who the notice tells
  people to write to for a copy or an erasure of their data.
- ``STAFF_API_TOKENS``: who may download attachments (``/api/...``); without it, the token the
  registry generated and announced (``staff.token_issued``).

The JSON route needs no CSRF token: a page on another site cannot send ``application/json``
without a CORS preflight, which only the allow-list passes.
"""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from marshmallow import ValidationError
from nameko.timer import timer
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from services.intake import (
    applicant,
    casefile,
    domain,
    guards,
    i18n,
    pages,
    submissions,
    waves,
)
from services.intake import db as intake_db
from services.intake.dependencies import (
    FormGuard,
    LinkGuard,
    LongLivedHeap,
    PrivacyNotice,
    PublicAddress,
    RelayNudge,
)
from services.intake.domain import N_, FieldProblem
from services.intake.handlers import handlers
from services.intake.schemas import CSRF_FIELD, errors_by_field, form_payload, form_schema
from shared import subject_access, validation
from shared.http import HttpError, error_response, http, json_response, parse_json_body, route
from shared.parked_events import ParkedEventRoutes
from shared.reliability import Inbox, subscribed
from shared.service import Service
from shared.staff_access import StaffAccess

MIGRATIONS = Path(__file__).parent / "migrations"
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

NOT_FOUND = (N_("Application not found"),
             N_("There is no application with this reference. Check the reference and try again."))
TOO_MANY = (N_("Too many attempts"),
            N_("Too many applications were sent from your connection. Please wait a little and "
               "try again."))
TOO_LARGE = (N_("The form is too large"),
             N_("The texts are too long to be sent. Please shorten the longest ones."))
FORM_EXPIRED = N_("The form had expired. Check your answers and send it again.")
PAGE_NOT_FOUND = (N_("Page not found"),
                  N_("This address does not open an application's page. Check that you copied "
                     "the whole link from the mail, or ask for it again."))
NOTHING_TO_ANSWER = (N_("No question to answer"),
                     N_("The secretariat is not waiting for information about this application "
                        "(or it has already received your answer). Nothing was sent."))
CANNOT_WITHDRAW = (N_("The application cannot be withdrawn"),
                   N_("A decision has already been taken on this application, so it can no "
                      "longer be withdrawn. Nothing was changed."))
ANSWER_TOO_LARGE = (N_("The answer is too large"),
                    N_("Attach at most 5 files of at most 5 MB each. Nothing was sent."))
TOO_MANY_LINKS = (N_("Too many requests"),
                  N_("Too many links were asked for from your connection. Please wait a little "
                     "and try again."))
# The private page says nothing to other sites, nor to search engines.
PRIVATE_HEADERS = {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow"}


@subscribed
class IntakeService(Service, ParkedEventRoutes):
    name = "intake"
    inbox = Inbox(handlers)
    guard = FormGuard()
    link_guard = LinkGuard()
    address = PublicAddress()
    privacy = PrivacyNotice()
    staff = StaffAccess(intake_db.announced_tokens.digests)
    publish_soon = RelayNudge()
    heap = LongLivedHeap()

    @http("GET", "/")
    def form(self, request):
        language = _page_language(request)
        return self._form_page(request, language)

    @http("GET", "/privacy")
    def privacy_notice(self, request):
        if self.privacy.elsewhere:
            return Response(status=303, headers={"Location": self.privacy.elsewhere})
        language = _page_language(request)
        return _page(pages.privacy_page(language, self.privacy.contact), language)

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

    # -- the applicant's page ---------------------------------------------------------------------

    @http("GET", "/applications/<string:reference>/<string:key>")
    def application_page(self, request, reference, key):
        case = self._case(reference, key)
        if case is None:
            return self._page_not_found(request)
        return self._application_page(request, case, key)

    @http("POST", "/applications/<string:reference>/<string:key>/answer")
    def answer(self, request, reference, key):
        case = self._case(reference, key)
        if case is None:
            return self._page_not_found(request)
        language = _case_language(request, case)
        if request.content_length is not None and request.content_length > MAX_ANSWER_BODY:
            return _problem(language, ANSWER_TOO_LARGE, 413)
        request.max_content_length = MAX_ANSWER_BODY
        try:
            form, uploads = request.form, _uploads(request)
        except RequestEntityTooLarge:
            return _problem(language, ANSWER_TOO_LARGE, 413)
        values = {"message": form.get("message", "")}
        if not self._csrf_valid(request, form):
            return self._application_page(request, case, key, values=values, status=403,
                                          errors={"message": [i18n.gettext(language,
                                                                           FORM_EXPIRED)]})
        if not case.standing.may_answer:
            return _problem(language, NOTHING_TO_ANSWER, 409)
        errors, message, files = _checked_answer(language, values["message"], uploads)
        if errors:
            return self._application_page(request, case, key, values=values, errors=errors,
                                          status=422)
        try:
            casefile.answer(self.db, case.reference, key, message, files)
        except applicant.NothingToAnswer:
            return _problem(language, NOTHING_TO_ANSWER, 409)
        except casefile.PageNotFound:
            return self._page_not_found(request)
        self.outbox.wake()
        return _see_page(case.reference, key, language)

    @http("GET", "/applications/<string:reference>/<string:key>/withdraw")
    def withdraw_confirmation(self, request, reference, key):
        case = self._case(reference, key)
        if case is None:
            return self._page_not_found(request)
        language = _case_language(request, case)
        if not case.standing.may_withdraw:
            return _see_page(case.reference, key, language)
        return self._withdraw_page(request, case, key)

    @http("POST", "/applications/<string:reference>/<string:key>/withdraw")
    def withdraw(self, request, reference, key):
        case = self._case(reference, key)
        if case is None:
            return self._page_not_found(request)
        language = _case_language(request, case)
        try:
            form = _read_form(request)
        except _TooLarge:
            return _problem(language, TOO_LARGE, 413)
        values = {"reason": form.get("reason", "")}
        if not self._csrf_valid(request, form) or form.get("confirm") != "yes":
            return self._withdraw_page(request, case, key, values=values, status=403,
                                       errors={"reason": [i18n.gettext(language, FORM_EXPIRED)]})
        try:
            reason = applicant.withdrawal_reason(values["reason"])
        except FieldProblem as problem:
            return self._withdraw_page(request, case, key, values=values, status=422, errors={
                "reason": [problem.translated(i18n.translations(language).gettext)]})
        try:
            if casefile.request_withdrawal(self.db, case.reference, key, reason):
                self.outbox.wake()
        except applicant.CannotWithdraw:
            return _problem(language, CANNOT_WITHDRAW, 409)
        except casefile.PageNotFound:
            return self._page_not_found(request)
        return _see_page(case.reference, key, language)

    @http("GET", "/lost-link")
    def lost_link_form(self, request):
        language = _page_language(request)
        return self._lost_link_page(request, language)

    @http("POST", "/lost-link")
    def lost_link(self, request):
        language = _page_language(request)
        try:
            form = _read_form(request)
        except _TooLarge:
            return _problem(language, TOO_LARGE, 413)
        values = {name: form.get(name, "") for name in ("reference", "contact_email")}
        if not self._csrf_valid(request, form):
            return self._lost_link_page(request, language, values=values, status=403, errors={
                "reference": [i18n.gettext(language, FORM_EXPIRED)]})
        errors, reference, email = _checked_lost_link(language, values)
        if errors:
            return self._lost_link_page(request, language, values=values, errors=errors,
                                        status=422)
        try:
            self.link_guard.admit(self._applicant(request), reference)
        except guards.TooManyRequests as limited:
            return _problem(language, TOO_MANY_LINKS, 429,
                            {"Retry-After": str(limited.retry_after)})
        except guards.QuietlyRefused:
            # This reference was mailed enough today: the same answer, no mail.
            return self._lost_link_page(request, language, sent=True)
        if casefile.mail_link_again(self.db, reference, email, self.address):
            self.outbox.wake()
        return self._lost_link_page(request, language, sent=True)

    # -- staff: the answers' attachments ----------------------------------------------------------

    @route("GET", "/api/applications/<string:reference>/answers", staff=True)
    def staff_answers(self, request, reference):
        with self.db.transaction() as session:
            answers = intake_db.answers(session, reference)
            files = intake_db.attachments(session, reference)
        return json_response({"reference": reference, "items": [
            {"message": a.message, "answered_at": a.answered_at.isoformat(),
             "attachments": [{**casefile.attachment_data(f),
                              "url": f"/api/attachments/{f.id}"}
                             for f in files if f.answer_id == a.id]}
            for a in answers
        ]})

    @route("GET", "/api/attachments/<string:attachment_id>", staff=True)
    def staff_attachment(self, request, attachment_id):
        with self.db.transaction() as session:
            row = intake_db.attachment(session, attachment_id)
            found = None if row is None else (row.content, row.content_type, row.filename)
        if found is None:
            return error_response(404, "not_found", "no attachment with this id")
        content, content_type, filename = found
        return Response(content, status=200, mimetype=content_type, headers={
            "Content-Disposition": _attachment_disposition(filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "no-store",
        })

    @route("GET", "/api/people", staff=True)
    def staff_person(self, request):
        """``?email=``: what intake holds about the person at that address (their export)."""
        email = subject_access.email_asked(request.args)
        with self.db.transaction() as session:
            held = intake_db.held_about(session, email)
        return json_response({"service": "intake", "email": email, **held})

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
                                          admission=self.guard.admission(client),
                                          page_base=self.address)
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
        receipt = submissions.receive(self.db, application, admission=self.guard.admission(client),
                                      page_base=self.address)
        if receipt.new:
            self.publish_soon()
        return _see_thanks(receipt.reference, language)

    def _applicant(self, request) -> str | None:
        return self.guard.client(request.remote_addr, request.headers.get("X-Forwarded-For"))

    # -- the applicant's page, helpers ------------------------------------------------------------

    def _case(self, reference: str, key: str) -> casefile.CaseFile | None:
        try:
            return casefile.open_page(self.db, domain.parse_reference(reference), key)
        except (domain.InvalidReference, casefile.PageNotFound):
            return None

    def _page_not_found(self, request) -> Response:
        # An unknown reference and a wrong key look the same: nothing says which it was.
        language = _page_language(request)
        return _page(pages.problem_page(language, *PAGE_NOT_FOUND, lost_link=True), language,
                     404, PRIVATE_HEADERS)

    def _browser(self, request) -> str:
        return request.cookies.get(BROWSER_COOKIE) or guards.new_browser_id()

    def _csrf_valid(self, request, form) -> bool:
        return self.guard.csrf_valid(request.cookies.get(BROWSER_COOKIE), form.get(CSRF_FIELD))

    def _with_browser(self, request, response: Response, browser_id: str) -> Response:
        if request.cookies.get(BROWSER_COOKIE) != browser_id:
            response.set_cookie(BROWSER_COOKIE, browser_id, max_age=BROWSER_COOKIE_SECONDS,
                                httponly=True, samesite="Lax", path="/")
        return response

    def _application_page(self, request, case, key: str, *, values=None, errors=None,
                          status: int = 200) -> Response:
        language = _case_language(request, case)
        browser_id = self._browser(request)
        html = pages.application_page(
            language, case, page_path=_page_path(case.reference, key), values=values,
            errors=errors, csrf_token=self.guard.csrf_token(browser_id))
        return self._with_browser(request, _page(html, language, status, PRIVATE_HEADERS),
                                  browser_id)

    def _withdraw_page(self, request, case, key: str, *, values=None, errors=None,
                       status: int = 200) -> Response:
        language = _case_language(request, case)
        browser_id = self._browser(request)
        html = pages.withdraw_page(language, case, page_path=_page_path(case.reference, key),
                                   values=values, errors=errors,
                                   csrf_token=self.guard.csrf_token(browser_id))
        return self._with_browser(request, _page(html, language, status, PRIVATE_HEADERS),
                                  browser_id)

    def _lost_link_page(self, request, language: str, *, values=None, errors=None,
                        sent: bool = False, status: int = 200) -> Response:
        browser_id = self._browser(request)
        html = pages.lost_link_page(language, values=values, errors=errors, sent=sent,
                                    csrf_token=self.guard.csrf_token(browser_id))
        return self._with_browser(request, _page(html, language, status), browser_id)

    def _form_page(self, request, language: str, *, values=None, errors=None, notice=None,
                   status: int = 200) -> Response:
        browser_id = request.cookies.get(BROWSER_COOKIE) or guards.new_browser_id()
        with self.db.transaction() as session:
            wave = waves.current_wave(intake_db.known_waves(session))
        html = pages.form_page(language, values=values, errors=errors, notice=notice,
                               csrf_token=self.guard.csrf_token(browser_id), wave=wave)
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
    try:
        return validation.clean_text(key.strip(), name=True)
    except validation.Refused as refused:
        raise HttpError(400, "bad_idempotency_key", str(refused)) from None


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


def _page_path(reference: str, key: str) -> str:
    return f"/applications/{reference}/{key}"


def _see_page(reference: str, key: str, language: str) -> Response:
    location = f"{_page_path(reference, key)}?lang={language}"
    return Response(status=303, headers={"Location": location, **PRIVATE_HEADERS})


def _case_language(request: Request, case: casefile.CaseFile) -> str:
    """``?lang=`` if given, else the language the applicant chose for our messages."""
    requested = (request.args.get("lang") or "").strip().lower()
    if requested in i18n.LANGUAGES:
        return requested
    chosen = case.facts.get("language")
    return chosen if chosen in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE


def _uploads(request: Request) -> list[applicant.Upload]:
    """The files of the answer form; an unused file input sends an empty part with no name."""
    uploads = []
    for storage in request.files.getlist("attachments"):
        content = storage.read()
        if not storage.filename and not content:
            continue
        uploads.append(applicant.Upload(storage.filename or "", content))
    return uploads


def _checked_answer(language: str, text: str, uploads: list[applicant.Upload]):
    translate = i18n.translations(language).gettext
    errors: dict[str, list[str]] = {}
    message, files = "", []
    try:
        message = applicant.answer_text(text)
    except FieldProblem as problem:
        errors["message"] = [problem.translated(translate)]
    try:
        files = applicant.check_attachments(uploads)
    except FieldProblem as problem:
        errors["attachments"] = [problem.translated(translate)]
    return errors, message, files


def _checked_lost_link(language: str, values: dict[str, str]):
    translate = i18n.translations(language).gettext
    errors: dict[str, list[str]] = {}
    reference = email = ""
    try:
        reference = domain.parse_reference(values["reference"])
    except domain.InvalidReference:
        errors["reference"] = [translate(N_("Enter the reference, for example HRC-2026-7KQ4M."))]
    try:
        email = domain.contact_email(values["contact_email"])
    except FieldProblem as problem:
        errors["contact_email"] = [problem.translated(translate)]
    return errors, reference, email


def _attachment_disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
