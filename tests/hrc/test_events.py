"""``hrc events failed|replay`` over the services' staff routes, with canned answers in the
shape shared.parked_events gives (the routes themselves are tested per service)."""
from __future__ import annotations

import json

import pytest
import requests

from hrc.cli import main as hrc
from shared.staff_api import StaffApi, StaffApiError

PARKED = {
    "id": 3, "type": "member.joined", "event_id": "7d0c-member", "reference": None,
    "member_id": 12, "attempts": 5, "last_error": "KeyError: 'wave'",
    "received_at": "2026-12-01T10:40:00", "parked_at": "2026-12-01T10:47:00",
}
WITHDRAWN = {**PARKED, "id": 8, "type": "application.withdrawn", "event_id": "91aa-withdrawn",
             "reference": "HRC-2026-G3YSQ", "member_id": None}


@pytest.fixture
def services(monkeypatch):
    """Each service's parked events by port; ``down`` ones refuse the connection."""

    class Services:
        parked = {"notify": [PARKED], "registry": [WITHDRAWN]}
        down: set[str] = set()
        calls: list[tuple[str, str, str]] = []

    ports = {"intake": 18000, "registry": 18001, "notify": 18002, "reports": 18003,
             "console": 18004}
    by_port = {str(port): name for name, port in ports.items()}
    for name, port in ports.items():
        monkeypatch.setenv(f"HRC_{name.upper()}_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("HRC_STAFF_TOKEN", "t")

    def call(self, method, path, extra_headers=None, **kwargs):
        service = by_port[self.url.rsplit(":", 1)[1]]
        Services.calls.append((service, method, path))
        if service in Services.down:
            raise requests.ConnectionError("connection refused")
        items = Services.parked.get(service, [])
        if method == "GET":
            return {"service": service, "items": items, "total": len(items)}
        parked_id = int(path.split("/")[-2])
        [item] = [i for i in items if i["id"] == parked_id] or [None]
        if item is None:
            raise StaffApiError(409, "not_parked", f"inbox event {parked_id} is pending")
        return {"service": service, "replayed": {"id": item["id"], "type": item["type"],
                                                 "event_id": item["event_id"],
                                                 "status": "pending"}}

    monkeypatch.setattr(StaffApi, "_call", call)
    Services.calls = []
    return Services


def run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = hrc(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_failed_lists_every_service_over_http_as_a_table(services, capsys):
    code, out, err = run(capsys, "events", "failed")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["service", "id", "event", "type", "about", "attempts", "parked",
                                "last", "error"]
    assert lines[1].split()[:5] == ["registry", "8", "91aa-withdrawn", "application.withdrawn",
                                    "HRC-2026-G3YSQ"]
    assert "2026-12-01 10:47" in lines[1]
    assert lines[2].split()[:6] == ["notify", "3", "7d0c-member", "member.joined", "member", "12"]
    assert "KeyError: 'wave'" in lines[2]
    assert err.strip() == "2 of 2 parked events"
    assert {(s, m, p) for s, m, p in services.calls} == {
        (s, "GET", "/api/events/parked")
        for s in ("intake", "registry", "notify", "reports", "console")}


def test_failed_as_json_for_scripts(services, capsys):
    code, out, _ = run(capsys, "events", "failed", "--service", "notify", "--json")
    assert code == 0
    assert json.loads(out) == {"items": [{"service": "notify", **PARKED}], "total": 1,
                               "not_answered": {}}


def test_a_service_that_does_not_answer_is_named_and_the_command_fails(services, capsys):
    services.down = {"reports"}
    services.parked = {}
    code, out, _ = run(capsys, "events", "failed")
    assert code == 1
    assert "no parked events" in out
    assert "reports: NOT ANSWERED (cannot reach it at http://127.0.0.1:18003" in out


def test_replay_without_ids_replays_every_parked_event_through_the_routes(services, capsys):
    code, out, _ = run(capsys, "events", "replay")
    assert code == 0
    assert out.splitlines()[0] == "2 event(s) put back in line"
    posts = [(s, p) for s, m, p in services.calls if m == "POST"]
    assert posts == [("registry", "/api/events/parked/8/replay"),
                     ("notify", "/api/events/parked/3/replay")]


def test_replay_by_event_id_or_by_inbox_id_of_one_service(services, capsys):
    code, out, _ = run(capsys, "events", "replay", "91aa-withdrawn", "--json")
    assert code == 0
    body = json.loads(out)
    assert [(i["service"], i["id"]) for i in body["replayed"]] == [("registry", 8)]
    code, _, _ = run(capsys, "events", "replay", "--service", "notify", "3")
    assert code == 0
    assert ("notify", "POST", "/api/events/parked/3/replay") in services.calls


def test_replay_of_an_id_parked_nowhere_says_so_and_fails(services, capsys):
    code, out, _ = run(capsys, "events", "replay", "3")  # an inbox id needs its --service
    assert code == 1
    assert "not parked anywhere asked: 3" in out
    assert not [c for c in services.calls if c[1] == "POST"]


def test_hrc_opens_no_service_database(services, capsys, monkeypatch):
    from shared import db

    def no(*args, **kwargs):
        raise AssertionError("hrc opened a database")

    monkeypatch.setattr(db, "database_for", no)
    assert run(capsys, "events", "failed")[0] == 0
    assert run(capsys, "events", "replay")[0] == 0
