"""The broker topology of the event catalogue, declared before anything is published (rule 3).

Names and arguments match what nameko's ``event_handler`` declares itself, so a queue declared
here while its consumer is down is the very queue the consumer reads when it starts.
"""
from __future__ import annotations

from kombu import Connection, Exchange, Queue
from nameko.standalone.events import get_event_exchange

from shared.events import CATALOGUE, EventType


def exchange_of(source_service: str) -> Exchange:
    return get_event_exchange(source_service, {})


def queue_name(event_type: EventType, subscriber: str) -> str:
    return f"evt-{event_type.source}-{event_type.name}--{subscriber}.{event_type.handler_name}"


def queues() -> list[Queue]:
    return [
        Queue(
            queue_name(event_type, subscriber),
            exchange=exchange_of(event_type.source),
            routing_key=event_type.name,
            durable=True,
            auto_delete=False,
            exclusive=False,
        )
        for event_type in CATALOGUE.values()
        for subscriber in event_type.subscribers
    ]


def declare(connection: Connection) -> None:
    """Declare every exchange and durable queue of the catalogue on an open connection."""
    channel = connection.default_channel
    for source in sorted({t.source for t in CATALOGUE.values()}):
        exchange_of(source)(channel).declare()
    for queue in queues():
        queue(channel).declare()


def declare_on(amqp_uri: str) -> None:
    with Connection(amqp_uri, connect_timeout=5) as connection:
        connection.ensure_connection(max_retries=3)
        declare(connection)
