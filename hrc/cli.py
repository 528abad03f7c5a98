"""``hrc``: run the services, prepare a deployment, and look after parked events."""
import warnings

# eventlet announces its own deprecation on import: staff running a command need not read it.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet

eventlet.monkey_patch()  # before anything imports socket, threading or psycopg2

import argparse
import logging
import os
import signal
import sys
from collections.abc import Callable

from hrc import display
from shared import config, db, inbox
from shared.events import SERVICES

# Modules that add their own subcommands with ``register(subparsers)``.
COMMAND_MODULES: list[str] = ["hrc.staff", "hrc.digests", "hrc.accounts"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hrc", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="start services (all of them in one process by default)")
    run.add_argument("services", nargs="*", choices=[[], *SERVICES], metavar="SERVICE",
                     help=f"one or more of {', '.join(SERVICES)}")
    run.set_defaults(action=_run)

    setup = commands.add_parser("setup", help="migrate databases and declare the broker topology")
    setup.add_argument("services", nargs="*", metavar="SERVICE")
    setup.add_argument("--json", action="store_true", help="say what was done as JSON")
    setup.set_defaults(action=_setup)

    events = commands.add_parser("events", help="parked events").add_subparsers(
        dest="events_command", required=True)
    failed = events.add_parser("failed", help="list parked events")
    failed.add_argument("--service", choices=SERVICES, action="append")
    failed.add_argument("--json", action="store_true", help="the parked events as JSON")
    failed.set_defaults(action=_events_failed)
    replay = events.add_parser("replay", help="run parked events again")
    replay.add_argument("--service", choices=SERVICES, action="append")
    replay.add_argument("--json", action="store_true", help="say how many as JSON")
    replay.add_argument("event_ids", nargs="*", help="only these events (default: all parked)")
    replay.set_defaults(action=_events_replay)

    for module_name in COMMAND_MODULES:
        __import__(module_name, fromlist=["register"]).register(commands)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return until_the_reader_leaves(lambda: args.action(args) or 0)


def until_the_reader_leaves(action: Callable[[], int]) -> int:
    """Run ``action``; a reader that closed the pipe (``hrc ... | head``) ends it quietly.

    Python's own advice for SIGPIPE: point stdout at /dev/null so that the flush at exit does
    not raise again, and exit with the status a shell gives a process ended by SIGPIPE.
    """
    try:
        status = action()
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 128 + signal.SIGPIPE


def _run(args) -> int:
    from hrc.run import run

    run(config.load(), args.services or None)
    return 0


def _setup(args) -> int:
    from hrc.run import setup

    services = args.services or list(SERVICES)
    setup(config.load(), services)
    display.show({"migrated": services, "topology": "declared"}, args.json,
                 lambda _: ["databases migrated, broker topology declared"])
    return 0


def _events_failed(args) -> int:
    settings = config.load()
    parked = []
    for service in args.service or SERVICES:
        with db.database_for(settings.db_urls[service]).transaction() as session:
            for row in inbox.parked(session):
                last_line = (row.last_error or "").strip().splitlines()[-1:] or [""]
                parked.append({"service": service, "event_id": row.event_id, "type": row.type,
                               "attempts": row.attempts, "last_error": last_line[0]})
    display.show({"items": parked, "total": len(parked)}, args.json, display.listing(
        (("service", "service"), ("event_id", "event"), ("type", "type"),
         ("attempts", "attempts"), ("last_error", "last error")), "parked events"))
    return 0


def _events_replay(args) -> int:
    settings = config.load()
    total = 0
    for service in args.service or SERVICES:
        with db.database_for(settings.db_urls[service]).transaction() as session:
            total += inbox.replay(session, args.event_ids or None)
    display.show({"replayed": total}, args.json,
                 lambda body: [f"{body['replayed']} event(s) put back in line"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
