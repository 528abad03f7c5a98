"""What each page needs from the staff APIs, gathered in one place per page.

Only the registry's and reports' staff HTTP APIs are read, as ``hrc`` reads them; a part of a
page that an API cannot give (the reports down, say) is left out rather than failing the page.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from typing import Any

import requests
from marshmallow import Schema, ValidationError

from services.console.i18n import N_
from shared.http import HttpError, parse_json_body
from shared.staff_api import StaffApi, StaffApiError

PER_PAGE = 25
APPLICATION_STATUSES = ("waitlisted", "under_review", "info_requested", "accepted", "declined",
                        "withdrawn")
MILESTONES = (10, 100, 1000)

log = logging.getLogger(__name__)


def dashboard(registry: StaffApi, reports: StaffApi) -> dict[str, Any]:
    counts = {status: registry.get("/api/applications", status=status, per_page=1)["total"]
              for status in APPLICATION_STATUSES}
    waves = registry.get("/api/waves")["items"]
    members = registry.get("/api/members", status="active", per_page=1)["total"]
    return {
        "counts": counts,
        "open_wave": next((w for w in waves if w["status"] == "open"), None),
        "members": members,
        "milestones": [{"target": t, "reached": min(members, t),
                        "percent": min(100, round(100 * members / t, 1))} for t in MILESTONES],
        "progress": _optional(lambda: reports.get("/reports/progress.json")["progress"]),
    }


def needs_someone(services: Mapping[str, StaffApi | Callable[[], dict[str, Any]]],
                  notify: StaffApi) -> dict[str, Any]:
    """What waits for a person: each service's parked events (its ``/api/events/parked``; the
    console's own from its inbox) and the mails notify could not deliver. A service that
    does not answer is said so, never shown as having nothing."""
    parked, unanswered = [], []
    for service, source in services.items():
        try:
            listing = source() if callable(source) else source.get("/api/events/parked")
        except (StaffApiError, requests.RequestException) as exc:
            log.warning("console: %s did not list its parked events: %s", service, exc)
            unanswered.append(service)
            continue
        parked += [{"service": service, **item} for item in listing["items"]]
    mails = _optional(lambda: notify.get("/api/notifications/failed"))
    return {"parked": parked, "unanswered": unanswered,
            "failed_mails": mails["items"] if mails is not None else None,
            "count": len(parked) + len(mails["items"] if mails else [])}


def applications(registry: StaffApi, filters: dict[str, Any]) -> dict[str, Any]:
    return _listing(registry, "/api/applications", filters)


def members(registry: StaffApi, filters: dict[str, Any]) -> dict[str, Any]:
    return _listing(registry, "/api/members", filters)


def _listing(registry: StaffApi, path: str, filters: dict[str, Any]) -> dict[str, Any]:
    query = {k: v for k, v in filters.items() if k != "page"}
    if "country" in query:
        query["country"] = query["country"].upper()
    body = registry.get(path, page=filters["page"], per_page=PER_PAGE, **query)
    return {**body, "pages": max(1, math.ceil(body["total"] / body["per_page"]))}


def application(registry: StaffApi, notify: StaffApi, intake: StaffApi,
                application_id: int) -> dict[str, Any]:
    found = registry.get(f"/api/applications/{application_id}")
    audit = registry.get(f"/api/applications/{application_id}/audit")["items"]
    mails = _optional(lambda: notify.get("/api/notifications",
                                         reference=found["reference"])["items"])
    answers = _optional(lambda: applicant_answers(intake, found["reference"]))
    duplicates = []
    for candidate in found.get("possible_duplicates") or []:
        matches = registry.get("/api/applications", q=candidate.get("reference"),
                               per_page=1)["items"]
        duplicates.append({"candidate": candidate, "application": matches[0] if matches else None})
    waves = registry.get("/api/waves")["items"]
    return {"application": found, "duplicates": duplicates, "waves": waves,
            "timeline": timeline(found, audit, mails or [], answers or []),
            "mails_known": mails is not None, "answers_known": answers is not None,
            "open_wave": next((w for w in waves if w["status"] == "open"), None)}


def applicant_answers(intake: StaffApi, reference: str) -> list[dict]:
    """The applicant's answers to information requests, as intake keeps them."""
    return intake.get(f"/api/applications/{reference}/answers")["items"]


def attachment(intake: StaffApi, reference: str, attachment_id: str) -> tuple[bytes, str, str]:
    """One attachment of this application's answers; another application's is not found, so a
    console link cannot be edited into a file of some other case."""
    ours = {item["id"] for answer in applicant_answers(intake, reference)
            for item in answer["attachments"]}
    if attachment_id not in ours:
        raise StaffApiError(404, "not_found", "no such attachment in this application")
    return intake.get_file(f"/api/attachments/{attachment_id}")


def timeline(application: dict[str, Any], audit: list[dict], mails: list[dict],
             answers: list[dict] = ()) -> list[dict]:
    """What happened to an application, oldest first: received, staff actions, the applicant's
    answers, mails."""
    steps = [{"at": application.get("submitted_at") or "", "kind": "received"}]
    steps += [{"at": entry["at"], "kind": "audit", **entry} for entry in audit]
    steps += [{"at": answer["answered_at"], "kind": "answer", **answer} for answer in answers]
    steps += [{"at": mail["sent_at"] or mail["created_at"], "kind": "mail", **mail}
              for mail in mails]
    return sorted(steps, key=lambda step: _instant(step["at"]))


def _instant(moment: str) -> str:
    # The registry writes offsets (+00:00), notify naive UTC: compare their first 19 characters.
    return (moment or "")[:19]


# The API's refusals as a sentence for the page; its own detail is shown beside, as it is.
_PROBLEMS = {
    "illegal_transition": N_("This cannot be done in the application's present state. "
                             "Someone may have acted on it meanwhile: the page shows it as it "
                             "is now."),
    "conflict": N_("This conflicts with the present state (someone may have acted "
                   "meanwhile). Nothing was changed."),
    "invalid_request": N_("The registry refused these values. Nothing was changed."),
}


def problem(exc: StaffApiError) -> dict[str, Any]:
    return {"message": _PROBLEMS.get(exc.error, _PROBLEMS["conflict"]),
            "detail": exc.detail if isinstance(exc.detail, str) else None}


def json_body(request, schema: type[Schema]) -> dict[str, Any]:
    raw = parse_json_body(request)
    try:
        return schema().load(raw if isinstance(raw, dict) else {})
    except ValidationError as exc:
        raise HttpError(422, "invalid_request", exc.messages) from exc


def _optional(read):
    try:
        return read()
    except (StaffApiError, requests.RequestException) as exc:
        log.warning("console: a part of the dashboard is missing: %s", exc)
        return None

