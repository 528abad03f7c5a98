"""Reports' entrypoints: events feed the read model (through the inbox), a managed thread
delivers scheduled digests, and HTTP serves progress to staff and to the public."""
from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Response

from services.reports import db as reports_db
from services.reports import reporting
from services.reports import settings as reports_settings
from services.reports.domain import LANGUAGES, Period, UnknownLanguage
from services.reports.handlers import INBOX_OPTIONS, inbox_handlers
from services.reports.offload import in_thread
from services.reports.public import PublicDirectory
from services.reports.scheduler import DigestScheduler
from services.reports.views import (
    badge_svg,
    members_chart,
    progress_csv,
    progress_json,
    public_progress_json,
    render_progress_html,
)
from shared import subject_access
from shared.config import service_settings
from shared.db import database_for
from shared.http import HttpError, json_response, parse_json_body, route
from shared.parked_events import ParkedEventRoutes
from shared.reliability import Inbox, subscribed
from shared.service import Service
from shared.staff_access import StaffAccess

MIGRATIONS = Path(__file__).parent / "migrations"
PUBLIC_CACHE = f"public, max-age={reporting.PUBLIC_MAX_AGE_SECONDS}"
MAX_ON_DEMAND = timedelta(days=3660)

log = logging.getLogger(__name__)


class DirectoryPages(DependencyProvider):
    """The public directory; PUBLIC_FRAME_ANCESTORS says which sites may frame it (CSP
    ``frame-ancestors`` sources, default ``*``: any)."""

    def setup(self) -> None:
        ancestors = service_settings(self.container.config, reports_settings.load).frame_ancestors
        self.directory = PublicDirectory(database_for(self.container.config["DB_URL"]),
                                         in_thread, ancestors)

    def get_dependency(self, worker_ctx) -> PublicDirectory:
        return self.directory


@subscribed
class ReportsService(Service, ParkedEventRoutes):
    name = "reports"
    inbox = Inbox(inbox_handlers, **INBOX_OPTIONS)
    digests = DigestScheduler()
    staff = StaffAccess(reports_db.announced_tokens.digests)
    directory = DirectoryPages()

    # --- public ---------------------------------------------------------------------------

    @route("GET", "/public/progress.json")
    def public_progress(self, request):
        picture = reporting.public_overview(self.db, in_thread)
        return json_response(public_progress_json(picture), 200, _public_headers())

    @route("GET", "/public/badge.svg")
    def badge(self, request):
        language = _language(request)
        with self.db.transaction() as session:
            members = reports_db.active_members(session, reporting.now_utc())
        return Response(badge_svg(members, language), status=200, mimetype="image/svg+xml",
                        headers=_public_headers())

    @route("GET", "/public/members")
    def directory_page(self, request):
        return self.directory.respond(request, "html")

    @route("GET", "/public/members.json")
    def directory_json(self, request):
        return self.directory.respond(request, "json")

    @route("GET", "/public/members.csv")
    def directory_csv(self, request):
        return self.directory.respond(request, "csv")

    @route("GET", "/public/map.svg")
    def directory_map(self, request):
        return self.directory.respond(request, "svg")

    # --- staff ----------------------------------------------------------------------------

    @route("GET", "/reports/progress", staff=True)
    def progress(self, request):
        return self._progress_json()

    @route("GET", "/reports/progress.json", staff=True)
    def progress_as_json(self, request):
        return self._progress_json()

    @route("GET", "/reports/progress.csv", staff=True)
    def progress_as_csv(self, request):
        picture = reporting.campaign_overview(self.db, in_thread)
        return Response(progress_csv(picture), status=200, mimetype="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="progress.csv"'})

    @route("GET", "/reports/progress.html", staff=True)
    def progress_as_html(self, request):
        language = _language(request)
        picture = reporting.campaign_overview(self.db, in_thread)
        chart = in_thread(members_chart, picture.series, picture.progress, language)
        return Response(render_progress_html(picture, chart, language), status=200,
                        mimetype="text/html")

    @route("POST", "/reports/digests", staff=True)
    def send_digest(self, request):
        """Send the digest of ``{"start", "end"}`` now (ISO 8601, UTC unless an offset is given)."""
        body = parse_json_body(request)
        if not isinstance(body, dict) or not {"start", "end"} <= body.keys():
            raise HttpError(422, "invalid_request", {"start": ["required"], "end": ["required"]})
        period = Period.parse(str(body["start"]), str(body["end"]))
        if period.end - period.start > MAX_ON_DEMAND:
            raise HttpError(422, "invalid_request", "a digest covers ten years at the most")
        event_id = self.digests.send_now(period, body.get("language"))
        return json_response({"event_id": event_id, "period": period.as_dict(),
                              "status": "queued"}, 202)

    @route("GET", "/reports/digests", staff=True)
    def digest_log(self, request):
        with self.db.transaction() as session:
            # The row that starts a new installation's schedule mailed nothing: the console
            # listed it as "delivered", with no digest in anyone's inbox.
            return json_response({"items": reports_db.deliveries(
                session, not_sent=reporting.SCHEDULE_START)})

    @route("GET", "/api/people", staff=True)
    def person(self, request):
        """``?email=``: what reports holds about the person at that address (their export)."""
        email = subject_access.email_asked(request.args)
        with self.db.transaction() as session:
            return json_response({"service": "reports", "email": email,
                                  **reports_db.held_about(session, email)})

    @route("POST", "/reports/rebuild", staff=True)
    def rebuild(self, request):
        return json_response({"replayed_events": reporting.rebuild(self.db)})

    def _progress_json(self) -> Response:
        return json_response(progress_json(reporting.campaign_overview(self.db, in_thread)))


def _language(request) -> str:
    language = request.args.get("lang", "en")
    if language not in LANGUAGES:
        raise UnknownLanguage(f"lang is one of {', '.join(LANGUAGES)}")
    return language


def _public_headers() -> dict[str, str]:
    # The campaign website embeds these from another origin.
    return {"Cache-Control": PUBLIC_CACHE, "Access-Control-Allow-Origin": "*"}
