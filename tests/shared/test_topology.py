"""The queues declared up front are the very queues nameko's handlers consume."""
from __future__ import annotations

import importlib

import pytest
from nameko.containers import ServiceContainer
from nameko.events import EventHandler

from hrc.run import SERVICE_CLASSES
from shared import topology
from shared.events import CATALOGUE, SERVICES, subscriptions


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_consumes_exactly_its_catalogue_queues(service):
    module = importlib.import_module(f"services.{service}.service")
    container = ServiceContainer(getattr(module, SERVICE_CLASSES[service]),
                                 {"AMQP_URI": "memory://", "DB_URL": "sqlite://"})
    handlers = [e for e in container.entrypoints if isinstance(e, EventHandler)]
    for handler in handlers:
        handler.setup()
    consumed = {(h.queue.name, h.queue.routing_key, h.queue.exchange.name,
                 h.queue.durable, h.queue.auto_delete, h.queue.exclusive) for h in handlers}
    declared = {(q.name, q.routing_key, q.exchange.name, q.durable, q.auto_delete, q.exclusive)
                for q in topology.queues() if q.name.split("--")[1].startswith(f"{service}.")}
    assert consumed == declared
    assert len(declared) == len(subscriptions(service))


def test_every_queue_is_bound_to_its_source_exchange():
    for queue in topology.queues():
        event_type = CATALOGUE[queue.routing_key]
        assert queue.exchange.name == f"{event_type.source}.events"
