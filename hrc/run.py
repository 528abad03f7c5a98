"""Starting services: migrations and broker topology first, then one nameko container each."""
from __future__ import annotations

import importlib
import logging
import signal

import eventlet
from nameko.containers import ServiceContainer

from shared import topology
from shared.config import Settings
from shared.db import migrate
from shared.events import SERVICES

log = logging.getLogger("hrc")

SERVICE_CLASSES = {
    "intake": "IntakeService",
    "registry": "RegistryService",
    "notify": "NotifyService",
    "reports": "ReportsService",
}


def service_module(name: str):
    return importlib.import_module(f"services.{name}.service")


def setup(settings: Settings, names: list[str]) -> None:
    """Create or upgrade each service database, and declare every exchange and queue."""
    for name in names:
        migrate(settings.db_urls[name], service_module(name).MIGRATIONS)
    topology.declare_on(settings.amqp_uri)


def start(settings: Settings, names: list[str]) -> list[ServiceContainer]:
    """Start containers; each has its own config, so its own web server port."""
    setup(settings, names)
    containers = []
    for name in names:
        module = service_module(name)
        container = ServiceContainer(getattr(module, SERVICE_CLASSES[name]),
                                     settings.nameko_config(name))
        container.start()
        containers.append(container)
        log.info("%s started on port %s", name, settings.ports[name])
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
