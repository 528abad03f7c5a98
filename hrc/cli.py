"""``hrc``: run the services, prepare a deployment, and the staff commands."""
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
from shared import config
from shared.events import SERVICES

# Modules that add their own subcommands with ``register(subparsers)``.
COMMAND_MODULES: list[str] = ["hrc.staff", "hrc.digests", "hrc.accounts", "hrc.events"]


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


if __name__ == "__main__":
    sys.exit(main())
