"""Staff commands: ``hrc applications|waves|members ...`` over the registry's staff HTTP API.

They talk HTTP, never to the broker: the embedded ``make run`` uses an in-memory broker that no
other process can reach. The API address comes from ``--url`` (default: $HRC_REGISTRY_URL, else
http://localhost:$REGISTRY_PORT), the token from $HRC_STAFF_TOKEN.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import requests

from hrc import display, people
from shared.staff_api import StaffApi, StaffApiError

TOKEN_VARIABLE = "HRC_STAFF_TOKEN"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``applications``, ``waves`` and ``members`` to the ``hrc`` command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", default=_default_url(), help="the registry (default: %(default)s)")
    common.add_argument("--json", action="store_true",
                        help="print the API's JSON as it is (for scripts)")

    _applications(subparsers.add_parser(
        "applications", help="review applications"
    ).add_subparsers(dest="applications_command", required=True), common)
    _waves(subparsers.add_parser(
        "waves", help="campaign waves"
    ).add_subparsers(dest="waves_command", required=True), common)
    _members(subparsers.add_parser(
        "members", help="campaign members"
    ).add_subparsers(dest="members_command", required=True), common)


def _applications(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    listing = commands.add_parser("list", parents=[common], help="applications, newest first")
    listing.add_argument("--status")
    listing.add_argument("--wave", type=int)
    listing.add_argument("--country")
    listing.add_argument("--region")
    listing.add_argument("--possible-duplicate", action="store_true",
                         help="only applications flagged as possible duplicates")
    _paging(listing)
    listing.set_defaults(action=_command(lambda api, a: api.get(
        "/api/applications", status=a.status, wave=a.wave, country=a.country, region=a.region,
        possible_duplicate="true" if a.possible_duplicate else None,
        page=a.page, per_page=a.per_page), display.listing(APPLICATION_COLUMNS, "applications")))

    _action(commands, common, "show", "one application",
            lambda api, a: api.get(f"/api/applications/{a.id}"), display.record)
    _action(commands, common, "audit", "what staff did to an application",
            lambda api, a: api.get(f"/api/applications/{a.id}/audit"), _audit)
    export = _action(commands, common, "export", "everything held about an applicant",
                     lambda api, a: _export(api.get(f"/api/applications/{a.id}/export"),
                                            a.output), _exported)
    export.add_argument("--output", "-o", help="write the JSON document to this file")
    accept = _action(commands, common, "accept", "accept into a wave (default: the open one)",
                     lambda api, a: api.post(f"/api/applications/{a.id}/accept",
                                             {"wave": a.wave} if a.wave else {}), _accepted)
    accept.add_argument("--wave", type=int)
    decline = _action(commands, common, "decline", "decline, with the reason sent to them",
                      lambda api, a: api.post(f"/api/applications/{a.id}/decline",
                                              {"reason": a.reason}), _application)
    decline.add_argument("--reason", required=True)
    info = _action(commands, common, "request-info", "ask the applicant for more information",
                   lambda api, a: api.post(f"/api/applications/{a.id}/request-info",
                                           {"message": a.message}), _application)
    info.add_argument("--message", required=True)
    _action(commands, common, "resume", "back under review once the information has come",
            lambda api, a: api.post(f"/api/applications/{a.id}/resume-review"), _application)
    withdraw = _action(commands, common, "withdraw", "the applicant withdraws",
                       lambda api, a: api.post(f"/api/applications/{a.id}/withdraw",
                                               {"reason": a.reason}), _application)
    withdraw.add_argument("--reason")
    erase = _action(commands, common, "erase",
                    "erase an applicant who never became a member (decided or withdrawn)",
                    lambda api, a: _erase(api, a, f"/api/applications/{a.id}"), _application)
    erase.add_argument("--yes", action="store_true", help="do it (erasure cannot be undone)")


def _waves(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    commands.add_parser("list", parents=[common], help="all waves").set_defaults(
        action=_command(lambda api, a: api.get("/api/waves"),
                        display.listing(WAVE_COLUMNS, "waves")))
    create = commands.add_parser("create", parents=[common], help="a new wave (not yet open)")
    create.add_argument("number", type=int)
    for what in ("name", "theme"):
        for language in ("en", "fr", "es"):
            create.add_argument(f"--{what}-{language}", required=True)
    create.add_argument("--opens-at", required=True, help="ISO 8601, e.g. 2026-03-01")
    create.add_argument("--closes-at", help="ISO 8601")
    for language in ("en", "fr", "es"):
        create.add_argument(f"--description-{language}",
                            help="what the public form says about the wave (optional)")
    create.set_defaults(action=_command(lambda api, a: api.post("/api/waves", {
        "number": a.number,
        "name": {lang: getattr(a, f"name_{lang}") for lang in ("en", "fr", "es")},
        "theme": {lang: getattr(a, f"theme_{lang}") for lang in ("en", "fr", "es")},
        "opens_at": a.opens_at,
        "closes_at": a.closes_at,
        "description": {lang: getattr(a, f"description_{lang}") for lang in ("en", "fr", "es")},
    }), _wave))
    for verb, help_text in (("open", "open a wave: its waitlist goes under review"),
                            ("close", "close the open wave")):
        command = commands.add_parser(verb, parents=[common], help=help_text)
        command.add_argument("number", type=int)
        command.set_defaults(action=_command(
            lambda api, a, verb=verb: api.post(f"/api/waves/{a.number}/{verb}"), _wave))
    commands.add_parser(
        "announce", parents=[common],
        help="tell every service the waves again (for one that missed them: the form then "
             "shows the open wave); no member is mailed again").set_defaults(
        action=_command(lambda api, a: api.post("/api/waves/announce"), _announced))


def _members(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    listing = commands.add_parser("list", parents=[common], help="members")
    listing.add_argument("--status")
    listing.add_argument("--wave", type=int)
    listing.add_argument("--country")
    listing.add_argument("--region")
    _paging(listing)
    listing.set_defaults(action=_command(lambda api, a: api.get(
        "/api/members", status=a.status, wave=a.wave, country=a.country, region=a.region,
        page=a.page, per_page=a.per_page), display.listing(MEMBER_COLUMNS, "members")))
    _action(commands, common, "show", "one member",
            lambda api, a: api.get(f"/api/members/{a.id}"), display.record)
    bring_in = commands.add_parser(
        "import", parents=[common],
        help="bring in existing members from a CSV file (format: docs/members-import.md)")
    bring_in.add_argument("file", help="UTF-8 CSV with a header row")
    bring_in.add_argument("--dry-run", action="store_true",
                          help="check the file and say what would be imported; store nothing")
    bring_in.set_defaults(action=staff_command(_import, service="registry", show=_show_import))
    export = commands.add_parser(
        "export", parents=[common],
        help="everything held about a member (its id: the registry's record) or a person "
             "(an e-mail address: what every service holds, the mails sent included)")
    export.add_argument("who", help="a member's id, or a person's e-mail address")
    export.add_argument("--output", "-o", help="write the JSON document to this file")
    people.add_addresses(export)
    export.set_defaults(action=_command(_export_member_or_person, _exported))
    withdraw = _action(commands, common, "withdraw", "the member leaves the campaign",
                       lambda api, a: api.post(f"/api/members/{a.id}/withdraw",
                                               {"reason": a.reason}), _member)
    withdraw.add_argument("--reason")
    consent = _action(commands, common, "listing-consent",
                      "list the member in the public directory (yes) or take it out (no)",
                      lambda api, a: api.patch(f"/api/members/{a.id}",
                                               {"listing_consent": a.consent == "yes"}), _member)
    consent.add_argument("consent", choices=("yes", "no"))
    contact = _action(commands, common, "contact",
                      "replace the contact person (after elections, say): mailed to them",
                      lambda api, a: api.put(f"/api/members/{a.id}/contact", {
                          "contact_name": a.name, "contact_email": a.email,
                          "language": a.language}), _member)
    contact.add_argument("--name", required=True)
    contact.add_argument("--email", required=True)
    contact.add_argument("--language", choices=("en", "fr", "es"),
                         help="of later mail (default: unchanged)")
    erase = _action(commands, common, "erase",
                    "erase the contact person's data everywhere (the member stays)",
                    lambda api, a: _erase(api, a, f"/api/members/{a.id}"), _member)
    erase.add_argument("--yes", action="store_true", help="do it (erasure cannot be undone)")
    resubscribe = commands.add_parser(
        "resubscribe", help="an address that unsubscribed gets the wave announcements again "
                            "(when the person asks)")
    resubscribe.add_argument("email")
    resubscribe.add_argument("--url", default=people.default_url("notify"),
                             help="the notify service (default: %(default)s)")
    resubscribe.add_argument("--json", action="store_true",
                             help="print the API's JSON as it is (for scripts)")
    resubscribe.set_defaults(action=staff_command(
        lambda api, a: api.delete("/api/unsubscribes?" + urlencode({"email": a.email})),
        service="notify", show=lambda body, a: display.show(body, a.json, _resubscribed)))


# --- what a person reads ----------------------------------------------------------------------

APPLICATION_COLUMNS = (("id", "id"), ("reference", "reference"), ("status", "status"),
                       ("wave", "wave"), ("country", "country"), ("region", "region"),
                       ("government_name", "government"),
                       ("possible_duplicates", "possible duplicates"))
MEMBER_COLUMNS = (("id", "id"), ("government_name", "government"), ("country", "country"),
                  ("region", "region"), ("joined_wave", "joined in wave"), ("waves", "waves"),
                  ("status", "status"))
WAVE_COLUMNS = (("number", "wave"), ("status", "status"), ("opens_at", "opens"),
                ("closes_at", "closes"), ("name", "name"))


def _application(body: dict[str, Any]) -> list[str]:
    wave = f", wave {body['wave']}" if body.get("wave") else ""
    lines = [f"application {body['id']} ({body['reference']}) "
             f"{body.get('government_name') or '(erased)'}: {body['status']}{wave}"]
    if body.get("info_request"):
        lines.append(f"information asked: {display.cell(body['info_request'])}")
    if body.get("decision_reason"):
        lines.append(f"reason: {body['decision_reason']}")
    return lines


def _accepted(body: dict[str, Any]) -> list[str]:
    member = body["member"]
    return [*_application(body["application"]),
            f"member {member['id']} since {display.cell(member['joined_at'])}"]


def _member(body: dict[str, Any]) -> list[str]:
    contact = (f"{body['contact_name'] or ''} <{body['contact_email']}>".strip()
               if body.get("contact_email") else "none (erased or never given)")
    return [f"member {body['id']} {body['government_name']} ({body['country']}): "
            f"{body['status']} since wave {body['joined_wave']}",
            f"contact: {contact}",
            f"listed in the public directory: {display.cell(body.get('listing_consent'))}"]


def _resubscribed(body: dict[str, Any]) -> list[str]:
    if not body["was_unsubscribed"]:
        return [f"{body['email']} had not unsubscribed: it gets the announcements already"]
    return [f"{body['email']} gets the wave announcements again"]


def _wave(body: dict[str, Any]) -> list[str]:
    closes = f", closes {display.cell(body['closes_at'])}" if body.get("closes_at") else ""
    lines = [f"wave {body['number']} {display.cell(body['name'])}: {body['status']}, "
             f"opens {display.cell(body['opens_at'])}{closes}"]
    if "moved_to_review" in body:
        lines.append(f"{body['moved_to_review']} application(s) from the waiting list now "
                     "under review")
    return lines


def _announced(body: dict[str, Any]) -> list[str]:
    if not body["items"]:
        return ["no wave opened or closed yet: nothing to tell"]
    return [*display.table(body["items"], (("number", "wave"), ("status", "status"),
                                           ("event", "told again as"), ("name", "name"))),
            f"{body['total']} wave(s) told again to intake, notify and reports; "
            "each takes what it missed, and no member is mailed again"]


def _audit(body: dict[str, Any]) -> list[str]:
    rows = [{**entry, "changed": display.changes(entry.get("before"), entry.get("after"))}
            for entry in body.get("items", [])]
    if not rows:
        return ["nothing done to it by staff yet"]
    return display.table(rows, (("at", "at"), ("who", "who"), ("action", "action"),
                                ("changed", "changed")))


def _exported(body: dict[str, Any]) -> list[str]:
    if "written" in body:
        return [f"written to {body['written']}",
                *(f"{service}: NOT ANSWERED: this export is incomplete"
                  for service in body.get("not_answered", ()))]
    if people.is_person(body):
        return people.summary(body)
    return display.record(body)


def _export_member_or_person(api: StaffApi, args: argparse.Namespace) -> Any:
    if "@" in args.who:
        document = people.export_person(api, args)
        if not document["complete"]:
            for service, error in document["not_answered"].items():
                print(f"error: the {service} did not answer: {error}", file=sys.stderr)
        written = _export(document, args.output)
        if args.output and not document["complete"]:
            written["not_answered"] = sorted(document["not_answered"])
        return written
    if not args.who.isdigit():
        raise StaffApiError(None, "not a member id nor an e-mail address", args.who)
    return _export(api.get(f"/api/members/{int(args.who)}/export"), args.output)


# --- plumbing ---------------------------------------------------------------------------------

def _export(body: Any, output: str | None) -> Any:
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            json.dump(body, handle, ensure_ascii=False, indent=2)
        return {"written": output}
    return body


def _import(api: StaffApi, args: argparse.Namespace) -> Any:
    try:
        with open(args.file, encoding="utf-8", newline="") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise StaffApiError(None, "cannot read the file", str(exc)) from None
    try:
        return api.post_csv("/api/members/import", text,
                            dry_run="true" if args.dry_run else None)
    except StaffApiError as exc:
        if exc.error == "rows_refused" and isinstance(exc.detail, dict):
            return exc.detail
        raise


def _show_import(report: Any, args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        for refused in report["refused"]:
            problems = "; ".join(f"{name}: {', '.join(messages)}"
                                 for name, messages in refused["errors"].items())
            print(f"line {refused['line']}\t{refused['government_name']}\t{problems}")
    imported, already = len(report["imported"]), len(report["already_members"])
    if report["refused"]:
        summary = (f"{len(report['refused'])} row(s) refused: nothing imported; correct them and"
                   f" import the file again ({imported} new, {already} already members)")
    elif report["dry_run"]:
        summary = f"dry run: {imported} would be imported, {already} already members"
    else:
        summary = f"{imported} imported, {already} already members (left as they are)"
    print(summary, file=sys.stderr)
    return 1 if report["refused"] else 0


def _erase(api: StaffApi, args: argparse.Namespace, path: str) -> Any:
    if not args.yes:
        raise StaffApiError(None, "not erased", "erasure cannot be undone: add --yes")
    return api.delete(path)


def _action(
    commands: argparse._SubParsersAction,
    common: argparse.ArgumentParser,
    name: str,
    help_text: str,
    call: Callable[[StaffApi, argparse.Namespace], Any],
    human: display.Human,
) -> argparse.ArgumentParser:
    command = commands.add_parser(name, parents=[common], help=help_text)
    command.add_argument("id", type=int)
    command.set_defaults(action=_command(call, human))
    return command


def _paging(command: argparse.ArgumentParser) -> None:
    command.add_argument("--page", type=int, default=1)
    command.add_argument("--per-page", type=int, default=50)


def staff_command(
    call: Callable[[StaffApi, argparse.Namespace], Any],
    *,
    service: str,
    show: Callable[[Any, argparse.Namespace], int | None],
) -> Callable[[argparse.Namespace], int]:
    """An ``hrc`` action that calls a staff API and turns its errors into a message and exit 1."""

    def run(args: argparse.Namespace) -> int:
        api = StaffApi(args.url, os.environ.get(TOKEN_VARIABLE))
        try:
            result = call(api, args)
        except StaffApiError as exc:
            print(f"error: {exc}", file=sys.stderr)
            if exc.status == 401:
                print(f"(set {TOKEN_VARIABLE} to a staff token)", file=sys.stderr)
            return 1
        except requests.ConnectionError as exc:
            print(f"error: cannot reach the {service} at {args.url}: {exc}", file=sys.stderr)
            return 1
        return show(result, args) or 0

    return run


def _command(call: Callable[[StaffApi, argparse.Namespace], Any],
             human: display.Human) -> Callable[..., int]:
    def show(result: Any, args: argparse.Namespace) -> int:
        display.show(result, args.json, human)
        # An export that some service did not answer is printed, and still a failure.
        incomplete = isinstance(result, dict) and (
            result.get("not_answered") or result.get("complete") is False)
        return 1 if incomplete else 0

    return staff_command(call, service="registry", show=show)


def _default_url() -> str:
    return os.environ.get(
        "HRC_REGISTRY_URL", f"http://localhost:{os.environ.get('REGISTRY_PORT', '8001')}"
    )
