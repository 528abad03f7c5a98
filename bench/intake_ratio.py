"""Issue 11's intake target alone: intake saturated on PostgreSQL against the bare nameko
``@http`` anchor, measured in the same run, for one checkout or several back to back.

    .venv/bin/python -m bench intake_ratio [--tree DIR ...] [--rounds 2] [--seconds 2]
                                            [--py-spy DIR] [--fixed RATE]

Each round measures the anchor (bench/bare_http.py), then intake from each ``--tree`` in turn
(default: this checkout), with bench/pipeline.py's saturation (open loop, rates doubling from
50/s until the answers fall behind; the best 202/s). Rounds alternate A B A B so that a change
of the machine's load falls on both sides. Prints per measurement the rate, its p99 at the best
rate, intake's CPU ms per submission and the load average; then the ratio per tree.
``--py-spy DIR`` records intake's process during its saturation (``py-spy record -f raw``) and
prints the top frames. ``--fixed RATE`` offers intake that one rate (below saturation) for
``--seconds`` instead, and prints only its CPU per submission: the steadier figure on a busy
machine, where a saturation search lands on one step or the next.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench.intake_bench import process_cpu
from bench.pipeline import application, offer, served_bare, served_intake
from tests.support import infra


def saturate(port: int, seconds: float, connections: int, pid: int | None = None,
             step: float = 2.0):
    """(best 202/s, its p99 ms, CPU ms per 202 at that rate): rates from 50/s, times ``step``
    each time, until the answers fall behind."""
    best, rate, numbers = (0.0, float("nan"), float("nan")), 50.0, iter(range(0, 10**9, 100_000))
    while rate <= 20_000:
        cpu = process_cpu(pid) if pid else 0.0
        posts, elapsed = asyncio.run(offer(port, rate, seconds, connections,
                                           lambda n: application(n, "sat"), next(numbers)))
        accepted = sorted(p.latency for p in posts if p.status == 202)
        achieved = len(accepted) / elapsed
        if achieved > best[0]:
            p99 = accepted[min(len(accepted) - 1, int(0.99 * len(accepted)))] * 1000
            spent = (process_cpu(pid) - cpu) * 1000 / max(1, len(accepted)) if pid else 0.0
            best = (achieved, p99, spent)
        if achieved < 0.8 * rate:
            break
        rate *= step
    return best


def at_rate(port: int, rate: float, seconds: float, connections: int, pid: int):
    """(202/s, p99 ms, CPU ms per 202) at one offered rate below saturation: the CPU per
    submission without the saturation search's luck of which step it lands on."""
    cpu = process_cpu(pid)
    posts, elapsed = asyncio.run(offer(port, rate, seconds, connections,
                                       lambda n: application(n, "fixed"), 0))
    accepted = sorted(p.latency for p in posts if p.status == 202)
    p99 = accepted[min(len(accepted) - 1, int(0.99 * len(accepted)))] * 1000 if accepted else 0
    return (len(accepted) / elapsed, p99,
            (process_cpu(pid) - cpu) * 1000 / max(1, len(accepted)))


def intake(tree: Path, seconds: float, connections: int, spy: Path | None, step: float,
           fixed: float | None = None):
    with served_intake(tree, connections) as (port, process):
        def measure():
            if fixed is not None:
                return at_rate(port, fixed, seconds, connections, process.pid)
            return saturate(port, seconds, connections, process.pid, step)

        if spy is None:
            return measure()
        # --gil: only what holds the interpreter, the CPU the greenthreads compete for.
        recorder = subprocess.Popen(
            [str(Path(sys.executable).parent / "py-spy"), "record", "--gil", "-f", "raw",
             "-r", "200", "-o", str(spy), "--pid", str(process.pid)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            return measure()
        finally:
            recorder.send_signal(signal.SIGINT)
            recorder.wait(30)


def top_frames(raw: Path, count: int = 25) -> list[tuple[str, float, float]]:
    """The frames in most samples (inclusive share, self share), from py-spy's raw (collapsed
    stacks) output."""
    inclusive, own, total = Counter(), Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        frames = stack.split(";")
        total += int(samples)
        own[frames[-1]] += int(samples)
        for frame in set(frames):
            inclusive[frame] += int(samples)
    return [(frame, n / total, own[frame] / total) for frame, n in inclusive.most_common(count)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, action="append")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=2.0, help="per rate")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--step", type=float, default=2.0,
                        help="rate factor between steps (bench pipeline doubles)")
    parser.add_argument("--py-spy", type=Path, metavar="DIR")
    parser.add_argument("--fixed", type=float, metavar="RATE",
                        help="intake at this one rate (below saturation) for --seconds: its "
                             "CPU per submission, no anchor, no ratio")
    args = parser.parse_args(argv)
    if args.fixed is not None:
        return fixed_rate(args)
    trees = [t.resolve() for t in (args.tree or [infra.PROJECT])]
    ratios: dict[Path, list[float]] = {t: [] for t in trees}
    for round_ in range(args.rounds):
        load = os.getloadavg()[0]
        with served_bare(args.connections) as (port, process):
            anchor, p99, cpu = saturate(port, args.seconds, args.connections, process.pid,
                                        args.step)
        print(f"round {round_ + 1}: bare @http {anchor:7.0f} req/s  p99 {p99:6.1f} ms  "
              f"CPU {cpu:4.2f} ms each                 (load {load:.2f})", flush=True)
        for index, tree in enumerate(trees):
            spy = _spy_file(args.py_spy, index, round_)
            load = os.getloadavg()[0]
            rate, p99, cpu = intake(tree, args.seconds, args.connections, spy, args.step)
            ratios[tree].append(rate / anchor)
            print(f"round {round_ + 1}: intake    {rate:7.0f} 202/s  p99 {p99:6.1f} ms  "
                  f"CPU {cpu:4.2f} ms each  {rate / anchor:6.1%} of bare  (load {load:.2f})  "
                  f"{tree}", flush=True)
            _print_profile(spy)
    for tree, found in ratios.items():
        print(f"intake / bare @http: {', '.join(f'{r:.1%}' for r in found)}  {tree}")
    return 0


def fixed_rate(args) -> int:
    trees = [t.resolve() for t in (args.tree or [infra.PROJECT])]
    spent: dict[Path, list[float]] = {t: [] for t in trees}
    for round_ in range(args.rounds):
        for index, tree in enumerate(trees):
            load = os.getloadavg()[0]
            spy = _spy_file(args.py_spy, index, round_)
            rate, p99, cpu = intake(tree, args.seconds, args.connections, spy, args.step,
                                    args.fixed)
            spent[tree].append(cpu)
            print(f"round {round_ + 1}: intake at {args.fixed:g}/s: {rate:6.1f} 202/s  p99 "
                  f"{p99:6.1f} ms  CPU {cpu:4.2f} ms each  (load {load:.2f})  {tree}",
                  flush=True)
            _print_profile(spy)
    for tree, found in spent.items():
        print(f"intake CPU ms per submission at {args.fixed:g}/s: "
              f"{', '.join(f'{c:.2f}' for c in found)}  {tree}")
    return 0


def _spy_file(directory: Path | None, index: int, round_: int) -> Path | None:
    if directory is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"intake-{index}-{round_ + 1}.txt"


def _print_profile(spy: Path | None) -> None:
    if spy is not None and spy.exists():
        for frame, share, alone in top_frames(spy):
            print(f"    {share:6.1%} {alone:6.1%} self  {frame}")


if __name__ == "__main__":
    sys.exit(main())
