"""Two registry replicas (``hrc run registry`` twice) on the real RabbitMQ and one PostgreSQL:
competing consumers file each application once, and two staff accepting the same application
through different replicas at the same moment get one 200 and one 409."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import create_engine, text

from shared import topology
from shared.broker import EventPublisher
from shared.events import new_event
from tests.registry.e2e.test_staff_api import WAVE_4
from tests.registry.unit.fakes import received_data
from tests.support import infra

pytestmark = pytest.mark.real
HEADERS = {"Authorization": "Bearer replica-test-token"}


def count(url: str, sql: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


def test_two_replicas(tmp_path, rabbitmq, postgres):
    database = postgres("registry")
    replicas = []
    for index in range(2):
        env = infra.base_env(tmp_path / f"var{index}")
        env.update(AMQP_URI=rabbitmq.uri(), REGISTRY_DB_URL=database.url,
                   STAFF_API_TOKENS=f"staff:{HEADERS['Authorization'].split()[1]}")
        replica = infra.ServiceProcess(["registry"], env, tmp_path / f"registry{index}.log")
        replica.port = int(env["REGISTRY_PORT"])
        replica.start()
        replica.wait_healthy([replica.port])
        replicas.append(replica)
    try:
        topology.declare_on(rabbitmq.uri())
        publisher = EventPublisher(rabbitmq.uri())
        messages = [new_event("application.received", received_data()).as_message()
                    for _ in range(20)]
        for message in messages + messages[:5]:  # five delivered twice
            publisher.publish(message)
        publisher.close()
        infra.wait_for(lambda: count(database.url, "SELECT count(*) FROM inbox "
                                     "WHERE status = 'done'") == 20, 30,
                       what="both replicas to process the applications")
        assert count(database.url, "SELECT count(*) FROM applications") == 20

        first, second = (f"http://127.0.0.1:{r.port}" for r in replicas)
        assert requests.post(f"{first}/api/waves", json=WAVE_4, headers=HEADERS,
                             timeout=10).status_code == 201
        opened = requests.post(f"{second}/api/waves/4/open", headers=HEADERS, timeout=10)
        assert opened.json()["moved_to_review"] == 20

        def accept(base_and_id):
            base, application_id = base_and_id
            return requests.post(f"{base}/api/applications/{application_id}/accept",
                                 headers=HEADERS, timeout=30).status_code

        with ThreadPoolExecutor(8) as pool:
            for application_id in range(1, 11):
                statuses = sorted(pool.map(accept, [(first, application_id),
                                                    (second, application_id)] * 2))
                assert statuses == [200, 409, 409, 409], (application_id, statuses)
        assert count(database.url, "SELECT count(*) FROM members") == 10
        infra.wait_for(lambda: count(database.url, "SELECT count(*) FROM outbox "
                                     "WHERE type = 'member.joined' AND sent_at IS NOT NULL")
                       == 10, 30, what="member.joined published")
    finally:
        for replica in replicas:
            replica.stop()
    for replica in replicas:
        assert "Traceback" not in replica.log(), replica.log()
