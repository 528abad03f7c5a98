"""A campaign's members brought in at once, on RabbitMQ + PostgreSQL, as a deployment runs it.

    .venv/bin/python -m bench member_import [--members 1000]

Starts ``hrc run`` (all four services) on a fresh RabbitMQ vhost and fresh PostgreSQL databases,
posts a campaign-shaped CSV to the staff route that ``hrc members import`` calls, and prints how
long the import took (check every row, store, write the outbox), until every member.joined was
published, and until reports counts them all on the public badge; then imports the same file
again with ``hrc members import`` (nothing changes) and times that too.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from tests.support import infra
from tests.support.campaign_members import campaign_csv

TOKEN = "bench-import-token"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    args = parser.parse_args()
    vhost = infra.Vhost()
    databases = {s: infra.PostgresDatabase(s) for s in ("intake", "registry", "notify", "reports")}
    with tempfile.TemporaryDirectory() as tmp:
        env = infra.base_env(Path(tmp) / "var")
        env.update(AMQP_URI=vhost.uri(), STAFF_API_TOKENS=f"bench:{TOKEN}",
                   **{f"{s.upper()}_DB_URL": d.url for s, d in databases.items()})
        process = infra.ServiceProcess([], env, Path(tmp) / "hrc.log")
        try:
            process.start()
            process.wait_healthy([int(env[f"{s}_PORT"]) for s in ("REGISTRY", "REPORTS")], 120)
            csv_path = Path(tmp) / "members.csv"
            csv_path.write_text(campaign_csv(args.members), encoding="utf-8")
            run(env, csv_path, args.members)
        finally:
            process.stop()
            for database in databases.values():
                database.drop()
            vhost.drop()


def run(env: dict[str, str], csv_path: Path, members: int) -> None:
    registry = create_engine(env["REGISTRY_DB_URL"])
    badge = f"http://127.0.0.1:{env['REPORTS_PORT']}/public/badge.svg"
    started = time.perf_counter()
    response = requests.post(f"http://127.0.0.1:{env['REGISTRY_PORT']}/api/members/import",
                             data=csv_path.read_bytes(), timeout=300,
                             headers={"Authorization": f"Bearer {TOKEN}",
                                      "Content-Type": "text/csv; charset=utf-8"})
    imported = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"import failed: {response.text[:2000]}")
    infra.wait_for(lambda: _scalar(registry, "SELECT count(*) FROM outbox WHERE sent_at IS NOT "
                                   "NULL AND type = 'member.joined'") == members,
                   300, 0.05, "every member.joined to be published")
    published = time.perf_counter() - started
    infra.wait_for(lambda: f"{members} / 1000" in requests.get(badge, timeout=10).text,
                   300, 0.05, "the badge to count every member")
    counted = time.perf_counter() - started
    started = time.perf_counter()
    hrc(env, csv_path)
    again = time.perf_counter() - started
    registry.dispose()
    print(f"members import, {members} rows, RabbitMQ + PostgreSQL (hrc run, all services):")
    print(f"  POST /api/members/import (check, store, outbox): {imported:.2f} s")
    print(f"  every member.joined published:                   {published:.2f} s")
    print(f"  counted on the public badge:                     {counted:.2f} s")
    print(f"  hrc members import of the same file again:       {again:.2f} s"
          " (nothing changes; includes starting hrc)")


def hrc(env: dict[str, str], csv_path: Path) -> None:
    url = f"http://127.0.0.1:{env['REGISTRY_PORT']}"
    result = subprocess.run(
        [sys.executable, "-m", "hrc", "members", "import", str(csv_path), "--url", url],
        env={**env, "HRC_STAFF_TOKEN": TOKEN}, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"import failed: {result.stdout}{result.stderr}")
    print("  " + result.stderr.strip().splitlines()[-1])


def _scalar(engine, sql: str) -> int:
    with engine.connect() as connection:
        return connection.execute(text(sql)).scalar_one()


if __name__ == "__main__":
    main()
