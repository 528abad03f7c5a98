"""Intake under load: valid JSON submissions at fixed request rates, on SQLite and PostgreSQL.

    .venv/bin/python -m bench intake [--rates 100,200,300,400] [--seconds 10]
                                      [--backends sqlite,postgresql] [--connections 64]

Runs ``hrc run intake`` in its own process against the real RabbitMQ (a fresh vhost: the relay
publishes every event with publisher confirms) and a fresh SQLite file or PostgreSQL database.
The load client is open-loop: request i is due at start + i/rate whatever happened before, and
its latency counts from that due time, so a slow server cannot hide its queue (no coordinated
omission). Prints, per rate: the submissions answered 202 per second over the run, p50/p99/max
latency, and anything that was not a 202. The per-client rate limit stays on (set high enough
not to refuse): its counter upsert is part of every request, as in production, and each
connection comes from its own loopback address, as many applicants would.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import infra

EXAMPLE = json.loads((infra.PROJECT / "docs" / "example-application.json").read_text())


@dataclass
class Run:
    rate: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    # CPU seconds intake's process used per accepted submission, relay included; and the
    # machine's load average when the run started (other processes share the two cores).
    cpu_per_submission: float = float("nan")
    load: float = float("nan")

    @property
    def accepted_per_second(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, fraction: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    def line(self) -> str:
        failures = ", ".join(f"{k}: {v}" for k, v in sorted(self.failures.items())) or "none"
        return (f"{self.rate:>6}/s offered | {self.accepted_per_second:7.1f} 202/s | "
                f"p50 {self.percentile(0.50):7.1f} ms | p99 {self.percentile(0.99):7.1f} ms | "
                f"max {max(self.latencies, default=float('nan')) * 1000:7.1f} ms | "
                f"intake CPU {self.cpu_per_submission * 1000:4.2f} ms/submission | "
                f"load {self.load:4.2f} | not 202: {failures}")


def submission(number: int) -> bytes:
    """A distinct valid application (a repeat would be answered without being stored)."""
    return json.dumps({**EXAMPLE, "government_name": f"Bench city {number}",
                       "population": 1000 + number}).encode()


class Connection:
    """One keep-alive HTTP/1.1 connection, one request at a time, from its own loopback address
    (127.0.0.0/8 is all loopback): each connection is another applicant to the rate limit."""

    def __init__(self, port: int, client: int = 0):
        self.port = port
        self.source = (f"127.0.{client // 250}.{2 + client % 250}", 0)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                "127.0.0.1", self.port, local_addr=self.source)
        self.writer.write(
            b"POST /applications HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode() + body
        )
        await self.writer.drain()
        status_line = await self.reader.readline()
        length, closing = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                closing = True
        await self.reader.readexactly(length)
        if closing:
            self.close()
        return int(status_line.split()[1])

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def offer(port: int, rate: int, seconds: float, connections: int, first: int) -> Run:
    run = Run(rate, seconds)
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for client in range(connections):
        idle.put_nowait(Connection(port, client))
    total = int(rate * seconds)
    start = time.perf_counter() + 0.05

    async def one(number: int) -> None:
        due = start + number / rate
        connection = await idle.get()
        try:
            status = await connection.post(submission(first + number))
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            connection.close()
            run.failures[type(exc).__name__] = run.failures.get(type(exc).__name__, 0) + 1
            return
        finally:
            idle.put_nowait(connection)
        if status == 202:
            run.latencies.append(time.perf_counter() - due)
        else:
            run.failures[str(status)] = run.failures.get(str(status), 0) + 1

    tasks = []
    for number in range(total):
        delay = start + number / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(number)))
    await asyncio.gather(*tasks)
    run.elapsed = time.perf_counter() - start
    while not idle.empty():
        idle.get_nowait().close()
    return run


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(backend: str, rates: list[int], seconds: float, connections: int,
            workers: int) -> list[Run]:
    vhost = infra.Vhost()
    database = infra.PostgresDatabase("bench") if backend == "postgresql" else None
    with tempfile.TemporaryDirectory() as tmp:
        env = infra.base_env(Path(tmp) / "var")
        env.update(AMQP_URI=vhost.uri(), INTAKE_RATE_LIMIT="100000000/minute",
                   MAX_WORKERS=str(workers))
        if database is not None:
            env["INTAKE_DB_URL"] = database.url
        port = int(env["INTAKE_PORT"])
        service = infra.ServiceProcess(["intake"], env, Path(tmp) / "intake.log")
        service.start()
        try:
            service.wait_healthy([port])
            asyncio.run(offer(port, 50, 2, connections, 10_000_000))  # warm up
            runs, first = [], 0
            for rate in rates:
                load, cpu = os.getloadavg()[0], process_cpu(service.process.pid)
                run = asyncio.run(offer(port, rate, seconds, connections, first))
                run.load = load
                run.cpu_per_submission = ((process_cpu(service.process.pid) - cpu)
                                          / max(1, len(run.latencies)))
                runs.append(run)
                first += rate * int(seconds) + 1
                print(f"  {backend:10} {runs[-1].line()}", flush=True)
        finally:
            service.stop()
            vhost.drop()
            if database is not None:
                database.drop()
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="100,200,300,400")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=10, help="intake's MAX_WORKERS")
    args = parser.parse_args(argv)
    rates = [int(r) for r in args.rates.split(",")]
    print(f"intake: valid JSON submissions, {args.seconds:g} s per rate, "
          f"{args.connections} keep-alive connections, MAX_WORKERS={args.workers}")
    summary = []
    for backend in args.backends.split(","):
        for run in measure(backend, rates, args.seconds, args.connections, args.workers):
            summary.append((backend, run))
    print("\nsummary (target on PostgreSQL: >= 300 submissions/s with p99 < 100 ms)")
    for backend, run in summary:
        print(f"  {backend:10} {run.line()}")
    best = [r for b, r in summary if b == "postgresql" and r.percentile(0.99) < 100]
    if best:
        top = max(best, key=lambda r: r.accepted_per_second)
        print(f"  PostgreSQL, best sustained with p99 < 100 ms: "
              f"{top.accepted_per_second:.0f}/s (p99 {top.percentile(0.99):.1f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
