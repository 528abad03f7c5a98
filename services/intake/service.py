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
- ``INTAKE_RELAY_NUDGE_SECONDS``: how soon after a commit that recorded events (a submission)
  the relay publishes, the wakes of that moment gathered into one pass (0.2).
- ``INTAKE_URL``: intake's public address, which the page links in mails start with
  (``http://localhost:<INTAKE_PORT>``).
- ``INTAKE_LINK_RATE_LIMIT``: "lost your link?" requests per client address (``5/hour``); each
  reference is mailed at most ``INTAKE_LINK_MAILS_PER_REFERENCE`` times a day (3).
- ``PRIVACY_URL``: the privacy notice, when the secretariat publishes it elsewhere (``/privacy``
  then sends people there); ``SECRETARIAT_EMAIL`` (else ``MAIL_FROM``): who the notice tells
  people to write to for a copy or an erasure of their data.
- ``STAFF_API_TOKENS``: who may download attachments (``/api/...``); without it, the token the
  registry generated and announced (``staff.token_issued``).

What a route reads from a request and puts on a response is in ``web``; ``POST /applications``
(JSON or form, and the one rule that counts every request against the rate limit) in
``posting``.
"""
from __future__ import annotations

from pathlib import Path

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
    posting,
    submissions,
    web,
)
from services.intake import db as intake_db
from services.intake.dependencies import (
    FormGuard,
    LinkGuard,
    LongLivedHeap,
    PrivacyNotice,
    PublicAddress,
    relay_nudge_seconds,
)
from services.intake.domain import N_, FieldProblem
from services.intake.handlers import INBOX_OPTIONS, handlers
from shared import subject_access
from shared.http import error_response, http, json_response, route
from shared.parked_events import ParkedEventRoutes
from shared.reliability import Inbox, Outbox, subscribed
from shared.service import Service
from shared.staff_access import StaffAccess

MIGRATIONS = Path(__file__).parent / "migrations"
NOT_FOUND = (N_("Application not found"),
             N_("There is no application with this reference. Check the reference and try again."))
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


@subscribed
class IntakeService(Service, ParkedEventRoutes):
    name = "intake"
    inbox = Inbox(handlers, **INBOX_OPTIONS)
    outbox = Outbox(wake_delay=relay_nudge_seconds)
    guard = FormGuard()
    link_guard = LinkGuard()
    address = PublicAddress()
    privacy = PrivacyNotice()
    staff = StaffAccess(intake_db.announced_tokens.digests)
    heap = LongLivedHeap()

    @http("GET", "/")
    def form(self, request):
        language = web.page_language(request)
        return posting.form_page(self._desk(), request, language)

    @http("GET", "/privacy")
    def privacy_notice(self, request):
        if self.privacy.elsewhere:
            return Response(status=303, headers={"Location": self.privacy.elsewhere})
        language = web.page_language(request)
        return web.page(pages.privacy_page(language, self.privacy.contact), language)

    @http("POST", "/")
    def switch_language(self, request):
        """The language buttons post the form here: the same answers, in another language."""
        language = web.page_language(request)
        try:
            form = web.read_form(request)
        except web.TooLarge:
            return web.problem(language, web.TOO_LARGE, 413)
        return posting.form_page(self._desk(), request, language, values=web.typed_values(form))

    @http("GET", "/applications/<string:reference>")
    def thanks(self, request, reference):
        language = web.page_language(request)
        try:
            reference = domain.parse_reference(reference)
        except domain.InvalidReference:
            return web.problem(language, NOT_FOUND, 404)
        with self.db.transaction() as session:
            exists = intake_db.submission_exists(session, reference)
        if not exists:
            return web.problem(language, NOT_FOUND, 404)
        return web.page(pages.thanks_page(language, reference), language)

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
        if request.content_length is not None and request.content_length > web.MAX_ANSWER_BODY:
            return web.problem(language, ANSWER_TOO_LARGE, 413)
        request.max_content_length = web.MAX_ANSWER_BODY
        try:
            form, uploads = request.form, web.uploads(request)
        except RequestEntityTooLarge:
            return web.problem(language, ANSWER_TOO_LARGE, 413)
        values = {"message": form.get("message", "")}
        if not web.csrf_valid(self.guard, request, form):
            expired = i18n.gettext(language, web.FORM_EXPIRED)
            return self._application_page(request, case, key, values=values, status=403,
                                          errors={"message": [expired]})
        if not case.standing.may_answer:
            return web.problem(language, NOTHING_TO_ANSWER, 409)
        errors, message, files = _checked_answer(language, values["message"], uploads)
        if errors:
            return self._application_page(request, case, key, values=values, errors=errors,
                                          status=422)
        try:
            casefile.answer(self.db, case.reference, key, message, files)
        except applicant.NothingToAnswer:
            return web.problem(language, NOTHING_TO_ANSWER, 409)
        except casefile.PageNotFound:
            return self._page_not_found(request)
        return web.see_page(case.reference, key, language)

    @http("GET", "/applications/<string:reference>/<string:key>/withdraw")
    def withdraw_confirmation(self, request, reference, key):
        case = self._case(reference, key)
        if case is None:
            return self._page_not_found(request)
        language = _case_language(request, case)
        if not case.standing.may_withdraw:
            return web.see_page(case.reference, key, language)
        return self._withdraw_page(request, case, key)

    @http("POST", "/applications/<string:reference>/<string:key>/withdraw")
    def withdraw(self, request, reference, key):
        case = self._case(reference, key)
        if case is None:
            return self._page_not_found(request)
        language = _case_language(request, case)
        try:
            form = web.read_form(request)
        except web.TooLarge:
            return web.problem(language, web.TOO_LARGE, 413)
        values = {"reason": form.get("reason", "")}
        if not web.csrf_valid(self.guard, request, form) or form.get("confirm") != "yes":
            expired = i18n.gettext(language, web.FORM_EXPIRED)
            return self._withdraw_page(request, case, key, values=values, status=403,
                                       errors={"reason": [expired]})
        try:
            reason = applicant.withdrawal_reason(values["reason"])
        except FieldProblem as problem:
            return self._withdraw_page(request, case, key, values=values, status=422, errors={
                "reason": [problem.translated(i18n.translations(language).gettext)]})
        try:
            casefile.request_withdrawal(self.db, case.reference, key, reason)
        except applicant.CannotWithdraw:
            return web.problem(language, CANNOT_WITHDRAW, 409)
        except casefile.PageNotFound:
            return self._page_not_found(request)
        return web.see_page(case.reference, key, language)

    @http("GET", "/lost-link")
    def lost_link_form(self, request):
        language = web.page_language(request)
        return self._lost_link_page(request, language)

    @http("POST", "/lost-link")
    def lost_link(self, request):
        language = web.page_language(request)
        try:
            form = web.read_form(request)
        except web.TooLarge:
            return web.problem(language, web.TOO_LARGE, 413)
        values = {name: form.get(name, "") for name in ("reference", "contact_email")}
        if not web.csrf_valid(self.guard, request, form):
            return self._lost_link_page(request, language, values=values, status=403, errors={
                "reference": [i18n.gettext(language, web.FORM_EXPIRED)]})
        errors, reference, email = _checked_lost_link(language, values)
        if errors:
            return self._lost_link_page(request, language, values=values, errors=errors,
                                        status=422)
        try:
            self.link_guard.admit(self._desk().client(request), reference)
        except guards.TooManyRequests as limited:
            return web.problem(language, TOO_MANY_LINKS, 429,
                               {"Retry-After": str(limited.retry_after)})
        except guards.QuietlyRefused:
            # This reference was mailed enough today: the same answer, no mail.
            return self._lost_link_page(request, language, sent=True)
        casefile.mail_link_again(self.db, reference, email, self.address)
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
            "Content-Disposition": web.attachment_disposition(filename),
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
                                             **web.CORS_PREFLIGHT_HEADERS})

    @http("POST", "/applications")
    def submit_application(self, request):
        if request.mimetype in web.FORM_TYPES:
            return posting.form_post(self._desk(), request)
        return posting.json_post(self._desk(), request)

    @timer(interval=60)
    def forget_expired(self):
        submissions.forget_expired(self.db)

    def _desk(self) -> posting.Desk:
        return posting.Desk(self.db, self.guard, self.address)

    # -- the applicant's page, helpers ------------------------------------------------------------

    def _case(self, reference: str, key: str) -> casefile.CaseFile | None:
        try:
            return casefile.open_page(self.db, domain.parse_reference(reference), key)
        except (domain.InvalidReference, casefile.PageNotFound):
            return None

    def _page_not_found(self, request) -> Response:
        # An unknown reference and a wrong key look the same: nothing says which it was.
        language = web.page_language(request)
        return web.page(pages.problem_page(language, *PAGE_NOT_FOUND, lost_link=True), language,
                        404, web.PRIVATE_HEADERS)

    def _application_page(self, request, case, key: str, *, values=None, errors=None,
                          status: int = 200) -> Response:
        language = _case_language(request, case)
        browser_id = web.browser_id(request)
        html = pages.application_page(
            language, case, page_path=web.page_path(case.reference, key), values=values,
            errors=errors, csrf_token=self.guard.csrf_token(browser_id))
        return web.with_browser(request, web.page(html, language, status, web.PRIVATE_HEADERS),
                                browser_id)

    def _withdraw_page(self, request, case, key: str, *, values=None, errors=None,
                       status: int = 200) -> Response:
        language = _case_language(request, case)
        browser_id = web.browser_id(request)
        html = pages.withdraw_page(language, case, page_path=web.page_path(case.reference, key),
                                   values=values, errors=errors,
                                   csrf_token=self.guard.csrf_token(browser_id))
        return web.with_browser(request, web.page(html, language, status, web.PRIVATE_HEADERS),
                                browser_id)

    def _lost_link_page(self, request, language: str, *, values=None, errors=None,
                        sent: bool = False, status: int = 200) -> Response:
        browser_id = web.browser_id(request)
        html = pages.lost_link_page(language, values=values, errors=errors, sent=sent,
                                    csrf_token=self.guard.csrf_token(browser_id))
        return web.with_browser(request, web.page(html, language, status), browser_id)


# -- the applicant's page and the lost link, checks ----------------------------------------------

def _case_language(request: Request, case: casefile.CaseFile) -> str:
    """``?lang=`` if given, else the language the applicant chose for our messages."""
    requested = (request.args.get("lang") or "").strip().lower()
    if requested in i18n.LANGUAGES:
        return requested
    chosen = case.facts.get("language")
    return chosen if chosen in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE


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
