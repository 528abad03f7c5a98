"""The whole pipeline against its anchors, measured in one run on this machine.

    .venv/bin/python -m bench pipeline [--rates 5,10,20,40,80] [--seconds 10]
                                        [--notify-replicas 1] [--skip-anchors] [--hops]
                                        [--py-spy DIR] [--tree DIR]

1. Anchors: a bare nameko ``@http`` service answering the same JSON (bench/bare_http.py),
   saturated; a raw kombu round trip (publish with publisher confirms, one at a time as a relay
   does, to a durable queue; a consumer acks each).
2. Intake alone on PostgreSQL and RabbitMQ, saturated by the same client.
3. The four services as separate processes (``hrc run <service>``) on RabbitMQ + PostgreSQL with
   an aiosmtpd sink, under open-loop load at rising rates: request i is due at start + i/rate,
   latency counts from that due time. Each application has its own contact address, so its
   acknowledgement is the one mail the sink receives for that address; its arrival time is the
   file's mtime. Per rate: POST rate and p50/p99, acknowledgements/s, POST->acknowledgement
   p50/p95, CPU ms per application of each service process, doubled and missing.

The machine is shared: each figure carries the 1-minute load average when it was taken, and the
targets are ratios to the anchors of the same run. ``--tree DIR`` runs the services from
another checkout (say, the commit before a change) with this bench and this virtualenv.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from kombu import Connection, Consumer, Exchange, Producer, Queue

from bench import hops
from bench.intake_bench import EXAMPLE, process_cpu
from bench.intake_bench import Connection as HttpConnection
from tests.support import infra

SERVICES = ("intake", "registry", "notify", "reports")
_LETTERS = "bcdfghjklmnprstvz"
_VOWELS = "aeiou"


def government_name(number: int) -> str:
    """A name no other application resembles (the registry flags look-alikes as duplicates)."""
    rng = random.Random(number)
    return " ".join("".join(rng.choice(_LETTERS) + rng.choice(_VOWELS) for _ in range(3))
                    .capitalize() for _ in range(2))


def application(number: int, tag: str) -> bytes:
    return json.dumps({**EXAMPLE, "government_name": government_name(number),
                       "population": 1000 + number,
                       "contact_email": f"bench-{tag}-{number}@example.org"}).encode()


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def load() -> float:
    return os.getloadavg()[0]


def _processes_named(names: tuple[str, ...]) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in names:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def infrastructure_cpu() -> dict[str, float]:
    """CPU seconds so far of the broker and of PostgreSQL, so that a run can say what the whole
    machine spends per application, not only the four services. PostgreSQL's backends come and
    go: the postmaster's reaped children count with the live processes. Shared with anything
    else using them at the same time (other sessions' tests): read on a quiet machine."""
    def total(pids: list[int], children: bool) -> float:
        seconds = 0.0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks = int(fields[11]) + int(fields[12])
            if children and int(fields[1]) == 1:  # the postmaster: its exited backends too
                ticks += int(fields[13]) + int(fields[14])
            seconds += ticks / os.sysconf("SC_CLK_TCK")
        return seconds
    return {"broker": total(_processes_named(("beam.smp", "erl_child_setup")), False),
            "postgres": total(_processes_named(("postgres", "postmaster")), True)}


# --- HTTP load ------------------------------------------------------------------------------


def saturate(port: int, seconds: float, connections: int, body) -> tuple[float, float]:
    """The most 202s per second over open-loop rates doubling from 50/s until the answers fall
    behind; and the load average before. (A closed loop of many connections measures nameko's
    web server badly: its throughput falls as the connections grow.)"""
    best, rate, before, numbers = 0.0, 50.0, load(), itertools.count(0, 100_000)
    while rate <= 20_000:
        posts, elapsed = asyncio.run(offer(port, rate, seconds, connections, body, next(numbers)))
        achieved = sum(1 for p in posts if p.status == 202) / elapsed
        best = max(best, achieved)
        if achieved < 0.8 * rate:
            break
        rate *= 2
    return best, before


@dataclass
class Post:
    number: int
    due: float  # wall clock (time.time()), comparable with file mtimes
    status: int = 0
    latency: float = float("nan")


async def offer(port: int, rate: float, seconds: float, connections: int, body,
                first: int) -> tuple[list[Post], float]:
    """Open loop at ``rate``; returns every request and the seconds the offering took."""
    idle: asyncio.Queue[HttpConnection] = asyncio.Queue()
    for client in range(connections):
        idle.put_nowait(HttpConnection(port, client))
    total = int(rate * seconds)
    start = time.perf_counter() + 0.05
    wall = time.time() - time.perf_counter()
    posts = [Post(first + i, wall + start + i / rate) for i in range(total)]

    async def one(post: Post) -> None:
        connection = await idle.get()
        try:
            post.status = await connection.post(body(post.number))
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            connection.close()
        finally:
            idle.put_nowait(connection)
        post.latency = time.time() - post.due

    tasks = []
    for index, post in enumerate(posts):
        delay = start + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(post)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    while not idle.empty():
        idle.get_nowait().close()
    return posts, elapsed


# --- anchors --------------------------------------------------------------------------------


def bare_http_rate(seconds: float, connections: int) -> tuple[float, float]:
    with served_bare(connections) as (port, _process):
        return saturate(port, seconds, connections, lambda n: application(n, "bare"))


@contextlib.contextmanager
def served_bare(connections: int):
    """The bare @http anchor (bench/bare_http.py) in its own process, warmed up: yields its
    port and process."""
    port = infra.free_port()
    process = subprocess.Popen([sys.executable, "-m", "bench.bare_http", "--port", str(port)],
                               cwd=infra.PROJECT)
    try:
        infra.wait_for(lambda: infra.reachable(("127.0.0.1", port)), 30, what="bare @http")
        asyncio.run(offer(port, 100, 1, connections, lambda n: application(n, "warm"), 0))
        yield port, process
    finally:
        process.kill()  # stateless; nameko's graceful stop waits on idle keep-alive connections
        process.wait(10)


def kombu_round_trip(uri: str, count: int) -> tuple[float, float]:
    """The broker's own pace for what every hop of the pipeline does: a publish with publisher
    confirms to a durable queue, a consumer receives and acks it, and only then the next.
    Round trips per second, and the load average before."""
    exchange = Exchange("bench.anchor", "topic", durable=True)
    queue = Queue("bench.anchor", exchange, "anchor", durable=True)
    payload = {"event_id": "x" * 36, "type": "application.received", "version": 1,
               "occurred_at": "2026-12-01T00:00:00+00:00",
               "data": json.loads(application(0, "kombu"))}
    arrived = threading.Semaphore(0)
    stopping = threading.Event()
    with Connection(uri) as setup:
        queue(setup.channel()).declare()

    def consume() -> None:
        with Connection(uri) as connection:
            def on_message(body, message) -> None:
                message.ack()
                arrived.release()

            with Consumer(connection, [queue], callbacks=[on_message], accept=["json"],
                          prefetch_count=100):
                while not stopping.is_set():
                    try:
                        connection.drain_events(timeout=0.5)
                    except TimeoutError:
                        pass

    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    time.sleep(0.5)
    before = load()
    with Connection(uri, transport_options={"confirm_publish": True}) as connection:
        producer = Producer(connection.channel())

        def publish(number: int) -> None:
            producer.publish({**payload, "event_id": f"{number:036d}"}, exchange=exchange,
                             routing_key="anchor", serializer="json", delivery_mode=2,
                             mandatory=True, retry=False)

        began, infra_before = time.perf_counter(), infrastructure_cpu()
        for number in range(count):
            publish(number)
            arrived.acquire(timeout=10)
        round_trips = count / (time.perf_counter() - began)
        broker_ms = (infrastructure_cpu()["broker"] - infra_before["broker"]) / count * 1000
        # For comparison: confirmed publishes back to back, the consumer keeping up behind.
        began = time.perf_counter()
        for number in range(count):
            publish(count + number)
        for _ in range(count):
            arrived.acquire(timeout=10)
        pipelined = count / (time.perf_counter() - began)
    stopping.set()
    consumer.join(5)
    print(f"  (kombu, confirmed publishes back to back with the consumer behind: "
          f"{pipelined:.0f} msg/s; the broker's CPU per round trip: {broker_ms:.2f} ms)")
    return round_trips, before


# --- the project ----------------------------------------------------------------------------


@dataclass
class Step:
    rate: float
    posts: list[Post]
    offered_seconds: float
    acks: dict[str, list[float]]
    cpu: dict[str, float]
    load: float
    waited: float
    drained: bool = False
    tag: str = ""

    @property
    def accepted(self) -> list[Post]:
        return [p for p in self.posts if p.status == 202]

    def ack_delays(self) -> list[float]:
        return [self.acks[_email(p.number, self.tag)][0] - p.due for p in self.accepted
                if self.acks.get(_email(p.number, self.tag))]

    @property
    def acked(self) -> int:
        return sum(1 for p in self.accepted if self.acks.get(_email(p.number, self.tag)))

    @property
    def missing(self) -> int:
        return len(self.accepted) - self.acked

    @property
    def doubled(self) -> int:
        return sum(1 for p in self.accepted
                   if len(self.acks.get(_email(p.number, self.tag), [])) > 1)

    @property
    def acks_per_second(self) -> float:
        """Between the first and the last acknowledgement of this rate's applications."""
        times = [self.acks[_email(p.number, self.tag)][0] for p in self.accepted
                 if self.acks.get(_email(p.number, self.tag))]
        if len(times) < 2:
            return 0.0
        return (len(times) - 1) / max(1e-9, max(times) - min(times))

    @property
    def post_rate(self) -> float:
        return len(self.accepted) / self.offered_seconds

    def sustained(self) -> bool:
        return (self.missing == 0 and self.doubled == 0 and bool(self.accepted)
                and percentile(self.ack_delays(), 0.95) < 2.0)

    def line(self) -> str:
        latencies = [p.latency * 1000 for p in self.accepted]
        delays = self.ack_delays()
        apps = max(1, len(self.accepted))
        cpu = " ".join(f"{name} {seconds / apps * 1000:5.1f}" for name, seconds in self.cpu.items())
        cpu += f" all {sum(self.cpu.values()) / apps * 1000:5.1f}"
        refused = len(self.posts) - len(self.accepted)
        return (f"{self.rate:6.0f}/s | POST {self.post_rate:6.1f}/s p50 "
                f"{percentile(latencies, 0.5):6.1f} ms p99 {percentile(latencies, 0.99):7.1f} ms"
                f"{f' ({refused} not 202)' if refused else ''} | acks {self.acks_per_second:6.1f}/s"
                f" | POST->ack p50 {percentile(delays, 0.5):6.2f} s p95 "
                f"{percentile(delays, 0.95):6.2f} s | CPU ms/app {cpu} | doubled {self.doubled}"
                f" missing {self.missing}{'' if self.drained else ' (not drained)'} | load "
                f"{self.load:4.2f}")


def _email(number: int, tag: str) -> str:
    return f"bench-{tag}-{number}@example.org"


class AckWatcher:
    """Reads the sink's directory: every accepted mail, by envelope recipient, with its time."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.seen: set[str] = set()
        self.acks: dict[str, list[float]] = defaultdict(list)

    def scan(self) -> int:
        for path in self.directory.glob("*.eml"):
            if path.name in self.seen:
                continue
            self.seen.add(path.name)
            mtime = path.stat().st_mtime
            for recipient in path.with_suffix(".rcpt").read_text().split("\n"):
                self.acks[recipient.strip()].append(mtime)
        return len(self.seen)

    def wait(self, recipients: list[str], timeout: float, quiet: float) -> tuple[bool, float]:
        """Until every recipient has a mail, or none came for ``quiet`` seconds, or timeout."""
        began = time.monotonic()
        last_count, last_change = -1, began
        while time.monotonic() - began < timeout:
            count = self.scan()
            if all(self.acks.get(r) for r in recipients):
                return True, time.monotonic() - began
            if count != last_count:
                last_count, last_change = count, time.monotonic()
            elif time.monotonic() - last_change > quiet:
                break
            time.sleep(0.2)
        return False, time.monotonic() - began


class Pipeline:
    def __init__(self, tmp: Path, notify_replicas: int, tree: Path):
        self.tmp = tmp
        self.vhost = infra.Vhost()
        self.databases = {s: infra.PostgresDatabase(f"pipe_{s}") for s in SERVICES}
        self.sink = infra.SmtpSink(tmp / "smtp")
        env = infra.base_env(tmp / "var")
        env.update({f"{s.upper()}_DB_URL": d.url for s, d in self.databases.items()})
        env.update(AMQP_URI=self.vhost.uri(), SMTP_HOST="127.0.0.1",
                   STAFF_EMAILS="staff@example.org", MAIL_FROM="campaign@example.org",
                   INTAKE_RATE_LIMIT="100000000/minute")
        self.env = env
        self.tree = tree
        self.processes: dict[str, infra.ServiceProcess] = {}
        self.notify_replicas = notify_replicas

    @property
    def intake_port(self) -> int:
        return int(self.env["INTAKE_PORT"])

    def start(self) -> None:
        self.sink.start()
        self.env["SMTP_PORT"] = str(self.sink.port)
        # One at a time: each migrates its database and declares the topology first.
        for name in SERVICES:
            self._start(name, name, self.env)
        for replica in range(1, self.notify_replicas):
            env = {**self.env, "NOTIFY_PORT": str(infra.free_port())}
            self._start(f"notify{replica + 1}", "notify", env)

    def _start(self, label: str, service: str, env: dict[str, str]) -> None:
        process = infra.ServiceProcess([service], env, self.tmp / f"{label}.log", self.tree)
        process.start()
        process.wait_healthy([int(env[f"{service.upper()}_PORT"])], timeout=120)
        self.processes[label] = process

    def cpu(self) -> dict[str, float]:
        return {**{label: process_cpu(p.process.pid) for label, p in self.processes.items()},
                **infrastructure_cpu()}

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop()
        self.sink.stop()
        self.vhost.drop()
        for database in self.databases.values():
            database.drop()

    def profile(self, directory: Path, name: str) -> list[subprocess.Popen]:
        """py-spy on every service process until stopped: collapsed stacks per process (any flame
        graph tool reads them)."""
        directory.mkdir(parents=True, exist_ok=True)
        spy = Path(sys.executable).with_name("py-spy")
        return [subprocess.Popen([str(spy), "record", "--nonblocking", "--gil", "--rate", "50",
                                  "--format", "raw", "--pid", str(p.process.pid), "--output",
                                  str(directory / f"{label}-{name}.txt")],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for label, p in self.processes.items()]

    def hops(self, step: Step) -> list[str]:
        due = {_email(p.number, step.tag): p.due for p in step.accepted}
        sink = {e: step.acks[e][0] for e in due if step.acks.get(e)}
        return hops.report(hops.timelines({s: d.url for s, d in self.databases.items()}, due,
                                          sink))

    def tracebacks(self) -> list[str]:
        return [label for label, p in self.processes.items() if "Traceback" in p.log()]


def run_pipeline(args, tree: Path) -> list[Step]:
    steps: list[Step] = []
    with tempfile.TemporaryDirectory() as tmp:
        pipeline = Pipeline(Path(tmp), args.notify_replicas, tree)
        try:
            pipeline.start()
            watcher = AckWatcher(pipeline.sink.directory)
            tag = f"r{os.getpid()}"
            # Warm up: templates, catalogs, connection pools, JIT-free but cache-full.
            posts, _ = asyncio.run(offer(pipeline.intake_port, 5, 2, args.connections,
                                         lambda n: application(n, "warm"), 9_000_000))
            watcher.wait([_email(p.number, "warm") for p in posts if p.status == 202], 60, 20)
            first = 0
            for rate in args.rates:
                before_load, before_cpu = load(), pipeline.cpu()
                profilers = pipeline.profile(args.py_spy, f"{rate:g}") if args.py_spy else []
                posts, elapsed = asyncio.run(offer(pipeline.intake_port, rate, args.seconds,
                                                   args.connections,
                                                   lambda n: application(n, tag), first))
                accepted = [_email(p.number, tag) for p in posts if p.status == 202]
                drained, waited = watcher.wait(accepted, args.drain, 15)
                after_cpu = pipeline.cpu()
                for profiler in profilers:
                    profiler.send_signal(signal.SIGINT)  # py-spy writes its file and exits
                    profiler.wait(30)
                step = Step(rate, posts, elapsed, watcher.acks,
                            {k: after_cpu[k] - before_cpu[k] for k in after_cpu}, before_load,
                            waited, drained, tag)
                steps.append(step)
                print(f"  {step.line()}", flush=True)
                if args.hops:
                    print("\n".join(pipeline.hops(step)), flush=True)
                first += len(posts)
                if not drained:
                    break
            # Last look for late or second copies: nothing new for 10 s.
            everyone = [_email(p.number, tag) for s in steps for p in s.accepted]
            watcher.wait(everyone, args.final_wait, 10)
            time.sleep(2)
            watcher.scan()
            doubled = sum(1 for r in everyone if len(watcher.acks.get(r, [])) > 1)
            missing = sum(1 for r in everyone if not watcher.acks.get(r))
            print(f"  all rates: {len(everyone)} applications accepted, doubled {doubled}, "
                  f"missing {missing} (after waiting for the last ones)")
            if broken := pipeline.tracebacks():
                print(f"  tracebacks in the logs of: {', '.join(broken)}")
        finally:
            pipeline.stop()
    return steps


def intake_saturated(args, tree: Path) -> tuple[float, float]:
    with served_intake(tree, args.connections) as (port, _process):
        return saturate(port, args.saturate_seconds, args.connections,
                        lambda n: application(n, "sat"))


@contextlib.contextmanager
def served_intake(tree: Path, connections: int):
    """Intake alone from ``tree`` on a fresh PostgreSQL database and vhost, warmed up: yields
    its port and process."""
    vhost = infra.Vhost()
    database = infra.PostgresDatabase("sat_intake")
    with tempfile.TemporaryDirectory() as tmp:
        env = infra.base_env(Path(tmp) / "var")
        env.update(AMQP_URI=vhost.uri(), INTAKE_DB_URL=database.url,
                   INTAKE_RATE_LIMIT="100000000/minute")
        port = int(env["INTAKE_PORT"])
        service = infra.ServiceProcess(["intake"], env, Path(tmp) / "intake.log", tree)
        service.start()
        try:
            service.wait_healthy([port], timeout=120)
            asyncio.run(offer(port, 50, 1, connections, lambda n: application(n, "warm"),
                              10_000_000))
            yield port, service.process
        finally:
            service.stop()
            vhost.drop()
            database.drop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="5,10,20,40,80",
                        type=lambda s: [float(r) for r in s.split(",")])
    parser.add_argument("--seconds", type=float, default=10.0, help="per rate")
    parser.add_argument("--drain", type=float, default=45.0,
                        help="longest wait for a rate's acknowledgements after its last POST")
    parser.add_argument("--final-wait", type=float, default=120.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--saturate-seconds", type=float, default=2.0, help="per rate")
    parser.add_argument("--kombu-messages", type=int, default=2000)
    parser.add_argument("--notify-replicas", type=int, default=1)
    parser.add_argument("--skip-anchors", action="store_true")
    parser.add_argument("--py-spy", type=Path, metavar="DIR",
                        help="profile each service process per rate into DIR (pip install py-spy)")
    parser.add_argument("--hops", action="store_true",
                        help="per rate, where an application waits hop by hop (bench/hops.py)")
    parser.add_argument("--skip-intake", action="store_true")
    parser.add_argument("--tree", type=Path, default=infra.PROJECT,
                        help="the checkout whose services run (default: this one)")
    args = parser.parse_args(argv)
    tree = args.tree.resolve()
    print(f"pipeline bench: services from {tree}, {args.notify_replicas} notify replica(s), "
          f"{os.cpu_count()} CPUs, load {load():.2f}", flush=True)

    anchors = {}
    if not args.skip_anchors:
        anchors["http"] = bare_http_rate(args.saturate_seconds, args.connections)
        print(f"anchor: bare nameko @http, saturated: {anchors['http'][0]:.0f} req/s "
              f"(load {anchors['http'][1]:.2f})", flush=True)
        vhost = infra.Vhost()
        try:
            rate, before = kombu_round_trip(vhost.uri(), args.kombu_messages)
        finally:
            vhost.drop()
        anchors["kombu"] = (rate, before)
        print(f"anchor: raw kombu round trip with publisher confirms: {rate:.0f} msg/s "
              f"(load {before:.2f})", flush=True)
    intake = None
    if not args.skip_intake:
        intake = intake_saturated(args, tree)
        print(f"intake alone (PostgreSQL, RabbitMQ), saturated: {intake[0]:.0f} 202/s "
              f"(load {intake[1]:.2f})", flush=True)

    print("pipeline (4 services as processes, RabbitMQ + PostgreSQL + aiosmtpd), open loop:",
          flush=True)
    steps = run_pipeline(args, tree)

    print("\ntargets (ratios to the anchors of this run)")
    sustained = [s for s in steps if s.sustained()]
    best = max(sustained, key=lambda s: s.acks_per_second, default=None)
    if best is not None:
        delays = best.ack_delays()
        print(f"  end to end, best rate with p95 < 2 s, 0 doubled, 0 missing: "
              f"{best.acks_per_second:.1f} acks/s at {best.rate:.0f}/s offered "
              f"(p95 {percentile(delays, 0.95):.2f} s, load {best.load:.2f})")
    else:
        print("  end to end: no rate met p95 < 2 s with 0 doubled and 0 missing")
    top = max(steps, key=lambda s: s.acks_per_second, default=None)
    if top is not None:
        print(f"  end to end, highest acknowledgement rate at any latency: "
              f"{top.acks_per_second:.1f} acks/s at {top.rate:.0f}/s offered")
    if "kombu" in anchors and best is not None:
        print(f"  ratio end to end / kombu round trip: "
              f"{best.acks_per_second / anchors['kombu'][0]:.1%} (target >= 30%)")
    if "kombu" in anchors and top is not None:
        print(f"  ratio highest acknowledgement rate / kombu round trip: "
              f"{top.acks_per_second / anchors['kombu'][0]:.1%}")
    if "http" in anchors and intake is not None:
        print(f"  ratio intake saturated / bare @http: {intake[0] / anchors['http'][0]:.1%} "
              f"(target >= 30%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
