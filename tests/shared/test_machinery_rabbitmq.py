"""The reliability rules on the real RabbitMQ, with a service container in this process.

The consuming service is called ``reports`` so that its queues are the catalogue's; its only
handler (``wave.closed``) writes one effect row per event and fails on demand.
"""
from __future__ import annotations

import pytest
from kombu import Connection
from nameko.containers import ServiceContainer
from sqlalchemy import Integer, String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared import db as shared_db
from shared import inbox, topology
from shared.broker import EventPublisher
from shared.events import CATALOGUE, new_event
from shared.inbox import InboxRow
from shared.outbox import Relay, record
from shared.reliability import Inbox, subscribed
from shared.retry import Backoff
from tests.support.infra import wait_for

pytestmark = pytest.mark.real


class Base(DeclarativeBase):
    pass


class Effect(Base):
    __tablename__ = "effects"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)


class Faults:
    def __init__(self):
        self.fail_first = 0
        self.always = False
        self.calls = 0


def handlers(config):
    faults: Faults = config["FAULTS"]

    def close_wave(event, session):
        faults.calls += 1
        if faults.always or faults.calls <= faults.fail_first:
            raise RuntimeError(f"injected failure {faults.calls}")
        session.add(Effect(event_id=event.event_id))

    return {"wave.closed": close_wave}


@subscribed
class Consumer:
    name = "reports"
    inbox = Inbox(handlers)


@pytest.fixture
def database(tmp_path):
    url = f"sqlite:///{tmp_path}/consumer.db"
    database = shared_db.database_for(url)
    shared_db.Base.metadata.create_all(database.engine)
    Base.metadata.create_all(database.engine)
    yield database
    shared_db.dispose_all()


@pytest.fixture
def consumer(rabbitmq, database):
    faults = Faults()
    container = ServiceContainer(Consumer, {
        "AMQP_URI": rabbitmq.uri(), "DB_URL": database.url, "FAULTS": faults,
        "INBOX_MAX_ATTEMPTS": 5, "INBOX_RETRY_BASE_SECONDS": 0.05,
        "INBOX_RETRY_MAX_SECONDS": 0.2, "INBOX_POLL_SECONDS": 0.05,
    })
    container.faults = faults
    yield container
    container.stop()


def _effects(database) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(Effect))


def _inbox(database) -> list[InboxRow]:
    with database.transaction() as session:
        return list(session.scalars(select(InboxRow).order_by(InboxRow.id)))


def test_an_event_published_while_its_consumer_is_stopped_is_handled_when_it_starts(
        rabbitmq, consumer, database):
    publisher = EventPublisher(rabbitmq.uri())
    publisher.publish(new_event("wave.closed", {"number": 3}).as_message())
    publisher.close()
    assert _effects(database) == 0

    consumer.start()
    wait_for(lambda: _effects(database) == 1, 20, what="the event to be handled")


def test_the_same_event_delivered_twice_has_one_effect(rabbitmq, consumer, database):
    consumer.start()
    message = new_event("wave.closed", {"number": 3}).as_message()
    publisher = EventPublisher(rabbitmq.uri())
    publisher.publish(message)
    publisher.publish(message)
    publisher.close()
    wait_for(lambda: _effects(database) == 1, 20, what="the event to be handled")
    wait_for(lambda: _queue_depth(rabbitmq.uri(), "wave.closed") == 0, 20, what="both acks")
    assert _effects(database) == 1
    assert [row.event_id for row in _inbox(database)] == [message["event_id"]]


def test_a_handler_that_fails_three_times_then_succeeds_has_one_effect(
        rabbitmq, consumer, database):
    consumer.faults.fail_first = 3
    consumer.start()
    publisher = EventPublisher(rabbitmq.uri())
    publisher.publish(new_event("wave.closed", {"number": 3}).as_message())
    publisher.close()
    wait_for(lambda: _effects(database) == 1, 20, what="the fourth attempt to succeed")
    assert consumer.faults.calls == 4
    (row,) = _inbox(database)
    assert (row.status, row.attempts) == ("done", 4)


def test_an_event_that_always_fails_is_parked_then_replayed_once_fixed(
        rabbitmq, consumer, database):
    consumer.faults.always = True
    consumer.start()
    message = new_event("wave.closed", {"number": 3}).as_message()
    publisher = EventPublisher(rabbitmq.uri())
    publisher.publish(message)
    publisher.close()
    wait_for(lambda: [r.status for r in _inbox(database)] == ["parked"], 20,
             what="the event to be parked")
    assert consumer.faults.calls == 5
    assert _effects(database) == 0

    # What the staff route lists and replays (tests/shared/test_parked_event_routes.py).
    with database.transaction() as session:
        [item] = inbox.parked_events(session)["items"]
    assert item["event_id"] == message["event_id"] and "injected failure" in item["last_error"]

    consumer.faults.always = False
    with database.transaction() as session:
        inbox.replay_parked(session, item["id"])
    wait_for(lambda: _effects(database) == 1, 20, what="the replayed event to be handled")
    assert [r.status for r in _inbox(database)] == ["done"]


def test_the_relay_holds_events_while_the_broker_is_away_and_delivers_each_once(
        broker_proxy, rabbitmq, database):
    topology.declare_on(rabbitmq.uri())
    publisher = EventPublisher(broker_proxy.amqp_uri, connect_timeout=1)
    relay = Relay(database, publisher.publish_all, backoff=Backoff(0.01, 0.05))
    broker_proxy.down()
    events = [new_event("wave.closed", {"number": n}) for n in range(20)]
    with database.transaction() as session:
        record(session, *events)

    for _ in range(3):
        sent, failure = relay.relay_due()
        assert sent == 0 and failure is not None
    assert relay.pending() == 20

    broker_proxy.up()
    wait_for(lambda: relay.relay_due()[0] >= 0 and relay.pending() == 0, 30, 0.1,
             "the relay to catch up")
    publisher.close()
    received = _drain(rabbitmq.uri(), "wave.closed")
    assert sorted(received) == sorted(e.event_id for e in events)


def _queue(event_type: str):
    definition = CATALOGUE[event_type]
    return next(q for q in topology.queues()
                if q.name == topology.queue_name(definition, "reports"))


def _queue_depth(uri: str, event_type: str) -> int:
    with Connection(uri) as connection:
        _, count, _ = _queue(event_type)(connection.default_channel).queue_declare(passive=True)
        return count


def _drain(uri: str, event_type: str) -> list[str]:
    received = []
    with Connection(uri) as connection:
        queue = _queue(event_type)(connection.default_channel)
        while (message := queue.get(no_ack=True)) is not None:
            received.append(message.payload["event_id"])
    return received
