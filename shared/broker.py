"""Publishing events to RabbitMQ (or kombu's in-memory transport) with publisher confirms.

The publisher owns one connection and drops it on any error, so a broker that went away and
came back is met with a fresh connection instead of a pooled one that is dead.
"""
from __future__ import annotations

import logging

from amqp.exceptions import ChannelError
from kombu import Connection, Producer

from shared import topology
from shared.events import CATALOGUE

log = logging.getLogger(__name__)


class Unroutable(Exception):
    """The broker had no queue for an event that has subscribers: the topology is missing."""


class EventPublisher:
    def __init__(self, amqp_uri: str, *, connect_timeout: float = 5.0):
        self.amqp_uri = amqp_uri
        self.connect_timeout = connect_timeout
        self._connection: Connection | None = None
        self._producer: Producer | None = None

    def publish(self, message: dict) -> None:
        """Publish one event envelope; returns once the broker has confirmed it."""
        event_type = CATALOGUE[message["type"]]
        # An event nobody subscribes to would be returned as unroutable forever.
        mandatory = bool(event_type.subscribers)
        try:
            producer = self._producer or self._connect()
            producer.publish(
                message,
                exchange=topology.exchange_of(event_type.source),
                routing_key=event_type.name,
                serializer="json",
                delivery_mode=2,
                mandatory=mandatory,
                retry=False,
            )
        except ChannelError as exc:
            self.close()
            if "NO_ROUTE" in str(exc):
                self._redeclare()
                raise Unroutable(f"{event_type.name}: no queue bound") from exc
            raise
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        connection, self._connection, self._producer = self._connection, None, None
        if connection is not None:
            try:
                connection.release()
            except Exception:  # a connection that already died cannot be closed cleanly
                log.debug("closing a dead broker connection", exc_info=True)

    def _connect(self) -> Producer:
        connection = Connection(
            self.amqp_uri,
            connect_timeout=self.connect_timeout,
            transport_options={"confirm_publish": True},
        )
        connection.connect()
        self._connection = connection
        topology.declare(connection)
        self._producer = Producer(connection.channel())
        return self._producer

    def _redeclare(self) -> None:
        try:
            topology.declare_on(self.amqp_uri)
        except Exception:
            log.exception("could not declare the topology")
