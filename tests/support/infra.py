"""Real infrastructure for tests: a fresh RabbitMQ vhost, fresh PostgreSQL databases, an SMTP
server, and the services themselves as processes. Each test run gets its own, so several runs
(and several engineers) can share one machine."""
from __future__ import annotations

import email
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from email import policy
from email.message import EmailMessage
from pathlib import Path

import psycopg2
import requests

PROJECT = Path(__file__).resolve().parents[2]
RABBIT = ("127.0.0.1", 5672)
POSTGRES = ("127.0.0.1", 5432)
PG_ADMIN_DSN = os.environ.get("HRC_TEST_PG_ADMIN",
                              "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
PG_URL = os.environ.get("HRC_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/{name}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reachable(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=1):
            return True
    except OSError:
        return False


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Vhost:
    """A RabbitMQ virtual host of our own, removed afterwards."""

    def __init__(self):
        self.name = f"hrc-test-{uuid.uuid4().hex[:12]}"
        _rabbitmqctl("add_vhost", self.name)
        _rabbitmqctl("set_permissions", "-p", self.name, "guest", ".*", ".*", ".*")

    def uri(self, port: int = RABBIT[1]) -> str:
        return f"amqp://guest:guest@127.0.0.1:{port}/{self.name}"

    def drop(self) -> None:
        _rabbitmqctl("delete_vhost", self.name)


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


class PostgresDatabase:
    def __init__(self, label: str = "db"):
        self.name = f"hrc_t_{uuid.uuid4().hex[:10]}_{label}"
        self._admin(f'CREATE DATABASE "{self.name}"')
        self.url = PG_URL.format(name=self.name)

    def drop(self) -> None:
        from shared.db import _databases, _databases_lock

        with _databases_lock:
            database = _databases.pop(self.url, None)
        if database is not None:
            database.engine.dispose()
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    @staticmethod
    def _admin(statement: str) -> None:
        connection = psycopg2.connect(PG_ADMIN_DSN)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement)
        finally:
            connection.close()


class SmtpSink:
    """tests/support/smtp_sink.py in a process; messages are read back parsed."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "ready").unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.smtp_sink", "--port", str(self.port),
             "--dir", str(self.directory)], cwd=PROJECT)
        wait_for(lambda: (self.directory / "ready").exists(), 20, what="the SMTP sink")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def set_mode(self, mode: str) -> None:
        (self.directory / "mode").write_text(mode)

    def messages(self) -> list[tuple[list[str], EmailMessage]]:
        """(envelope recipients, parsed message) for every accepted message, in order."""
        found = []
        for path in sorted(self.directory.glob("*.eml")):
            recipients = path.with_suffix(".rcpt").read_text().split("\n")
            found.append((recipients, email.message_from_bytes(path.read_bytes(),
                                                                policy=policy.default)))
        return found


def read_eml_dir(directory: Path) -> list[EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted(directory.glob("*.eml"))]


class ServiceProcess:
    """``hrc run [services]`` in a subprocess with its own environment."""

    def __init__(self, services: list[str], env: dict[str, str], log_path: Path,
                 cwd: Path = PROJECT):
        self.services = services
        self.env = env
        self.log_path = log_path
        # Another checkout's services, with this virtualenv (bench/pipeline.py --tree).
        self.cwd = cwd
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.log_file = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hrc", "run", *self.services],
            cwd=self.cwd, env=self.env, stdout=self.log_file, stderr=subprocess.STDOUT)

    def wait_healthy(self, ports: list[int], timeout: float = 60) -> None:
        def healthy() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.services} exited:\n{self.log()}")
            try:
                return all(requests.get(f"http://127.0.0.1:{p}/health", timeout=2).status_code
                           == 200 for p in ports)
            except requests.RequestException:
                return False

        wait_for(healthy, timeout, 0.2, f"{self.services} to be healthy")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None
        if hasattr(self, "log_file"):
            self.log_file.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]


def base_env(var_dir: Path) -> dict[str, str]:
    """The parent environment without any HRC setting that would leak into a test system."""
    keep = {k: v for k, v in os.environ.items()
            if not (k.endswith("_DB_URL") or k.endswith("_PORT") or k.startswith("SMTP_")
                    or k.startswith("CONSOLE_")
                    or k in {"AMQP_URI", "STAFF_EMAILS", "MAIL_FROM", "STAFF_API_TOKENS",
                             "HRC_VAR_DIR", "DIGEST_SCHEDULE"})}
    keep.update(HRC_VAR_DIR=str(var_dir), PYTHONUNBUFFERED="1", BIND_HOST="127.0.0.1",
                INBOX_RETRY_BASE_SECONDS="0.2", RELAY_RETRY_BASE_SECONDS="0.2",
                RELAY_RETRY_MAX_SECONDS="2")
    keep.update({f"{s.upper()}_PORT": str(free_port())
                 for s in ("intake", "registry", "notify", "reports", "console")})
    return keep


def clean(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
