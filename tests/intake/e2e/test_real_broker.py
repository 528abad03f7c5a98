"""Intake on the real RabbitMQ (and PostgreSQL): no application is ever lost, none is sent twice."""
from __future__ import annotations

import pytest
import requests
from kombu import Connection, Consumer

from services.intake import db as intake_db
from shared import topology
from shared.broker import EventPublisher
from shared.events import CATALOGUE, new_event, parse_event
from tests.intake.conftest import example, start_intake
from tests.support.infra import wait_for

pytestmark = pytest.mark.real

RECEIVED = CATALOGUE["application.received"]
# One of the durable queues declared up front for application.received (rule 3).
REGISTRY_QUEUE = topology.queue_name(RECEIVED, "registry")


def drain(amqp_uri: str, queue_name: str, expected: int, timeout: float = 30) -> list[dict]:
    """Every message in a queue, acked, once ``expected`` have arrived and a little after."""
    messages: list[dict] = []
    queue = next(q for q in topology.queues() if q.name == queue_name)
    with Connection(amqp_uri) as connection:
        def take(body, message):
            messages.append(body)
            message.ack()

        with Consumer(connection, [queue], callbacks=[take], accept=["json"]):
            wait_for(lambda: _drain_once(connection) or len(messages) >= expected, timeout,
                     what=f"{expected} messages in {queue_name}")
            while _drain_once(connection, 1.0):
                pass  # anything beyond the expected ones is a duplicate: collect it too
    return messages


def _drain_once(connection, timeout: float = 0.2) -> bool:
    try:
        connection.drain_events(timeout=timeout)
    except TimeoutError:
        return False
    return True


@pytest.fixture
def proxy(broker_proxy):
    return broker_proxy


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/intake.db"
    return request.getfixturevalue("postgres")("intake").url


def test_fifty_applications_sent_while_the_broker_is_down_are_each_published_once(
        db_url, rabbitmq, proxy, free_port):
    intake = start_intake(db_url, proxy.amqp_uri, free_port(),
                          RELAY_RETRY_BASE_SECONDS=0.2, RELAY_RETRY_MAX_SECONDS=1.0)
    try:
        proxy.down()
        references = []
        for number in range(50):
            response = intake.post_json(example(population=1000 + number))
            assert response.status_code == 202, response.text
            references.append(response.json()["reference"])
        assert len(set(references)) == 50
        assert intake.pending() == 50

        proxy.up()
        wait_for(lambda: intake.pending() == 0, 60, what="the outbox to be published")
        messages = drain(rabbitmq.uri(), REGISTRY_QUEUE, 50)
    finally:
        intake.container.stop()
    events = [parse_event(m) for m in messages]
    assert len(events) == 50
    assert len({e.event_id for e in events}) == 50
    assert {e.type for e in events} == {"application.received"}
    assert sorted(e.data["reference"] for e in events) == sorted(references)


def test_member_erased_from_the_broker_forgets_the_references(db_url, rabbitmq, free_port):
    intake = start_intake(db_url, rabbitmq.uri(), free_port())
    try:
        erased = intake.post_json(example()).json()["reference"]
        kept = intake.post_json(example(population=3)).json()["reference"]
        publisher = EventPublisher(rabbitmq.uri())
        publisher.publish(new_event("member.erased",
                                    {"member_id": 1, "references": [erased]}).as_message())
        publisher.close()

        def forgotten() -> bool:
            by_reference = {s.reference: s.payload for s in intake.submissions()}
            return by_reference[erased] == intake_db.ERASED

        wait_for(forgotten, 20, what="the submission to be erased")
        assert {s.reference: s.payload for s in intake.submissions()}[kept]["population"] == 3
    finally:
        intake.container.stop()


def test_the_form_follows_the_waves_announced_on_the_broker(db_url, rabbitmq, free_port):
    intake = start_intake(db_url, rabbitmq.uri(), free_port())
    wave_4 = {"number": 4, "opens_at": "2026-03-01T00:00:00+00:00", "closes_at": None,
              "name": {"en": "Fourth wave", "fr": "Quatrième vague", "es": "Cuarta ola"},
              "theme": {"en": "Care", "fr": "Le soin", "es": "Los cuidados"}}

    def form(lang="en") -> str:
        return requests.get(f"{intake.url}/?lang={lang}", timeout=10).text

    try:
        assert "No wave is open at the moment" in form()
        publisher = EventPublisher(rabbitmq.uri())
        opening = new_event("wave.opened", wave_4).as_message()
        publisher.publish(opening)
        publisher.publish(opening)  # delivered twice
        wait_for(lambda: "Cuarta ola" in form("es"), 20, what="the form to show wave 4")
        assert "No wave is open" not in form()
        publisher.publish(new_event("wave.closed", {"number": 4}).as_message())
        wait_for(lambda: "No wave is open at the moment" in form(), 20,
                 what="the form to show the waiting list")
        publisher.close()
    finally:
        intake.container.stop()
