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

from hrc.staff import StaffApi, staff_command


def register(subparsers: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", default=_default_url(),
                        help="the console (default: %(default)s)")
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
        lambda result, a: print(f"{result['email']} disabled")))


def _show_added(result: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"{result['email']} ({result['role']}) added. Send them this link to choose a password")
    print("(it works once, for seven days, and cannot be shown again):")
    print(result["link"])


def _show_list(result: dict[str, Any], args: argparse.Namespace) -> None:
    print("email\trole\tlanguage\tstate")
    for item in result["items"]:
        state = ("disabled" if item["disabled"] else "locked" if item["locked"]
                 else "invited" if not item["password_set"] else "active")
        print(f"{item['email']}\t{item['role']}\t{item['language']}\t{state}")


def _command(call: Callable[[StaffApi, argparse.Namespace], Any],
             show: Callable[[Any, argparse.Namespace], None]) -> Callable[..., int]:
    return staff_command(call, service="console", show=show)


def _default_url() -> str:
    return os.environ.get(
        "HRC_CONSOLE_URL", f"http://localhost:{os.environ.get('CONSOLE_PORT', '8004')}")

