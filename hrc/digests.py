"""Staff commands of the reports service, over its staff HTTP API.

- ``hrc digests send --start 2024-01-01T08:00 --end 2024-01-08T08:00 [--language fr]``:
  the digest of that period, sent now (outside the schedule).
- ``hrc digests list``: the scheduled periods delivered so far.
- ``hrc reports progress [--format json|csv]``: the campaign's progress.
- ``hrc reports rebuild``: rebuild the read model from the events reports has received.

The address comes from ``--url`` (default: $HRC_REPORTS_URL, else
http://localhost:$REPORTS_PORT), the token from $HRC_STAFF_TOKEN, as for the registry commands.
"""
from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from typing import Any

from hrc.staff import StaffApi, staff_command


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``digests`` and ``reports`` to the ``hrc`` command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", default=_default_url(), help="the reports service "
                        "(default: %(default)s)")

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
    })))
    digests.add_parser("list", parents=[common], help="scheduled periods delivered so far")\
        .set_defaults(action=_command(lambda api, a: api.get("/reports/digests")))

    reports = subparsers.add_parser("reports", help="campaign reports").add_subparsers(
        dest="reports_command", required=True)
    progress = reports.add_parser("progress", parents=[common], help="progress toward 1000")
    progress.add_argument("--format", choices=("json", "csv"), default="json")
    progress.set_defaults(action=_command(_progress))
    reports.add_parser("rebuild", parents=[common],
                       help="rebuild the read model from the events received")\
        .set_defaults(action=_command(lambda api, a: api.post("/reports/rebuild")))


def _progress(api: StaffApi, args: argparse.Namespace) -> Any:
    if args.format == "json":
        return api.get("/reports/progress.json")
    return api.get_text("/reports/progress.csv")


def _command(call: Callable[[StaffApi, argparse.Namespace], Any]) -> Callable[..., int]:
    return staff_command(call, service="reports service", show=_show)


def _show(result: Any, _args: argparse.Namespace) -> None:
    print(result if isinstance(result, str) else json.dumps(result, ensure_ascii=False, indent=2))


def _default_url() -> str:
    return os.environ.get(
        "HRC_REPORTS_URL", f"http://localhost:{os.environ.get('REPORTS_PORT', '8003')}"
    )
