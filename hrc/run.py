"""Starting services: migrations and broker topology first, then one nameko container each."""
from __future__ import annotations

import dataclasses
import importlib
import logging
import signal

import eventlet
from nameko.containers import ServiceContainer

from shared import topology
from shared.config import Settings
from shared.db import migrate
from shared.events import SERVICES
from shared.staff_tokens import generate_token

log = logging.getLogger("hrc")

SERVICE_CLASSES = {
    "intake": "IntakeService",
    "registry": "RegistryService",
    "notify": "NotifyService",
    "reports": "ReportsService",
    "console": "ConsoleService",
}


class MissingConsoleToken(SystemExit):
    pass


def with_console_token(settings: Settings, names: list[str]) -> Settings:
    """The console acts with a staff token of its own, which the registry and reports know.

    Configured (CONSOLE_STAFF_TOKEN, or a ``console:`` item of STAFF_API_TOKENS) it is the same
    for every process of a deployment. Unset, and with the console, the registry and the reports
    in this one process, a fresh one is made in memory for this run: nothing to configure, no
    secret at rest. Otherwise the console could not be trusted by the others: refuse to start.
    """
    if "console" not in names or settings.console_token:
        return settings
    if {"registry", "reports"} <= set(names):
        return dataclasses.replace(settings, console_token=generate_token())
    raise MissingConsoleToken(
        "hrc run console: set CONSOLE_STAFF_TOKEN to a long random secret, and give the registry "
        "and the reports the same value (CONSOLE_STAFF_TOKEN, or `console:<secret>` in "
        "STAFF_API_TOKENS)")


def service_module(name: str):
    return importlib.import_module(f"services.{name}.service")


def setup(settings: Settings, names: list[str]) -> None:
    """Create or upgrade each service database, and declare every exchange and queue."""
    for name in names:
        migrate(settings.db_urls[name], service_module(name).MIGRATIONS)
    topology.declare_on(settings.amqp_uri)


def start(settings: Settings, names: list[str]) -> list[ServiceContainer]:
    """Start containers; each has its own config, so its own web server port."""
    settings = with_console_token(settings, names)
    setup(settings, names)
    containers = []
    for name in names:
        module = service_module(name)
        container = ServiceContainer(getattr(module, SERVICE_CLASSES[name]),
                                     settings.nameko_config(name))
        container.start()
        containers.append(container)
        log.info("%s started on port %s", name, settings.ports[name])
    if "console" in names:
        print(f"*** Staff console: {settings.console_url}  (staff start here)", flush=True)
    return containers


def run(settings: Settings, names: list[str] | None = None) -> None:
    names = names or list(SERVICES)
    containers = start(settings, names)
    stopping = eventlet.event.Event()

    def stop(signum, _frame):
        log.info("stopping (signal %s)", signum)
        if not stopping.ready():
            stopping.send(True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    watchers = [eventlet.spawn(container.wait) for container in containers]
    try:
        while not stopping.ready():
            if any(w.dead for w in watchers):
                log.error("a service container died; stopping the rest")
                break
            with eventlet.Timeout(0.5, False):
                stopping.wait()
    finally:
        for container in containers:
            container.stop()
