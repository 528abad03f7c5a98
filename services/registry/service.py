"""The registry's entrypoints: applications arrive as events; staff act over HTTP.

Entrypoints only authenticate, parse, run one action of ``actions`` in one transaction and map
its errors; the rules live in ``domain``. Events leave through the outbox, woken after commit.
"""
from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from marshmallow import Schema
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from services.registry import actions, member_csv, schemas
from services.registry.db import NotFound, Page, RegistryStore, registry
from services.registry.domain import (
    DomainError,
    IllegalTransition,
    InvalidRequest,
    WaveConflict,
)
from services.registry.handlers import INBOX_OPTIONS, handlers
from shared import staff_access as shared_staff
from shared import subject_access
from shared.http import HttpError, Routes, parse_json_body
from shared.parked_events import ParkedEventRoutes
from shared.reliability import Inbox, subscribed
from shared.service import Service
from shared.staff_tokens import StaffToken, generate_token

MIGRATIONS = Path(__file__).parent / "migrations"
MAX_CSV_BYTES = 5 * 1024 * 1024

log = logging.getLogger(__name__)

# Domain and storage errors as staff see them; the first matching class wins.
ERRORS: tuple[tuple[type[Exception], int, str], ...] = (
    (IllegalTransition, 409, "illegal_transition"),
    (WaveConflict, 409, "conflict"),
    (NotFound, 404, "not_found"),
    (InvalidRequest, 422, "invalid_request"),
    (DomainError, 409, "conflict"),
    # A concurrent change won the race: the row moved on, or a unique index refused a twin.
    (StaleDataError, 409, "conflict"),
    (IntegrityError, 409, "conflict"),
)


def _detail(exc: Exception) -> str:
    if isinstance(exc, (StaleDataError, IntegrityError)):
        return "someone else changed this at the same moment; reload and try again"
    return str(exc)


class StaffAccess(shared_staff.StaffAccess):
    """STAFF_API_TOKENS if set, else the token generated on first start and stored."""

    def __init__(self):
        super().__init__(lambda session: RegistryStore.of(session).staff_tokens())

    def start(self) -> None:
        if not self.configured:
            self._generate_once()

    def _generate_once(self) -> None:
        secret = generate_token()
        try:
            with registry(self.database) as store:
                if store.staff_tokens():
                    return
                token = StaffToken.from_secret(shared_staff.GENERATED_LABEL, secret)
                store.add_staff_token(token)
                # The other staff APIs (reports) learn its digest, never the token itself.
                store.emit([("staff.token_issued",
                             {"label": token.label, "digest": token.digest})])
        except IntegrityError:
            return  # another replica generated it at the same moment: theirs is printed
        # Printed once: only its digest is stored, so it can never be shown again.
        print(
            "\n*** registry: no STAFF_API_TOKENS configured; generated a staff token."
            f"\n*** It is shown only this once:  {secret}"
            f"\n*** Use it with: export HRC_STAFF_TOKEN={secret}\n",
            file=sys.stdout,
            flush=True,
        )
        log.warning("registry: generated a staff token (printed on stdout, not stored in clear)")


# Every staff route: authenticated first, errors answered from ERRORS.
route = Routes(ERRORS, detail=_detail)


@subscribed
class RegistryService(Service, ParkedEventRoutes):
    name = "registry"
    inbox = Inbox(handlers, **INBOX_OPTIONS)
    staff = StaffAccess()

    # --- applications ---

    @route("GET", "/api/applications", staff=True)
    def list_applications(self, request, who):
        query = _query(schemas.ApplicationQuery, request)
        with registry(self.db) as store:
            return _page(store.applications(**query), schemas.ApplicationView)

    @route("GET", "/api/applications/<int:application_id>", staff=True)
    def show_application(self, request, who, application_id):
        with registry(self.db) as store:
            return schemas.ApplicationView().dump(store.application(application_id))

    @route("GET", "/api/applications/<int:application_id>/audit", staff=True)
    def application_audit(self, request, who, application_id):
        with registry(self.db) as store:
            store.application(application_id)
            trail = store.audit_trail("application", str(application_id))
        return {"items": schemas.AuditView(many=True).dump(trail), "total": len(trail)}

    @route("GET", "/api/applications/<int:application_id>/export", staff=True)
    def export_application(self, request, who, application_id):
        with registry(self.db) as store:
            return schemas.ApplicationExportView().dump(
                actions.export_application(store, application_id))

    @route("POST", "/api/applications/<int:application_id>/accept", staff=True)
    def accept(self, request, who, application_id):
        body = _body(schemas.AcceptBody, request)
        with registry(self.db) as store:
            application, member = actions.accept(store, who, application_id, body["wave"], _now())
        return {
            "application": schemas.ApplicationView().dump(application),
            "member": schemas.MemberView().dump(member),
        }

    @route("POST", "/api/applications/<int:application_id>/decline", staff=True)
    def decline(self, request, who, application_id):
        reason = _body(schemas.DeclineBody, request)["reason"]
        with registry(self.db) as store:
            application = actions.decline(store, who, application_id, reason, _now())
        return schemas.ApplicationView().dump(application)

    @route("POST", "/api/applications/<int:application_id>/request-info", staff=True)
    def request_info(self, request, who, application_id):
        message = _body(schemas.RequestInfoBody, request)["message"]
        with registry(self.db) as store:
            application = actions.request_info(store, who, application_id, message, _now())
        return schemas.ApplicationView().dump(application)

    @route("POST", "/api/applications/<int:application_id>/resume-review", staff=True)
    def resume_review(self, request, who, application_id):
        _body(schemas.ReasonBody, request)
        with registry(self.db) as store:
            application = actions.resume_review(store, who, application_id, _now())
        return schemas.ApplicationView().dump(application)

    @route("POST", "/api/applications/<int:application_id>/withdraw", staff=True)
    def withdraw_application(self, request, who, application_id):
        reason = _body(schemas.ReasonBody, request)["reason"]
        with registry(self.db) as store:
            application = actions.withdraw_application(store, who, application_id, reason,
                                                       _now())
        return schemas.ApplicationView().dump(application)

    @route("DELETE", "/api/applications/<int:application_id>", staff=True)
    def erase_application(self, request, who, application_id):
        with registry(self.db) as store:
            application = actions.erase_application(store, who, application_id, _now())
        return schemas.ApplicationView().dump(application)

    # --- members ---

    @route("GET", "/api/members", staff=True)
    def list_members(self, request, who):
        query = _query(schemas.MemberQuery, request)
        with registry(self.db) as store:
            return _page(store.members(**query), schemas.MemberView)

    @route("POST", "/api/members/import", staff=True)
    def import_members(self, request, who):
        """A CSV of existing members (docs/members-import.md); ``?dry_run=true`` stores nothing.

        200 with what was imported; 422 with every refused row when one is (nothing stored).
        """
        dry_run = schemas.ImportQuery().load(request.args.to_dict())["dry_run"]
        text = _csv_body(request)
        with registry(self.db) as store:
            try:
                rows, refused = member_csv.read_members(text, store.waves(), _now().date())
            except member_csv.UnreadableFile as exc:
                raise HttpError(422, "unreadable_file", str(exc)) from None
            outcome = actions.import_members(store, who, rows, refused, _now(), dry_run=dry_run)
        report = schemas.ImportReportView().dump(outcome)
        if outcome.refused:
            raise HttpError(422, "rows_refused", report)
        return report

    @route("GET", "/api/members/<int:member_id>", staff=True)
    def show_member(self, request, who, member_id):
        with registry(self.db) as store:
            return schemas.MemberView().dump(store.member(member_id))

    @route("GET", "/api/members/<int:member_id>/export", staff=True)
    def export_member(self, request, who, member_id):
        with registry(self.db) as store:
            return schemas.ExportView().dump(actions.export_member(store, member_id))

    @route("POST", "/api/members/<int:member_id>/withdraw", staff=True)
    def withdraw_member(self, request, who, member_id):
        reason = _body(schemas.ReasonBody, request)["reason"]
        with registry(self.db) as store:
            member = actions.withdraw_member(store, who, member_id, reason, _now())
        return schemas.MemberView().dump(member)

    @route("PATCH", "/api/members/<int:member_id>", staff=True)
    def update_member(self, request, who, member_id):
        listing_consent = _body(schemas.MemberUpdateBody, request)["listing_consent"]
        with registry(self.db) as store:
            member = actions.change_listing(store, who, member_id, listing_consent, _now())
        return schemas.MemberView().dump(member)

    @route("PUT", "/api/members/<int:member_id>/contact", staff=True)
    def replace_contact(self, request, who, member_id):
        fields = _body(schemas.ContactBody, request)
        with registry(self.db) as store:
            member = actions.replace_contact(store, who, member_id, fields, _now())
        return schemas.MemberView().dump(member)

    @route("DELETE", "/api/members/<int:member_id>", staff=True)
    def erase_member(self, request, who, member_id):
        with registry(self.db) as store:
            member = actions.erase_member(store, who, member_id, _now())
        return schemas.MemberView().dump(member)

    @route("GET", "/api/people", staff=True)
    def person(self, request, who):
        """``?email=``: what the registry holds about the person at that address (their
        export; an unknown address holds nothing: empty lists)."""
        email = subject_access.email_asked(request.args)
        with registry(self.db) as store:
            held = store.held_about(email)
        return {
            "service": "registry", "email": email,
            "applications": schemas.ApplicationView(many=True).dump(held["applications"]),
            "members": schemas.MemberView(many=True).dump(held["members"]),
            "audit": schemas.AuditView(many=True).dump(held["audit"]),
            "events": held["events"],
        }

    # --- waves ---

    @route("GET", "/api/waves", staff=True)
    def list_waves(self, request, who):
        with registry(self.db) as store:
            waves = store.waves()
        return {"items": schemas.WaveView(many=True).dump(waves), "total": len(waves)}

    @route("POST", "/api/waves", staff=True, status=201)
    def create_wave(self, request, who):
        fields = _body(schemas.WaveBody, request)
        with registry(self.db) as store:
            return schemas.WaveView().dump(actions.create_wave(store, who, fields, _now()))

    @route("POST", "/api/waves/<int:number>/open", staff=True)
    def open_wave(self, request, who, number):
        with registry(self.db) as store:
            wave, moved = actions.open_wave(store, who, number, _now())
        return {**schemas.WaveView().dump(wave), "moved_to_review": moved}

    @route("POST", "/api/waves/<int:number>/close", staff=True)
    def close_wave(self, request, who, number):
        with registry(self.db) as store:
            return schemas.WaveView().dump(actions.close_wave(store, who, number, _now()))

    @route("POST", "/api/waves/announce", staff=True)
    def announce_waves(self, request, who):
        """Publish the waves' present state again (``actions.announce_waves``): for a service
        that missed it. Safe to repeat: every consumer takes a repeat as a no-op."""
        with registry(self.db) as store:
            announced = actions.announce_waves(store, who, _now())
        items = [{**schemas.WaveView().dump(wave), "event": event} for wave, event in announced]
        return {"items": items, "total": len(items)}


def _now() -> datetime:
    return datetime.now(UTC)


def _query(schema: type[Schema], request) -> dict[str, Any]:
    return schema().load(request.args.to_dict())


def _body(schema: type[Schema], request) -> dict[str, Any]:
    # An action with nothing to say may come with no body at all (curl -X POST).
    raw = parse_json_body(request) if request.get_data(cache=True) else {}
    if not isinstance(raw, dict):
        raise HttpError(422, "invalid_request", "the body is a JSON object")
    return schema().load(raw)


def _csv_body(request) -> str:
    if request.content_length is not None and request.content_length > MAX_CSV_BYTES:
        raise HttpError(413, "payload_too_large", f"a CSV is limited to {MAX_CSV_BYTES} bytes")
    if request.mimetype not in ("text/csv", "text/plain"):
        raise HttpError(415, "unsupported_media_type", "send text/csv (UTF-8)")
    raw = request.get_data(cache=True)
    if len(raw) > MAX_CSV_BYTES:
        raise HttpError(413, "payload_too_large", f"a CSV is limited to {MAX_CSV_BYTES} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HttpError(422, "unreadable_file",
                        f"the file is not UTF-8 (byte {exc.start}): save it as CSV UTF-8") from None


def _page(page: Page, view: type[Schema]) -> dict[str, Any]:
    return {
        "items": view(many=True).dump(page.items),
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
    }
