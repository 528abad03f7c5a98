"""How many statements PostgreSQL runs per application, service by service, on the pipeline of
``bench.pipeline`` (four services as processes, RabbitMQ, PostgreSQL, an aiosmtpd sink).

    .venv/bin/python -m bench statements [--tree DIR] [--rate 10] [--seconds 10]

A count, not a time: on a shared machine it barely moves with the load, so it says what a
change to the machinery bought where the timings drown in noise. A round trip costs every
service CPU to send and read it and PostgreSQL CPU to run it, and at a low rate (each event
alone) the round trips per event are what an application costs.

PostgreSQL logs every statement while the rate runs (``ALTER SYSTEM SET log_statement``, reset
afterwards; the bench's user is a superuser here) and the log is read back: the server's own
log file, ``--log`` (Debian's /var/log/postgresql/postgresql-<version>-main.log by default).
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import re
import sys
import tempfile
import time
from pathlib import Path

import psycopg2

from bench import pipeline
from tests.support import infra

_STATEMENT = re.compile(r"@(\S+) LOG:  statement: (.*)")


def _admin(sql: str) -> None:
    connection = psycopg2.connect(infra.PG_ADMIN_DSN)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


def _log_statements(on: bool) -> None:
    _admin("ALTER SYSTEM SET log_statement = 'all'" if on else "ALTER SYSTEM RESET log_statement")
    _admin("SELECT pg_reload_conf()")


def _default_log() -> Path | None:
    found = sorted(Path("/var/log/postgresql").glob("postgresql-*-main.log"))
    return found[-1] if found else None


def _shape(statement: str) -> str:
    """A statement without its values: the same statement whatever it was given."""
    return re.sub(r"\b\d+\b", "N", re.sub(r"'[^']*'", "?", statement))[:110]


def count(lines: list[str], databases: dict[str, str]) -> tuple[collections.Counter,
                                                                 collections.Counter]:
    """Per service, and per (service, statement shape), the statements of ``lines``."""
    service_of = {name: service for service, name in databases.items()}
    per_service: collections.Counter = collections.Counter()
    per_shape: collections.Counter = collections.Counter()
    for line in lines:
        match = _STATEMENT.search(line)
        if not match or match.group(1) not in service_of:
            continue
        service = service_of[match.group(1)]
        per_service[service] += 1
        per_shape[(service, _shape(match.group(2)))] += 1
    return per_service, per_shape


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=infra.PROJECT)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--log", type=Path, default=_default_log())
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    if args.log is None or not args.log.exists():
        print("no PostgreSQL log file found: pass --log PATH", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        system = pipeline.Pipeline(Path(tmp), 1, args.tree.resolve())
        try:
            system.start()
            watcher = pipeline.AckWatcher(system.sink.directory)
            posts, _ = asyncio.run(pipeline.offer(system.intake_port, 5, 2, 16,
                                                  lambda n: pipeline.application(n, "warm"),
                                                  9_000_000))
            watcher.wait([pipeline._email(p.number, "warm") for p in posts if p.status == 202],
                         60, 10)
            time.sleep(3)  # the warm-up's last relays and polls
            start = args.log.stat().st_size
            _log_statements(True)
            try:
                posts, _ = asyncio.run(pipeline.offer(system.intake_port, args.rate,
                                                      args.seconds, 16,
                                                      lambda n: pipeline.application(n, "s"), 0))
                accepted = [pipeline._email(p.number, "s") for p in posts if p.status == 202]
                drained, _ = watcher.wait(accepted, 60, 10)
                time.sleep(2)
            finally:
                _log_statements(False)
            with args.log.open(errors="replace") as log:
                log.seek(start)
                lines = log.readlines()
            names = {service: database.name
             for service, database in system.databases.items()}
            per_service, per_shape = count(lines, names)
        finally:
            system.stop()
    apps = len(accepted)
    total = sum(per_service.values())
    print(f"statements, services from {args.tree}: {apps} applications at {args.rate:g}/s, "
          f"{'all' if drained else 'NOT all'} acknowledged")
    for service in pipeline.SERVICES:
        print(f"  {service:9} {per_service[service]:6} ({per_service[service] / apps:5.1f} per "
              f"application)")
    print(f"  {'all':9} {total:6} ({total / apps:5.1f} per application)")
    print("most frequent:")
    for (service, shape), number in per_shape.most_common(args.top):
        print(f"  {number:5} {service:9} {shape}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
