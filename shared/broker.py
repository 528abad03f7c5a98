"""Publishing events to RabbitMQ with publisher confirms, a batch at a time.

A batch is published on one channel in order, then the publisher waits once for the broker's
confirms of the whole batch (acks may cover several messages at once), instead of a round trip
per message. What the broker confirmed, refused (a nack, or returned as unroutable) or left
unanswered (the connection lost, the wait timed out) is told message by message: only what it
confirmed is delivered.

The publisher owns one connection and drops it on any error, so a broker that went away and
came back is met with a fresh connection instead of a pooled one that is dead.
"""
from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NamedTuple

from amqp import Message
from amqp.exceptions import MessageNacked
from kombu import Connection, Producer

from shared import topology
from shared.events import CATALOGUE

log = logging.getLogger(__name__)


class Unroutable(Exception):
    """The broker had no queue for an event that has subscribers: the topology is missing."""


class Envelope(NamedTuple):
    """An event ready to publish: its type, its id and its envelope as JSON text (the outbox
    keeps that text: the relay publishes it as stored, without parsing it)."""

    type: str
    event_id: str
    body: str

    @classmethod
    def of(cls, message: dict) -> Envelope:
        return cls(message["type"], message["event_id"], json.dumps(message))


@dataclass
class Confirms:
    """What the broker said of a batch, by position in it: ``confirmed``, ``refused`` (nacked
    or unroutable, with why), and ``lost``: the error that ended the wait before the others
    were answered (they may or may not have reached the broker)."""

    confirmed: list[int] = field(default_factory=list)
    refused: dict[int, Exception] = field(default_factory=dict)
    lost: Exception | None = None


class EventPublisher:
    def __init__(self, amqp_uri: str, *, connect_timeout: float = 5.0,
                 confirm_timeout: float = 30.0):
        self.amqp_uri = amqp_uri
        self.connect_timeout = connect_timeout
        self.confirm_timeout = confirm_timeout
        self._connection: Connection | None = None
        self._channel = None
        self._producer: Producer | None = None
        self._tag = 0  # the delivery tag of the channel's last message (confirm mode counts)
        self._awaiting: dict[int, int] = {}  # delivery tag -> position in the batch
        self._positions: dict[str, int] = {}  # event id -> position, to place a return
        self._batch = Confirms()

    def publish(self, message: dict) -> None:
        """Publish one event envelope; returns once the broker has confirmed it."""
        confirms = self.publish_all([Envelope.of(message)])
        if confirms.refused:
            raise confirms.refused[0]
        if confirms.lost is not None:
            raise confirms.lost

    def publish_all(self, envelopes: Sequence[Envelope]) -> Confirms:
        """Publish the envelopes in order on one channel, then wait for the broker's confirms
        of all of them (at most ``confirm_timeout`` seconds)."""
        self._batch = batch = Confirms()
        self._awaiting = {}
        self._positions = {envelope.event_id: n for n, envelope in enumerate(envelopes)}
        try:
            if self._connection is None:
                self._connect()
            if self._producer is not None:
                self._publish_in_memory(envelopes)
                return batch
            with self._corked():
                for position, envelope in enumerate(envelopes):
                    self._send(envelope)
                    self._awaiting[self._tag] = position
            deadline = time.monotonic() + self.confirm_timeout
            while self._awaiting:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self._awaiting)} publisher confirms not received "
                                       f"in {self.confirm_timeout:g} s")
                self._connection.drain_events(timeout=left)
        except Exception as exc:
            # Unanswered: the connection cannot be trusted with the next batch either.
            batch.lost = exc
            self.close()
        if any(isinstance(e, Unroutable) for e in batch.refused.values()):
            self._redeclare()
        self._awaiting, self._positions = {}, {}
        return batch

    def close(self) -> None:
        connection, self._connection = self._connection, None
        self._channel = self._producer = None
        if connection is not None:
            try:
                connection.release()
            except Exception:  # a connection that already died cannot be closed cleanly
                log.debug("closing a dead broker connection", exc_info=True)

    def _send(self, envelope: Envelope) -> None:
        exchange, mandatory = _route(envelope.type)
        self._channel.basic_publish(
            Message(envelope.body.encode(), content_type="application/json",
                    content_encoding="utf-8", delivery_mode=2, message_id=envelope.event_id,
                    application_headers={}),
            exchange=exchange, routing_key=envelope.type, mandatory=mandatory,
        )
        self._tag += 1

    @contextmanager
    def _corked(self) -> Iterator[None]:
        """The batch's frames written to the socket at once, not a send per frame: py-amqp
        writes each message's frames with a system call of their own, a third of the
        relay's CPU per message on loopback. (py-amqp's transport writes through its
        ``_write``; where it has none, frames go out one by one as before.)"""
        transport = getattr(self._connection.connection, "_transport", None)
        write = getattr(transport, "_write", None)
        if write is None:
            yield
            return
        frames: list[bytes] = []
        # py-amqp hands over a view of the one buffer it reuses for every frame: copy it.
        transport._write = lambda frame: frames.append(bytes(frame))
        try:
            yield
        finally:
            transport._write = write
        write(b"".join(frames))

    def _publish_in_memory(self, envelopes: Sequence[Envelope]) -> None:
        for position, envelope in enumerate(envelopes):
            exchange, _ = _route(envelope.type)
            self._producer.publish(
                envelope.body, exchange=exchange,
                routing_key=envelope.type, content_type="application/json",
                content_encoding="utf-8", delivery_mode=2, message_id=envelope.event_id,
                retry=False)
            self._batch.confirmed.append(position)

    def _connect(self) -> None:
        connection = Connection(self.amqp_uri, connect_timeout=self.connect_timeout)
        connection.connect()
        self._connection = connection
        topology.declare(connection)
        if connection.transport.driver_type != "amqp":
            # kombu's in-memory transport (the embedded default): no confirms to wait for, a
            # message is delivered once published.
            self._producer = Producer(connection.channel())
            return
        channel = connection.channel()
        channel.confirm_select()
        channel.events["basic_ack"].add(self._acked)
        channel.events["basic_nack"].add(self._nacked)
        channel.events["basic_return"].add(self._returned)
        self._channel, self._tag = channel, 0

    def _acked(self, delivery_tag: int, multiple: bool) -> None:
        for position in self._answered(delivery_tag, multiple):
            # The broker acks an unroutable message too, after returning it.
            if position not in self._batch.refused:
                self._batch.confirmed.append(position)

    def _nacked(self, delivery_tag: int, multiple: bool) -> None:
        for position in self._answered(delivery_tag, multiple):
            self._batch.refused[position] = MessageNacked("the broker refused the message")

    def _returned(self, exc: Exception, exchange: str, routing_key: str, message) -> None:
        position = self._positions.get(message.properties.get("message_id"))
        if position is not None:
            self._batch.refused[position] = Unroutable(f"{routing_key}: no queue bound ({exc})")

    def _answered(self, delivery_tag: int, multiple: bool) -> list[int]:
        tags = ([t for t in self._awaiting if t <= delivery_tag] if multiple
                else [delivery_tag] if delivery_tag in self._awaiting else [])
        return [self._awaiting.pop(t) for t in tags]

    def _redeclare(self) -> None:
        try:
            topology.declare_on(self.amqp_uri)
        except Exception:
            log.exception("could not declare the topology")


@functools.cache
def _route(event_type: str) -> tuple[str, bool]:
    """Where an event type is published (its source's exchange), and whether the broker must
    return it unroutable: an event nobody subscribes to would be returned forever."""
    definition = CATALOGUE[event_type]
    return topology.exchange_of(definition.source).name, bool(definition.subscribers)
