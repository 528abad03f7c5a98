"""Staff accounts of the console, over the console's own staff HTTP API.

- ``hrc staff add EMAIL --role reviewer|admin [--language fr]``: a new account; prints the
  single-use link (seven days) where that person chooses a password.
- ``hrc staff list``; ``hrc staff disable EMAIL`` (ends that person's sessions).

Like the other staff commands they use a staff token ($HRC_STAFF_TOKEN) and HTTP, never the
broker; the address comes from ``--url`` (default: $HRC_CONSOLE_URL, else
http://localhost:$CONSOLE_PORT).
"""
from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from hrc import display
from hrc.staff import StaffApi, staff_command


def register(subparsers: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", default=_default_url(),
                        help="the console (default: %(default)s)")
    common.add_argument("--json", action="store_true",
                        help="print the API's JSON as it is (for scripts)")
    staff = subparsers.add_parser("staff", help="staff accounts of the console").add_subparsers(
        dest="staff_command", required=True)

    add = staff.add_parser("add", parents=[common], help="a new account; prints its link")
    add.add_argument("email")
    add.add_argument("--role", choices=("reviewer", "admin"), required=True)
    add.add_argument("--language", choices=("en", "fr", "es"), default="en")
    add.set_defaults(action=_command(
        lambda api, a: api.post("/api/staff", {"email": a.email, "role": a.role,
                                               "language": a.language}), _show_added))
    staff.add_parser("list", parents=[common], help="every account").set_defaults(
        action=_command(lambda api, a: api.get("/api/staff"), _show_list))
    disable = staff.add_parser("disable", parents=[common], help="no more sign-ins")
    disable.add_argument("email")
    disable.set_defaults(action=_command(
        lambda api, a: api.post("/api/staff/disable", {"email": a.email}),
        lambda result: [f"{result['email']} disabled"]))


def _show_added(result: dict[str, Any]) -> list[str]:
    return [f"{result['email']} ({result['role']}) added. Send them this link to choose a "
            "password", "(it works once, for seven days, and cannot be shown again):",
            result["link"]]


def _show_list(result: dict[str, Any]) -> list[str]:
    rows = [{**item, "state": "disabled" if item["disabled"] else "locked" if item["locked"]
             else "invited" if not item["password_set"] else "active"}
            for item in result["items"]]
    return display.table(rows, (("email", "email"), ("role", "role"),
                                ("language", "language"), ("state", "state")))


def _command(call: Callable[[StaffApi, argparse.Namespace], Any],
             human: display.Human) -> Callable[..., int]:
    return staff_command(call, service="console",
                         show=lambda result, args: display.show(result, args.json, human))


def _default_url() -> str:
    return os.environ.get(
        "HRC_CONSOLE_URL", f"http://localhost:{os.environ.get('CONSOLE_PORT', '8004')}")

