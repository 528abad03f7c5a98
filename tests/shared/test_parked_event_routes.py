"""``GET /api/events/parked`` and ``POST /api/events/parked/<id>/replay`` through each service's
real entrypoint: its nameko container in this process (in-memory broker, its own SQLite
database), the event parked in its inbox as the inbox parks one."""
from __future__ import annotations

import pytest
import requests
from nameko.containers import ServiceContainer
from sqlalchemy import select

from hrc import run
from shared import config, inbox
from shared import db as shared_db
from shared.events import new_event
from shared.inbox import InboxRow
from tests.support.infra import wait_for

TOKEN = "parked-routes-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}


# Each service on SQLite; one on PostgreSQL too (the repository is tested on both).
@pytest.fixture(params=["intake", "registry", "notify", "reports", "console",
                        "registry-postgresql"])
def service(request, tmp_path, free_port):
    name, _, kind = request.param.partition("-")
    url = (request.getfixturevalue("postgres")(name).url if kind
           else f"sqlite:///{tmp_path}/{name}.db")
    env = {"HRC_VAR_DIR": str(tmp_path / "var"), "AMQP_URI": "memory://",
           f"{name.upper()}_DB_URL": url,
           f"{name.upper()}_PORT": str(free_port()), "STAFF_API_TOKENS": f"ops:{TOKEN}",
           "CONSOLE_STAFF_TOKEN": "console-token-for-this-test", "INBOX_POLL_SECONDS": "30"}
    settings = config.load(env)
    run.setup(settings, [name])
    container = ServiceContainer(getattr(run.service_module(name), run.SERVICE_CLASSES[name]),
                                 settings.nameko_config(name))
    container.start()
    database = shared_db.database_for(settings.db_urls[name])
    yield name, f"http://127.0.0.1:{settings.ports[name]}", database
    container.stop()
    shared_db.dispose_all()


def _park(database, event) -> int:
    """An event that kept failing, as InboxProcessor leaves it."""
    inbox.store(database, event.as_message())
    with database.transaction() as session:
        row = session.scalars(select(InboxRow).where(InboxRow.event_id == event.event_id)).one()
        row.status, row.attempts, row.last_error = inbox.PARKED, 5, "RuntimeError: away"
        return row.id


def _status(database, row_id: int) -> str:
    with database.transaction() as session:
        return session.get(InboxRow, row_id).status


def test_parked_events_are_listed_and_replayed_through_the_staff_route(service):
    name, url, database = service
    # A wave that never opened closing changes nothing anywhere, and no service fails on it.
    row_id = _park(database, new_event("wave.closed", {"number": 77}))

    assert requests.get(f"{url}/api/events/parked", timeout=10).status_code == 401
    listing = requests.get(f"{url}/api/events/parked", headers=STAFF, timeout=10)
    assert listing.status_code == 200, listing.text
    body = listing.json()
    assert body["service"] == name and body["total"] == 1
    [item] = body["items"]
    assert (item["id"], item["type"], item["attempts"], item["last_error"]) == (
        row_id, "wave.closed", 5, "RuntimeError: away")

    replay = f"{url}/api/events/parked/{row_id}/replay"
    assert requests.post(replay, timeout=10).status_code == 401
    assert _status(database, row_id) == "parked"  # a refused request changes nothing
    answer = requests.post(replay, headers=STAFF, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["replayed"]["status"] == "pending"
    # Woken by the replay, not by its next poll (30 s here).
    wait_for(lambda: _status(database, row_id) == "done", 10, 0.05, "the replayed event")
    assert requests.get(f"{url}/api/events/parked", headers=STAFF, timeout=10).json()[
        "items"] == []

    again = requests.post(replay, headers=STAFF, timeout=10)
    assert again.status_code == 409 and again.json()["error"] == "not_parked"
    unknown = requests.post(f"{url}/api/events/parked/{row_id + 1000}/replay", headers=STAFF,
                            timeout=10)
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
    huge = requests.post(f"{url}/api/events/parked/99999999999/replay", headers=STAFF,
                         timeout=10)
    assert huge.status_code == 404
