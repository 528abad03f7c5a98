"""The console's entrypoints: the secretariat's pages, and a small staff API for ``hrc staff``.

Pages read and act only through the registry's and reports' staff HTTP APIs, with the console's
own token, naming the signed-in person in X-Staff-Actor. Each route parses its form, calls one
thing and renders; ``page`` maps what can go wrong (no session, wrong role, a missing CSRF
token, the API's 404/409/422, an API that cannot be reached) to a page, in one place.
"""
from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Response

from services.console import desk, schemas
from services.console import settings as console_settings
from services.console.accounts import Accounts
from services.console.db import AccountExists, announced_tokens
from services.console.domain import (
    DomainError,
    Forbidden,
    LinkInvalid,
    Permission,
    Role,
    SignInRefused,
    digest_period,
    require,
    safe_next,
)
from services.console.handlers import handlers
from services.console.web import SESSION_COOKIE, View, sign_in_location, unknown_route_page
from shared import parked_events, subject_access
from shared.config import service_settings
from shared.db import database_for
from shared.http import HttpError, Routes, http
from shared.inbox import NotParked, UnknownParkedEvent
from shared.reliability import Inbox, subscribed
from shared.service import Service
from shared.staff_access import StaffAccess
from shared.staff_api import StaffApi, StaffApiError

MIGRATIONS = Path(__file__).parent / "migrations"
# The registry's own limit for a members CSV: a bigger file is refused before it is sent.
MAX_IMPORT_BYTES = 5 * 1024 * 1024

log = logging.getLogger(__name__)


class Desk(DependencyProvider):
    """The accounts, and API clients acting for the signed-in person."""

    def setup(self) -> None:
        config = self.container.config
        self.settings = service_settings(config, console_settings.load)
        self.accounts = Accounts(database_for(config["DB_URL"]), self.settings.url)
        self.token = self.settings.token
        self.secure = self.settings.secure
        if not self.token:
            raise RuntimeError(
                "console: no staff token of its own. Set CONSOLE_STAFF_TOKEN (the same value "
                "for the console, the registry and the reports), or give STAFF_API_TOKENS a "
                "`console:<token>` item; `hrc run` with all services makes one by itself.")

    def start(self) -> None:
        email = self.settings.admin_email
        try:
            generated = self.accounts.ensure_first_admin(email, self.settings.admin_password)
        except AccountExists:
            generated = None  # another replica created it at the same moment
        if generated:
            print("\n*** console: no staff account yet; created the first admin."
                  f"\n*** Sign in at {self.settings.url}/login as "
                  f"{email or 'admin@localhost'}"
                  f"\n*** with this password (shown only this once): {generated}\n",
                  file=sys.stdout, flush=True)
        log.info("console: %s", self.settings.url)

    def get_dependency(self, worker_ctx) -> Desk:
        return self

    def registry(self, view: View) -> StaffApi:
        return StaffApi(self.settings.service_urls["registry"], self.token,
                        view.account.email if view.account else None)

    def notify(self, view: View) -> StaffApi:
        return StaffApi(self.settings.service_urls["notify"], self.token)

    def intake(self, view: View) -> StaffApi:
        return StaffApi(self.settings.service_urls["intake"], self.token)

    def reports(self, view: View) -> StaffApi:
        return StaffApi(self.settings.service_urls["reports"], self.token,
                        view.account.email if view.account else None)

    def view(self, request) -> View:
        return View.of(request, self.accounts.signed_in(request.cookies.get(SESSION_COOKIE)),
                       self.secure)


class NotFoundPage(Exception):
    pass


def page(method: str, path: str, permission: Permission | None = Permission.REVIEW):
    """A page: signed in (unless ``permission`` is None), allowed, CSRF-checked if a POST."""

    def decorate(handler: Callable[..., Response]):
        @functools.wraps(handler)
        def entrypoint(self, request, **kwargs):
            view = self.desk.view(request)
            try:
                if permission is not None:
                    if view.account is None:
                        return view.redirect(sign_in_location(request))
                    require(view.account.role, permission)
                if method == "POST" and not view.csrf_ok():
                    return view.render("error.html", 403, code=403, reason="csrf")
                return handler(self, request, view, **kwargs)
            except Forbidden:
                return view.render("error.html", 403, code=403)
            except NotFoundPage:
                return view.render("error.html", 404, code=404)
            except StaffApiError as exc:
                if exc.status == 404:
                    return view.render("error.html", 404, code=404)
                log.warning("console: %s %s: the API answered %s", method, path, exc)
                return view.render("error.html", 502, code=502, detail=str(exc.detail or ""))
            except requests.RequestException as exc:
                log.warning("console: %s %s: API unreachable: %s", method, path, exc)
                return view.render("error.html", 503, code=503)
            except Exception:
                log.exception("console: %s %s failed", method, path)
                return view.render("error.html", 500, code=500)

        return http(method, path)(entrypoint)

    return decorate


# ``hrc staff``'s routes: a staff token first, then JSON.
staff_api = Routes([(AccountExists, 409, "conflict"), (DomainError, 422, "invalid_request")])


@subscribed
class ConsoleService(Service):
    name = "console"
    inbox = Inbox(handlers)
    desk = Desk()
    staff = StaffAccess(announced_tokens.digests, console=False)
    # Unknown paths get the console's HTML error page, not JSON (shared.http asks for it).
    unknown_route_page = staticmethod(unknown_route_page)

    # --- signing in ---------------------------------------------------------------------

    @page("GET", "/login", permission=None)
    def login_form(self, request, view):
        if view.account:
            return view.redirect(safe_next(request.args.get("next")))
        return view.render("login.html", values={"next": safe_next(request.args.get("next"))},
                           errors={})

    @page("POST", "/login", permission=None)
    def login(self, request, view):
        values, errors = schemas.load_form(schemas.SignInForm, request.form.to_dict())
        kept = {"email": request.form.get("email", ""),
                "next": safe_next(request.form.get("next"))}
        if errors:
            return view.render("login.html", 422, values=kept, errors=errors)
        try:
            secret, signed_in = self.desk.accounts.sign_in(
                values["email"], values["password"], request.remote_addr or "unknown")
        except SignInRefused as refused:
            return view.render("login.html", 429 if refused.reason == "throttled" else 401,
                               values=kept, errors={}, refused=refused.reason)
        view.set_cookie(SESSION_COOKIE, secret)
        return view.redirect(safe_next(values.get("next")))

    @page("POST", "/logout", permission=None)
    def logout(self, request, view):
        self.desk.accounts.sign_out(request.cookies.get(SESSION_COOKIE))
        view.set_cookie(SESSION_COOKIE, "")
        return view.redirect("/login?signed_out=1")

    @page("GET", "/password/forgot", permission=None)
    def forgot_form(self, request, view):
        return view.render("forgot.html", values={}, errors={}, sent=False)

    @page("POST", "/password/forgot", permission=None)
    def forgot(self, request, view):
        values, errors = schemas.load_form(schemas.ForgotForm, request.form.to_dict())
        if errors:
            return view.render("forgot.html", 422, values=request.form.to_dict(),
                               errors=errors, sent=False)
        self.desk.accounts.request_reset(values["email"])
        return view.render("forgot.html", values={}, errors={}, sent=True)

    @page("GET", "/password/<string:secret>", permission=None)
    def password_form(self, request, view, secret):
        try:
            account = self.desk.accounts.link_account(secret)
        except LinkInvalid:
            return view.render("password.html", 410, invalid=True, errors={}, email="")
        view.speak(account.language)
        return view.render("password.html", invalid=False, errors={}, email=account.email)

    @page("POST", "/password/<string:secret>", permission=None)
    def set_password(self, request, view, secret):
        values, errors = schemas.load_form(schemas.PasswordForm, request.form.to_dict())
        try:
            account = self.desk.accounts.link_account(secret)
            view.speak(account.language)
            if errors:
                return view.render("password.html", 422, invalid=False, errors=errors,
                                   email=account.email)
            self.desk.accounts.set_password(secret, values["password"], values["confirmation"])
        except LinkInvalid:
            return view.render("password.html", 410, invalid=True, errors={}, email="")
        except DomainError as exc:
            return view.render("password.html", 422, invalid=False,
                               errors={exc.field or "password": [str(exc)]}, email=account.email)
        return view.redirect("/login?password_set=1")

    @page("POST", "/account/language")
    def set_language(self, request, view):
        values, errors = schemas.load_form(schemas.LanguageForm, request.form.to_dict())
        if not errors:
            self.desk.accounts.set_language(view.account, values["language"])
        return view.redirect(safe_next(request.form.get("next")))

    # --- reviewing ----------------------------------------------------------------------

    @page("GET", "/")
    def dashboard(self, request, view):
        needs = desk.needs_someone(self._parked_sources(view), self.desk.notify(view))
        return view.render("dashboard.html", **desk.dashboard(self.desk.registry(view),
                                                              self.desk.reports(view)),
                           needs=needs, done=request.args.get("done"))

    @page("POST", "/events/<string:service>/<int:parked_id>/replay",
          permission=Permission.REPLAY)
    def replay_event(self, request, view, service, parked_id):
        """A parked event back in line, through its service's own staff route."""
        source = self._parked_sources(view).get(service)
        if source is None:
            raise NotFoundPage()
        try:
            if callable(source):
                parked_events.replayed(self, parked_id)
            else:
                source.post(f"/api/events/parked/{parked_id}/replay")
        except (UnknownParkedEvent, NotParked, StaffApiError) as exc:
            return self._already(view, exc)
        return view.redirect("/?done=replayed#needs-someone")

    @page("POST", "/mails/<int:mail_id>/retry", permission=Permission.REPLAY)
    def retry_mail(self, request, view, mail_id):
        try:
            self.desk.notify(view).post(f"/api/notifications/{mail_id}/retry")
        except StaffApiError as exc:
            return self._already(view, exc)
        return view.redirect("/?done=retried#needs-someone")

    def _already(self, view: View, exc: Exception) -> Response:
        """Someone replayed it meanwhile (409): the dashboard shows how things are now."""
        if isinstance(exc, UnknownParkedEvent) or getattr(exc, "status", None) == 404:
            raise NotFoundPage()
        if isinstance(exc, StaffApiError) and exc.status != 409:
            raise exc
        return view.redirect("/?done=already#needs-someone")

    def _parked_sources(self, view: View) -> dict[str, Any]:
        """Where each service's parked events are read: its staff API; the console's own
        inbox is its own database."""
        return {"intake": self.desk.intake(view), "registry": self.desk.registry(view),
                "notify": self.desk.notify(view), "reports": self.desk.reports(view),
                "console": lambda: parked_events.listed(self)}

    @page("GET", "/applications")
    def applications(self, request, view):
        filters = schemas.load_filters(schemas.ApplicationFilters, request.args.to_dict())
        api = self.desk.registry(view)
        return view.render("applications.html", filters=filters,
                           listing=desk.applications(api, filters),
                           waves=api.get("/api/waves")["items"])

    @page("GET", "/applications/<int:application_id>")
    def application(self, request, view, application_id):
        return self._application_page(view, application_id)

    @page("POST", "/applications/<int:application_id>/<string:action>")
    def decide(self, request, view, application_id, action):
        form = {"accept": schemas.AcceptForm, "decline": schemas.DeclineForm,
                "request-info": schemas.RequestInfoForm, "resume-review": schemas.AcceptForm}
        if action not in form:
            raise NotFoundPage()
        values, errors = schemas.load_form(form[action], request.form.to_dict())
        if errors:
            return self._application_page(view, application_id, 422, action=action,
                                          errors=errors, values=request.form.to_dict())
        body = {key: value for key, value in values.items() if value is not None}
        try:
            self.desk.registry(view).post(f"/api/applications/{application_id}/{action}",
                                          {} if action == "resume-review" else body)
        except StaffApiError as exc:
            if exc.status not in (409, 422):
                raise
            return self._application_page(view, application_id, exc.status, action=action,
                                          problem=desk.problem(exc),
                                          values=request.form.to_dict(), errors={})
        return view.redirect(f"/applications/{application_id}?done={action}")

    @page("GET", "/applications/<int:application_id>/attachments/<string:attachment_id>")
    def attachment(self, request, view, application_id, attachment_id):
        found = self.desk.registry(view).get(f"/api/applications/{application_id}")
        content, content_type, disposition = desk.attachment(
            self.desk.intake(view), found["reference"], attachment_id)
        # An applicant's file is shown as a download, never run as a page of the console.
        return view.finish(Response(content, mimetype=content_type, headers={
            "Content-Disposition": disposition or "attachment",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'"}))

    def _application_page(self, view: View, application_id: int, status: int = 200,
                          **context: Any) -> Response:
        context.setdefault("action", None)
        context.setdefault("errors", {})
        context.setdefault("values", {})
        context.setdefault("problem", None)
        return view.render("application.html", status,
                           **desk.application(self.desk.registry(view), self.desk.notify(view),
                                              self.desk.intake(view), application_id),
                           done=view.request.args.get("done"), **context)

    # --- members ------------------------------------------------------------------------

    @page("GET", "/members")
    def members(self, request, view):
        return self._members_page(request, view)

    def _members_page(self, request, view: View, status: int = 200, **context: Any) -> Response:
        context.setdefault("person_errors", {})
        context.setdefault("person_email", "")
        context.setdefault("person_unanswered", [])
        filters = schemas.load_filters(schemas.MemberFilters, request.args.to_dict())
        return view.render("members.html", status, filters=filters,
                           listing=desk.members(self.desk.registry(view), filters), **context)

    @page("GET", "/people/export", permission=Permission.ERASE)
    def export_person(self, request, view):
        """A person's access request: what every service holds about one address, as one JSON
        document (``shared.subject_access.gather``, as ``hrc members export EMAIL``)."""
        email = request.args.get("email", "").strip()
        try:
            subject_access.email_asked({"email": email})
        except HttpError:
            return self._members_page(request, view, 422, person_errors={"email": [
                schemas.N_("Enter the person's e-mail address, e.g. name@example.org.")]},
                person_email=email)
        apis = {name: (self.desk.registry(view) if name == "registry"
                       else StaffApi(self.desk.settings.service_urls[name], self.desk.token))
                for name in console_settings.SERVICES}
        document = subject_access.gather(email, apis, datetime.now(UTC),
                                         self.desk.accounts.listing())
        if not document["complete"]:
            log.warning("console: person export incomplete: %s", document["not_answered"])
            return self._members_page(request, view, 503, person_email=email,
                                      person_unanswered=sorted(document["not_answered"]))
        name = "".join(c if c.isalnum() else "-" for c in document["email"])
        return view.finish(Response(
            json.dumps(document, ensure_ascii=False, indent=2), mimetype="application/json",
            headers={"Content-Disposition": f'attachment; filename="person-{name}.json"'}))

    @page("GET", "/members/import", permission=Permission.IMPORT_MEMBERS)
    def import_form(self, request, view):
        return view.render("members_import.html", errors={}, problem=None, report=None,
                           dry_run=False)

    @page("POST", "/members/import", permission=Permission.IMPORT_MEMBERS)
    def import_members(self, request, view):
        """The CSV goes to the registry's import as it is; its row-by-row report comes back."""
        dry_run = request.form.get("dry_run") == "yes"
        upload = request.files.get("file")
        content = upload.read(MAX_IMPORT_BYTES + 1) if upload else b""
        problem = (schemas.N_("Choose the CSV file to import.") if not content
                   else schemas.N_("The file is larger than 5 MB: split it in two.")
                   if len(content) > MAX_IMPORT_BYTES else None)
        if problem:
            return view.render("members_import.html", 422, errors={"file": [problem]},
                               problem=None, report=None, dry_run=dry_run)
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            return view.render("members_import.html", 422, report=None, dry_run=dry_run,
                               problem=None, errors={"file": [schemas.N_(
                                   "The file is not UTF-8 text: save it as \"CSV UTF-8\".")]})
        try:
            report = self.desk.registry(view).post_csv(
                "/api/members/import", text, dry_run="true" if dry_run else None)
            status = 200
        except StaffApiError as exc:
            if exc.status != 422:
                raise
            if exc.error != "rows_refused" or not isinstance(exc.detail, dict):
                return view.render("members_import.html", 422, errors={}, report=None,
                                   dry_run=dry_run, problem={
                                       "message": schemas.N_("This is not a members file the "
                                                             "registry can read. Nothing was "
                                                             "imported."),
                                       "detail": str(exc.detail or "")})
            report, status = exc.detail, 422
        # Unticked after a report: the next step after a good check is the import itself.
        return view.render("members_import.html", status, errors={}, problem=None,
                           report=report, dry_run=False)

    @page("GET", "/members/<int:member_id>")
    def member(self, request, view, member_id):
        member = self.desk.registry(view).get(f"/api/members/{member_id}")
        return view.render("member.html", member=member, errors={}, problem=None, values={})

    @page("POST", "/members/<int:member_id>/contact")
    def replace_contact(self, request, view, member_id):
        """A new contact person: the registry records it (member.contact_changed) and notify
        writes to them that they are now the contact."""
        api = self.desk.registry(view)
        values, errors = schemas.load_form(schemas.ContactForm, request.form.to_dict())
        if errors:
            return view.render("member.html", 422, member=api.get(f"/api/members/{member_id}"),
                               errors=errors, problem=None, values=request.form.to_dict())
        try:
            api.put(f"/api/members/{member_id}/contact", values)
        except StaffApiError as exc:
            if exc.status not in (409, 422):
                raise
            return view.render("member.html", exc.status,
                               member=api.get(f"/api/members/{member_id}"), errors={},
                               problem=desk.problem(exc), values=request.form.to_dict())
        return view.redirect(f"/members/{member_id}?done=contact_replaced")

    @page("GET", "/members/<int:member_id>/export")
    def export_member(self, request, view, member_id):
        exported = self.desk.registry(view).get(f"/api/members/{member_id}/export")
        return view.finish(Response(
            json.dumps(exported, ensure_ascii=False, indent=2), mimetype="application/json",
            headers={"Content-Disposition": f'attachment; filename="member-{member_id}.json"'}))

    @page("POST", "/members/<int:member_id>/erase", permission=Permission.ERASE)
    def erase_member(self, request, view, member_id):
        api = self.desk.registry(view)
        member = api.get(f"/api/members/{member_id}")
        typed = request.form.get("confirmation", "")
        if " ".join(typed.split()).casefold() != " ".join(
                member["government_name"].split()).casefold():
            errors = {"confirmation": [schemas.N_(
                "Type the government's name exactly as shown to confirm.")]}
            return view.render("member.html", 422, member=member, errors=errors, problem=None,
                               values={})
        try:
            api.delete(f"/api/members/{member_id}")
        except StaffApiError as exc:
            if exc.status not in (409, 422):
                raise
            return view.render("member.html", exc.status, member=member, errors={},
                               problem=desk.problem(exc), values={})
        return view.redirect(f"/members/{member_id}?done=erased")

    @page("POST", "/members/<int:member_id>/resubscribe", permission=Permission.RESUBSCRIBE)
    def resubscribe_member(self, request, view, member_id):
        """The contact gets the wave announcements again (notify's DELETE /api/unsubscribes),
        when they ask after using an announcement's unsubscribe link."""
        member = self.desk.registry(view).get(f"/api/members/{member_id}")
        if not member.get("contact_email"):
            return view.render("member.html", 409, member=member, errors={}, values={}, problem={
                "message": schemas.N_("This member has no contact address to put back on the "
                                      "announcements.")})
        answer = self.desk.notify(view).delete(
            "/api/unsubscribes?" + urlencode({"email": member["contact_email"]}))
        done = "resubscribed" if answer["was_unsubscribed"] else "not_unsubscribed"
        return view.redirect(f"/members/{member_id}?done={done}")

    # --- waves --------------------------------------------------------------------------

    @page("GET", "/waves", permission=Permission.MANAGE_WAVES)
    def waves(self, request, view):
        return self._waves_page(view)

    @page("POST", "/waves", permission=Permission.MANAGE_WAVES)
    def create_wave(self, request, view):
        values, errors = schemas.load_form(schemas.WaveForm, request.form.to_dict())
        if errors:
            return self._waves_page(view, 422, errors=errors, values=request.form.to_dict())
        body = {
            "number": values["number"],
            "name": {lang: values[f"name_{lang}"] for lang in ("en", "fr", "es")},
            "theme": {lang: values[f"theme_{lang}"] for lang in ("en", "fr", "es")},
            "opens_at": values["opens_at"].isoformat(),
            "closes_at": values["closes_at"].isoformat() if values.get("closes_at") else None,
            "description": {lang: values.get(f"description_{lang}") or None
                            for lang in ("en", "fr", "es")},
        }
        try:
            self.desk.registry(view).post("/api/waves", body)
        except StaffApiError as exc:
            if exc.status not in (409, 422):
                raise
            return self._waves_page(view, exc.status, problem=desk.problem(exc),
                                    values=request.form.to_dict())
        return view.redirect("/waves?done=created")

    @page("POST", "/waves/<int:number>/<string:action>", permission=Permission.MANAGE_WAVES)
    def wave_action(self, request, view, number, action):
        if action not in ("open", "close"):
            raise NotFoundPage()
        try:
            self.desk.registry(view).post(f"/api/waves/{number}/{action}")
        except StaffApiError as exc:
            if exc.status not in (409, 422):
                raise
            return self._waves_page(view, exc.status, problem=desk.problem(exc))
        return view.redirect(f"/waves?done={action}")

    def _waves_page(self, view: View, status: int = 200, **context: Any) -> Response:
        context.setdefault("errors", {})
        context.setdefault("values", {})
        context.setdefault("problem", None)
        waves = self.desk.registry(view).get("/api/waves")["items"]
        return view.render("waves.html", status, waves=waves,
                           done=view.request.args.get("done"), **context)

    # --- digests ------------------------------------------------------------------------

    @page("GET", "/digests", permission=Permission.DIGESTS)
    def digests(self, request, view):
        return self._digests_page(view)

    @page("POST", "/digests", permission=Permission.DIGESTS)
    def send_digest(self, request, view):
        values, errors = schemas.load_form(schemas.DigestForm, request.form.to_dict())
        if not errors and values["end"] < values["start"]:
            errors = {"end": [schemas.N_("The end comes after the start.")]}
        if errors:
            return self._digests_page(view, 422, errors=errors, values=request.form.to_dict())
        start, end = digest_period(values["start"], values["end"], datetime.now(UTC))
        body = {"start": start.isoformat(), "end": end.isoformat(), "language": values["language"]}
        try:
            self.desk.reports(view).post("/reports/digests", body)
        except StaffApiError as exc:
            if exc.status not in (409, 422):
                raise
            return self._digests_page(view, exc.status, problem=desk.problem(exc),
                                      values=request.form.to_dict())
        return view.redirect("/digests?done=sent")

    @page("GET", "/digests/progress.csv", permission=Permission.DIGESTS)
    def progress_csv(self, request, view):
        text = self.desk.reports(view).get_text("/reports/progress.csv")
        return view.finish(Response(text, mimetype="text/csv", headers={
            "Content-Disposition": 'attachment; filename="progress.csv"'}))

    def _digests_page(self, view: View, status: int = 200, **context: Any) -> Response:
        context.setdefault("errors", {})
        context.setdefault("problem", None)
        today = datetime.now(UTC).date()
        context.setdefault("values", {"start": (today - timedelta(days=7)).isoformat(),
                                      "end": today.isoformat(), "language": view.language})
        log_items = self.desk.reports(view).get("/reports/digests")["items"]
        return view.render("digests.html", status, deliveries=log_items,
                           schedule=self.desk.settings.digest_schedule,
                           done=view.request.args.get("done"), **context)

    # --- staff accounts -----------------------------------------------------------------

    @page("GET", "/staff", permission=Permission.MANAGE_STAFF)
    def staff_accounts(self, request, view):
        return self._staff_page(view)

    @page("POST", "/staff", permission=Permission.MANAGE_STAFF)
    def add_staff(self, request, view):
        values, errors = schemas.load_form(schemas.StaffForm, request.form.to_dict())
        if errors:
            return self._staff_page(view, 422, errors=errors, values=request.form.to_dict())
        try:
            account, link = self.desk.accounts.add(values["email"], Role(values["role"]),
                                                   values["language"])
        except AccountExists:
            return self._staff_page(view, 409, values=request.form.to_dict(), errors={
                "email": [schemas.N_("This address has an account already.")]})
        return self._staff_page(view, 201, added=account.email, link=link)

    @page("POST", "/staff/<string:action>", permission=Permission.MANAGE_STAFF)
    def staff_action(self, request, view, action):
        email = request.form.get("email", "")
        if action not in ("disable", "enable"):
            raise NotFoundPage()
        if email.lower() == view.account.email:
            return self._staff_page(view, 409, problem=schemas.N_(
                "You cannot disable your own account."))
        try:
            getattr(self.desk.accounts, action)(email)
        except DomainError:
            raise NotFoundPage() from None
        return view.redirect(f"/staff?done={action}")

    def _staff_page(self, view: View, status: int = 200, **context: Any) -> Response:
        context.setdefault("errors", {})
        context.setdefault("values", {})
        context.setdefault("problem", None)
        context.setdefault("added", None)
        context.setdefault("link", None)
        return view.render("staff.html", status, accounts=self.desk.accounts.listing(),
                           done=view.request.args.get("done"), **context)

    # --- the staff API of ``hrc staff`` ---------------------------------------------------

    @staff_api("GET", parked_events.LIST_PATH, staff=True)
    def list_parked_events(self, request):
        return parked_events.listed(self)

    @staff_api("POST", parked_events.REPLAY_PATH, staff=True)
    def replay_parked_event(self, request, parked_id):
        return parked_events.replayed(self, parked_id)

    @staff_api("GET", "/api/staff", staff=True)
    def list_staff(self, request):
        return {"items": self.desk.accounts.listing()}

    @staff_api("POST", "/api/staff", staff=True)
    def add_staff_api(self, request):
        body = desk.json_body(request, schemas.StaffBody)
        account, link = self.desk.accounts.add(body["email"], Role(body["role"]),
                                               body["language"])
        return {"email": account.email, "role": account.role.value, "link": link}

    @staff_api("POST", "/api/staff/disable", staff=True)
    def disable_staff_api(self, request):
        body = desk.json_body(request, schemas.EmailBody)
        account = self.desk.accounts.disable(body["email"])
        return {"email": account.email, "disabled": account.disabled}
