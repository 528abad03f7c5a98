"""Issue 11's targets in one run: the pipeline with its anchors, the wave fan-out, the digest
and reports' live path, then one table.

    .venv/bin/python -m bench targets [--tree DIR] [--rates 5,10,20,40,80] [--seconds 10]

``--tree DIR`` runs every part from another checkout (say, main before a change) with this
driver and this virtualenv, so a before/after pair is two commands run back to back. Each part
runs as its own process; its output is printed as it comes and its figures are read back.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support import infra


def run(tree: Path, module: str, *args: str, env: dict[str, str] | None = None) -> str:
    print(f"== {module} {' '.join(args)}  (load {os.getloadavg()[0]:.2f})", flush=True)
    env = {**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})}
    process = subprocess.run([sys.executable, "-m", module, *args], cwd=tree, env=env,
                             capture_output=True, text=True)
    lines = [line for line in process.stdout.splitlines() if line.strip()]
    print("\n".join(lines), flush=True)
    if process.returncode:
        print(process.stderr[-3000:], flush=True)
    return process.stdout


def number(pattern: str, text: str) -> float | None:
    match = re.search(pattern, text)
    return float(match.group(1).replace(",", "")) if match else None


def with_database(label: str, run_with):
    database = infra.PostgresDatabase(label)
    try:
        return run_with(database.url)
    finally:
        database.drop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=infra.PROJECT)
    parser.add_argument("--rates", default="5,10,20,40,80")
    parser.add_argument("--seconds", default="10")
    parser.add_argument("--skip-pipeline", action="store_true")
    args = parser.parse_args(argv)
    tree = args.tree.resolve()
    here = str(infra.PROJECT)
    rows: list[tuple[str, str, str, str]] = []

    def row(name: str, value: float | None, unit: str, target: str, load: float) -> None:
        shown = "n/a" if value is None else f"{value:,.2f}" if value < 10 else f"{value:,.0f}"
        rows.append((name, f"{shown} {unit}", target, f"{load:.2f}"))

    if not args.skip_pipeline:
        load = os.getloadavg()[0]
        out = run(Path(here), "bench.pipeline", "--tree", str(tree), "--rates", args.rates,
                  "--seconds", args.seconds)
        row("end to end acks/s (p95 < 2 s, 0 doubled, 0 missing)",
            number(r"0 missing: ([\d.]+) acks/s", out), "acks/s", "", load)
        row("  ratio to the kombu round trip", number(r"end to end / kombu round trip: ([\d.]+)%",
                                                     out), "%", ">= 30%", load)
        row("end to end acks/s, highest at any latency",
            number(r"at any latency: ([\d.]+) acks/s", out), "acks/s", "", load)
        row("  ratio to the kombu round trip",
            number(r"highest acknowledgement rate / kombu round trip: ([\d.]+)%", out), "%", "",
            load)
        row("  kombu round trip with confirms (anchor)",
            number(r"confirms: ([\d.]+) msg/s", out), "msg/s", "", load)
        row("intake saturated, PostgreSQL", number(r"saturated: ([\d.]+) 202/s", out), "202/s",
            "", load)
        row("  ratio to bare @http", number(r"bare @http: ([\d.]+)%", out), "%", ">= 30%", load)
        row("  bare nameko @http (anchor)", number(r"@http, saturated: ([\d.]+) req/s", out),
            "req/s", "", load)

    # The wave's temporary files on tmpfs in every tree: its SMTP sink creates and renames two
    # files per mail, and on the disk's filesystem that cost the sink 4-5 ms of CPU per mail,
    # taken from the two cores notify sends on (later trees put the sink there themselves;
    # this puts the SQLite run's database there too, in both trees alike).
    wave_env = {"TMPDIR": "/dev/shm"} if Path("/dev/shm").is_dir() else {}
    for backend in ("SQLite", "PostgreSQL"):
        load = os.getloadavg()[0]
        if backend == "SQLite":
            out = run(tree, "bench.notify_wave", env=wave_env)
        else:
            out = with_database("wave", lambda url: run(tree, "bench.notify_wave",
                                                        "--postgresql", url, env=wave_env))
        row(f"wave.opened to 2,000 members, {backend}", number(r"\(([\d.]+) mails/s\)", out),
            "mails/s", ">= 4x before (>= 200)", load)

    reports_args = ("--events", "200000", "--incremental-events", "20000", "--skip-rebuild")
    for backend in ("SQLite", "PostgreSQL"):
        load = os.getloadavg()[0]
        if backend == "SQLite":
            out = run(tree, "bench.reports_bench", *reports_args)
        else:
            out = with_database("reports", lambda url: run(tree, "bench.reports_bench",
                                                           *reports_args, "--postgresql", url))
        row(f"reports live path through the inbox, {backend}",
            number(r"live path[^\n]*= ([\d,]+) events/s", out), "events/s", ">= 5,000", load)
        row(f"digest over 100,000 members, service's path, {backend}",
            number(r"the service's path[^\n]*: ([\d.]+) s", out), "s", "< 3 s", load)

    print(f"\ntargets, services from {tree}")
    width = max(len(r[0]) for r in rows)
    print(f"  {'figure':{width}} | {'measured':>16} | {'target':22} | load")
    for name, value, target, load in rows:
        print(f"  {name:{width}} | {value:>16} | {target:22} | {load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
