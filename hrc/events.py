"""``hrc events failed`` and ``hrc events replay``: parked events, through each service's own
staff route (``GET /api/events/parked``, ``POST /api/events/parked/<id>/replay``, written once in
shared.parked_events), never by opening a service's database.

Each service is reached at ``--<service>-url`` (default $HRC_<SERVICE>_URL, else
http://localhost:$<SERVICE>_PORT), with the staff token of $HRC_STAFF_TOKEN. A service that does
not answer is named, and the command exits 1: "no parked events" is never said for it.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import requests

from hrc import display
from hrc.staff import TOKEN_VARIABLE
from shared.config import SERVICE_PORTS
from shared.events import SERVICES
from shared.staff_api import StaffApi, StaffApiError

PARKED = "/api/events/parked"
COLUMNS = (("service", "service"), ("id", "id"), ("event_id", "event"), ("type", "type"),
           ("about", "about"),
           ("attempts", "attempts"), ("parked_at", "parked"), ("last_error", "last error"))


def register(subparsers: argparse._SubParsersAction) -> None:
    events = subparsers.add_parser("events", help="parked events").add_subparsers(
        dest="events_command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--service", choices=SERVICES, action="append",
                        help="only this service (repeat for several; default: every one)")
    common.add_argument("--json", action="store_true", help="the answer as JSON (for scripts)")
    for service in SERVICES:
        common.add_argument(f"--{service}-url", default=service_url(service),
                            help=f"the {service} service (default: %(default)s)")

    failed = events.add_parser("failed", parents=[common], help="list parked events")
    failed.set_defaults(action=failed_events)
    replay = events.add_parser("replay", parents=[common], help="run parked events again")
    replay.add_argument("ids", nargs="*", metavar="ID",
                        help="event ids (the event column of --json), or inbox ids with one "
                             "--service (default: every parked event)")
    replay.set_defaults(action=replay_events)


def service_url(service: str) -> str:
    name = service.upper()
    return os.environ.get(f"HRC_{name}_URL", "http://localhost:"
                          + os.environ.get(f"{name}_PORT", str(SERVICE_PORTS[service])))


def failed_events(args: argparse.Namespace) -> int:
    parked, not_answered = _gather(args)
    body = {"items": parked, "total": len(parked), "not_answered": not_answered}
    display.show(body, args.json, _parked_table)
    return 1 if not_answered else 0


def replay_events(args: argparse.Namespace) -> int:
    parked, not_answered = _gather(args)
    chosen, unknown = _chosen(parked, args.ids, args.service)
    replayed, refused = [], []
    for item in chosen:
        try:
            answer = _api(args, item["service"]).post(f"{PARKED}/{item['id']}/replay")
            replayed.append({"service": item["service"], **answer["replayed"]})
        except (StaffApiError, requests.RequestException) as exc:
            # 409: someone replayed it meanwhile; the rest go ahead.
            refused.append({"service": item["service"], "id": item["id"], "error": str(exc)})
    body = {"replayed": replayed, "refused": refused, "unknown": unknown,
            "not_answered": not_answered}
    display.show(body, args.json, _replayed_lines)
    return 1 if refused or unknown or not_answered else 0


def _gather(args: argparse.Namespace) -> tuple[list[dict[str, Any]], dict[str, str]]:
    parked, not_answered = [], {}
    for service in args.service or SERVICES:
        try:
            answer = _api(args, service).get(PARKED)
        except StaffApiError as exc:
            not_answered[service] = str(exc)
            if exc.status == 401:
                print(f"(set {TOKEN_VARIABLE} to a staff token)", file=sys.stderr)
            continue
        except requests.RequestException as exc:
            not_answered[service] = f"cannot reach it at {_url(args, service)}: {exc}"
            continue
        parked += [{"service": service, **item} for item in answer["items"]]
    return parked, not_answered


def _chosen(parked: list[dict[str, Any]], ids: list[str], services: list[str] | None):
    if not ids:
        return parked, []
    by_inbox_id = services is not None and len(services) == 1
    chosen, unknown = [], []
    for wanted in ids:
        found = [item for item in parked if item["event_id"] == wanted
                 or (by_inbox_id and wanted.isdigit() and item["id"] == int(wanted))]
        chosen += found
        if not found:
            unknown.append(wanted)
    return chosen, unknown


def _api(args: argparse.Namespace, service: str) -> StaffApi:
    return StaffApi(_url(args, service), os.environ.get(TOKEN_VARIABLE))


def _url(args: argparse.Namespace, service: str) -> str:
    return getattr(args, f"{service}_url")


def _parked_table(body: dict[str, Any]) -> list[str]:
    rows = [{**item, "about": _about(item)} for item in body["items"]]
    lines = display.listing(COLUMNS, "parked events")({"items": rows, "total": body["total"]})
    return lines + _not_answered(body["not_answered"])


def _about(item: dict[str, Any]) -> str | None:
    if item.get("reference"):
        return item["reference"]
    return f"member {item['member_id']}" if item.get("member_id") is not None else None


def _replayed_lines(body: dict[str, Any]) -> list[str]:
    lines = [f"{len(body['replayed'])} event(s) put back in line"]
    lines += [f"  {item['service']} {item['id']}  {item['type']}  {item['event_id']}"
              for item in body["replayed"]]
    lines += [f"  not replayed: {item['service']} {item['id']}: {item['error']}"
              for item in body["refused"]]
    lines += [f"  not parked anywhere asked: {wanted}" for wanted in body["unknown"]]
    return lines + _not_answered(body["not_answered"])


def _not_answered(services: dict[str, str]) -> list[str]:
    return [f"{service}: NOT ANSWERED ({error})" for service, error in services.items()]
