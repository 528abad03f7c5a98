"""Staff commands of the reports service, over its staff HTTP API.

- ``hrc digests send --start 2024-01-01T08:00 --end 2024-01-08T08:00 [--language fr]``:
  the digest of that period, sent now (outside the schedule).
- ``hrc digests list``: the scheduled periods delivered so far.
- ``hrc reports progress [--format text|json|csv]``: the campaign's progress.
- ``hrc reports rebuild``: rebuild the read model from the events reports has received.

The address comes from ``--url`` (default: $HRC_REPORTS_URL, else
http://localhost:$REPORTS_PORT), the token from $HRC_STAFF_TOKEN, as for the registry commands.
"""
from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from hrc import display
from hrc.staff import StaffApi, staff_command


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``digests`` and ``reports`` to the ``hrc`` command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", default=_default_url(), help="the reports service "
                        "(default: %(default)s)")
    common.add_argument("--json", action="store_true",
                        help="print the API's JSON as it is (for scripts)")

    digests = subparsers.add_parser("digests", help="campaign digests").add_subparsers(
        dest="digests_command", required=True)
    send = digests.add_parser("send", parents=[common], help="send the digest of a period now")
    send.add_argument("--start", required=True, help="ISO 8601, UTC unless an offset is given")
    send.add_argument("--end", required=True, help="ISO 8601, UTC unless an offset is given")
    send.add_argument("--language", choices=("en", "fr", "es"),
                      help="default: the service's DIGEST_LANGUAGE")
    send.set_defaults(action=_command(lambda api, a: api.post("/reports/digests", {
        "start": a.start, "end": a.end,
        **({"language": a.language} if a.language else {}),
    }), _sent))
    digests.add_parser("list", parents=[common], help="scheduled periods delivered so far")\
        .set_defaults(action=_command(lambda api, a: api.get("/reports/digests"),
                                      _deliveries))

    reports = subparsers.add_parser("reports", help="campaign reports").add_subparsers(
        dest="reports_command", required=True)
    progress = reports.add_parser("progress", parents=[common], help="progress toward 1000")
    progress.add_argument("--format", choices=("text", "json", "csv"), default="text",
                          help="json is --json; csv is the staff route's CSV as it is")
    progress.set_defaults(action=_command(_progress, _progress_text))
    reports.add_parser("rebuild", parents=[common],
                       help="rebuild the read model from the events received")\
        .set_defaults(action=_command(
            lambda api, a: api.post("/reports/rebuild"),
            lambda body: [f"read model rebuilt from {body['replayed_events']} event(s)"]))


DELIVERY_COLUMNS = (("digest", "digest"), ("start", "from"), ("end", "to"),
                    ("delivered_at", "delivered"))


def _progress(api: StaffApi, args: argparse.Namespace) -> Any:
    if args.format == "csv":
        return api.get_text("/reports/progress.csv")
    if args.format == "json":
        args.json = True
    return api.get("/reports/progress.json")


def _progress_text(body: dict[str, Any]) -> list[str]:
    progress = body["progress"]
    reached = [str(m["target"]) for m in progress["milestones"] if m["reached"]]
    lines = [f"{progress['members']} / {progress['goal']} members "
             f"(deadline {progress['deadline']})",
             f"milestones reached: {', '.join(reached) or 'none yet'}; "
             f"next: {progress['next_milestone'] or '-'} ({progress['remaining']} to go)",
             f"pace: {progress['pace_so_far_per_year']} a year so far, "
             f"{progress['pace_needed_per_year']} needed; on track: "
             f"{display.cell(progress['on_track'])}"]
    for title, key in (("by wave", "members_by_wave"), ("by region", "members_by_region")):
        counts = body.get(key) or {}
        lines.append(f"members {title}: "
                     + (", ".join(f"{k}: {v}" for k, v in counts.items()) or "none"))
    for wave in body.get("waves", []):
        state = "open" if wave.get("open") else "closed"
        lines.append(f"wave {wave['number']} {display.cell(wave['name'])} ({state}): "
                     f"{wave['members']} member(s)")
    return lines


def _deliveries(body: dict[str, Any]) -> list[str]:
    rows = [{**item, **item["period"]} for item in body.get("items", [])]
    return display.table(rows, DELIVERY_COLUMNS) if rows else ["no digest delivered yet"]


def _sent(body: dict[str, Any]) -> list[str]:
    period = body["period"]
    return [f"digest of {display.cell(period.get('start'))} to "
            f"{display.cell(period.get('end'))} {body['status']} (event {body['event_id']})"]


def _command(call: Callable[[StaffApi, argparse.Namespace], Any],
             human: display.Human) -> Callable[..., int]:
    def show(result: Any, args: argparse.Namespace) -> None:
        if isinstance(result, str):  # the CSV, as the route wrote it
            print(result, end="" if result.endswith("\n") else "\n")
            return
        display.show(result, args.json, human)

    return staff_command(call, service="reports service", show=show)


def _default_url() -> str:
    return os.environ.get(
        "HRC_REPORTS_URL", f"http://localhost:{os.environ.get('REPORTS_PORT', '8003')}"
    )
