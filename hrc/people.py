"""``hrc members export EMAIL``: everything every service holds about one person, in one document.

The registry, intake, notify and reports each answer ``GET /api/people?email=`` with their own
rows and events (``shared.subject_access``); the console's accounts at that address come from
its staff API. Each service is reached at ``--<service>-url`` (default $HRC_<SERVICE>_URL, else
http://localhost:$<SERVICE>_PORT), with the same staff token.
"""
from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from typing import Any

import requests

from hrc import display
from shared.staff_api import StaffApi, StaffApiError
from shared.subject_access import gather

# Besides the registry (the command's --url): the services asked, and their default ports.
OTHERS = {"intake": "8000", "notify": "8002", "reports": "8003", "console": "8004"}


def add_addresses(command: argparse.ArgumentParser) -> None:
    for service, port in OTHERS.items():
        command.add_argument(f"--{service}-url", default=_default_url(service, port),
                             help=f"the {service} service (default: %(default)s)")


def default_url(service: str) -> str:
    """Where a service other than the registry is: $HRC_<SERVICE>_URL, else localhost."""
    return _default_url(service, OTHERS[service])


def export_person(api: StaffApi, args: argparse.Namespace) -> dict[str, Any]:
    apis = {"registry": api, **{s: StaffApi(getattr(args, f"{s}_url"), api.token)
                                for s in OTHERS if s != "console"}}
    console = StaffApi(args.console_url, api.token)
    try:
        accounts = console.get("/api/staff")["items"]
        unreached = None
    except (StaffApiError, requests.RequestException) as exc:
        accounts, unreached = None, str(exc)
    document = gather(args.who, apis, datetime.now(UTC), accounts)
    if unreached is not None:
        document["not_answered"]["console"] = unreached
        document["complete"] = False
    return document


def summary(document: dict[str, Any]) -> list[str]:
    """What the export holds, service by service; the document itself is --json or --output."""
    services = document["services"]
    lines = [f"{document['email']}: what the services hold (exported "
             f"{display.cell(document['exported_at'])})"]
    counted = (("registry", ("applications", "members", "audit", "events")),
               ("intake", ("applications", "events")),
               ("notify", ("mails", "mails_to_staff_about_them", "applicants", "members",
                           "events")),
               ("reports", ("applications", "members", "events")),
               ("console", ("staff_accounts",)))
    for service, keys in counted:
        if service in services:
            held = services[service]
            counts = ", ".join(f"{display.label(k)} {len(held.get(k) or [])}" for k in keys)
            lines.append(f"  {service}: {counts}")
    for mail in services.get("notify", {}).get("mails", []):
        when = display.cell(mail["sent_at"] or mail["created_at"])
        lines.append(f"    mail {when}  {mail['status']}  {mail['subject'] or mail['template']}")
    if not any(_holds(held) for held in services.values()):
        lines.append("  nothing is held about this address")
    for service, error in document["not_answered"].items():
        lines.append(f"  {service}: NOT ANSWERED ({error}): this export is incomplete")
    lines.append("the whole document: add --json, or --output FILE")
    return lines


def is_person(document: Any) -> bool:
    return isinstance(document, dict) and "not_answered" in document and "services" in document


def _holds(held: dict[str, Any]) -> bool:
    return any(isinstance(v, list) and v for v in held.values())


def _default_url(service: str, port: str) -> str:
    name = service.upper()
    return os.environ.get(f"HRC_{name}_URL",
                          f"http://localhost:{os.environ.get(f'{name}_PORT', port)}")
