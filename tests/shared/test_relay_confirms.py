"""The relay's batches on the real RabbitMQ: a row is marked sent only once the broker has
confirmed it. What the broker refuses (a nack) or leaves unanswered (the connection lost while
waiting for the confirms) stays pending and is published later; a copy that reached the broker
unconfirmed is published again, for the consumers' inboxes to drop by event id."""
from __future__ import annotations

import pytest
from amqp.exceptions import MessageNacked
from kombu import Connection, Queue
from sqlalchemy import select

from shared import topology
from shared.broker import EventPublisher
from shared.events import CATALOGUE, new_event
from shared.outbox import OutboxRow, Relay, record
from shared.retry import Backoff

pytestmark = pytest.mark.real


def _record(database, count: int) -> list[str]:
    events = [new_event("wave.closed", {"number": n}) for n in range(count)]
    with database.transaction() as session:
        record(session, *events)
    return [e.event_id for e in events]


def _sent(database) -> list[bool]:
    with database.transaction() as session:
        return [r.sent_at is not None
                for r in session.scalars(select(OutboxRow).order_by(OutboxRow.id))]


def _queue(name: str = "", **arguments) -> Queue:
    definition = CATALOGUE["wave.closed"]
    if not name:
        return next(q for q in topology.queues()
                    if q.name == topology.queue_name(definition, "reports"))
    return Queue(name, exchange=topology.exchange_of(definition.source),
                 routing_key=definition.name, durable=True, queue_arguments=arguments)


def _drain(uri: str) -> list[str]:
    received = []
    with Connection(uri) as connection:
        queue = _queue()(connection.default_channel)
        while (message := queue.get(no_ack=True)) is not None:
            received.append(message.payload["event_id"])
    return received


def test_rows_the_broker_nacks_stay_pending_and_are_published_later(rabbitmq, database):
    topology.declare_on(rabbitmq.uri())
    # A second queue for the same events that takes two, then makes the broker refuse
    # (nack) every further publish routed to it.
    full = _queue("full-after-two", **{"x-max-length": 2, "x-overflow": "reject-publish"})
    with Connection(rabbitmq.uri()) as connection:
        full(connection.default_channel).declare()
    publisher = EventPublisher(rabbitmq.uri())
    relay = Relay(database, publisher.publish_all, backoff=Backoff(0.0, 0.0))
    event_ids = _record(database, 6)

    sent, failure = relay.relay_due()
    assert sent == 2 and isinstance(failure, MessageNacked)
    assert _sent(database) == [True, True, False, False, False, False]
    with database.transaction() as session:
        attempts = [r.attempts for r in session.scalars(select(OutboxRow).order_by(OutboxRow.id))]
    assert attempts == [0, 0, 1, 1, 1, 1]

    with Connection(rabbitmq.uri()) as connection:
        full(connection.default_channel).delete()
    assert relay.relay_due() == (4, None)
    assert relay.pending() == 0
    publisher.close()
    # The refused ones reached the other queue too: copies, dropped by event id downstream.
    assert set(_drain(rabbitmq.uri())) == set(event_ids)


class _CutWhileWaiting(EventPublisher):
    """Takes the broker away once the batch is written, before any confirm is read."""

    def __init__(self, proxy, **options):
        super().__init__(proxy.amqp_uri, **options)
        self.proxy = proxy
        self.cut = False

    def _connect(self) -> None:
        super()._connect()
        drain = self._connection.drain_events

        def drain_events(**kwargs):
            if not self.cut:
                self.cut = True
                self.proxy.down()
            return drain(**kwargs)

        self._connection.drain_events = drain_events


def test_a_connection_lost_before_the_confirms_marks_nothing_sent_and_publishes_again(
        broker_proxy, rabbitmq, database):
    topology.declare_on(rabbitmq.uri())
    publisher = _CutWhileWaiting(broker_proxy, connect_timeout=1, confirm_timeout=5)
    relay = Relay(database, publisher.publish_all, backoff=Backoff(0.0, 0.0))
    event_ids = _record(database, 20)

    sent, failure = relay.relay_due()
    assert sent == 0 and failure is not None and publisher.cut
    assert _sent(database) == [False] * 20
    assert relay.pending() == 20

    broker_proxy.up()
    assert relay.relay_due() == (20, None)
    assert _sent(database) == [True] * 20
    publisher.close()
    received = _drain(rabbitmq.uri())
    assert set(received) == set(event_ids)
    assert len(received) <= 40  # at most one copy more of each: those the broker got unconfirmed
