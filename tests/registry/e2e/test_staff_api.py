"""The staff API through the real entrypoints: a registry container in this process (in-memory
broker), on SQLite and on PostgreSQL. Applications arrive as application.received events."""
from __future__ import annotations

import json

import eventlet
import pytest
import requests
from nameko.containers import ServiceContainer
from sqlalchemy import func, select

from services.registry.db import AuditRow, StaffTokenRow
from services.registry.service import RegistryService
from shared import topology
from shared.broker import EventPublisher
from shared.events import new_event
from shared.inbox import InboxRow
from shared.outbox import OutboxRow
from tests.registry.unit.fakes import received_data
from tests.support.infra import wait_for

TOKENS = "alice:alice-secret-token,bob:bob-secret-token,console:console-secret-token"
ALICE = {"Authorization": "Bearer alice-secret-token"}
BOB = {"Authorization": "Bearer bob-secret-token"}
WAVE_4 = {
    "number": 4,
    "name": {"en": "Fourth wave", "fr": "Quatrième vague", "es": "Cuarta ola"},
    "theme": {"en": "Care", "fr": "Soins", "es": "Cuidados"},
    "opens_at": "2026-01-01",
    "closes_at": "2026-12-31T23:59:59Z",
}


class Registry:
    """The running container, its URL, and what it stored."""

    def __init__(self, database, port: int):
        self.database = database
        self.url = f"http://127.0.0.1:{port}"

    def call(self, method: str, path: str, headers=ALICE, **kwargs) -> requests.Response:
        return requests.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def ok(self, method: str, path: str, **kwargs) -> dict:
        response = self.call(method, path, **kwargs)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def receive(self, **overrides) -> dict:
        """Publish application.received, as intake would, and wait for the registry to file it."""
        data = received_data(**overrides)
        EventPublisher("memory://").publish(new_event("application.received", data).as_message())

        def filed():
            items = self.ok("GET", "/api/applications", params={"per_page": 200})["items"]
            return next((a for a in items if a["reference"] == data["reference"]), None)

        return wait_for(filed, 20, 0.05, "the application to be filed")

    def outbox(self) -> list[str]:
        with self.database.transaction() as session:
            return list(session.scalars(select(OutboxRow.type).order_by(OutboxRow.id)))

    def published(self) -> int:
        with self.database.transaction() as session:
            return session.scalar(select(func.count()).select_from(OutboxRow)
                                  .where(OutboxRow.sent_at.is_not(None)))

    def event_tables(self) -> str:
        """Every payload of the outbox and inbox, as one text to search."""
        with self.database.transaction() as session:
            payloads = [*session.scalars(select(OutboxRow.payload)),
                        *session.scalars(select(InboxRow.payload))]
        return json.dumps(payloads, ensure_ascii=False)

    def audit_count(self) -> int:
        with self.database.transaction() as session:
            return session.scalar(select(func.count()).select_from(AuditRow))


def start(database, port: int, tokens: str | None) -> ServiceContainer:
    topology.declare_on("memory://")
    config = {
        "AMQP_URI": "memory://",
        "DB_URL": database.url,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
        "INBOX_POLL_SECONDS": 0.05,
        "RELAY_POLL_SECONDS": 0.05,
    }
    if tokens:
        config["STAFF_API_TOKENS"] = tokens
    container = ServiceContainer(RegistryService, config)
    container.start()
    return container


@pytest.fixture
def registry(database, free_port):
    port = free_port()
    container = start(database, port, TOKENS)
    yield Registry(database, port)
    container.stop()


def open_wave_4(registry: Registry) -> dict:
    registry.ok("POST", "/api/waves", json=WAVE_4)
    return registry.ok("POST", "/api/waves/4/open")


STAFF_ROUTES = [
    ("GET", "/api/applications"),
    ("GET", "/api/applications/{id}"),
    ("GET", "/api/applications/{id}/audit"),
    ("GET", "/api/applications/{id}/export"),
    ("POST", "/api/applications/{id}/accept"),
    ("POST", "/api/applications/{id}/decline"),
    ("POST", "/api/applications/{id}/request-info"),
    ("POST", "/api/applications/{id}/withdraw"),
    ("GET", "/api/members"),
    ("POST", "/api/members/import"),
    ("GET", "/api/members/1"),
    ("GET", "/api/members/1/export"),
    ("DELETE", "/api/members/1"),
    ("PUT", "/api/members/1/contact"),
    ("DELETE", "/api/applications/{id}"),
    ("GET", "/api/waves"),
    ("POST", "/api/waves"),
    ("POST", "/api/waves/4/open"),
    ("POST", "/api/waves/4/close"),
    ("POST", "/api/waves/announce"),
]


def test_without_a_valid_token_401_and_nothing_changes(registry):
    application = registry.receive()
    registry.ok("POST", "/api/waves", json=WAVE_4)
    before = (registry.outbox(), registry.audit_count(), registry.ok("GET", "/api/waves"))
    bodies = {"json": {"wave": 4, "reason": "no", "message": "more?", **WAVE_4}}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic YWxpY2U="},
                    {"Authorization": "Bearer alice-secret-token-but-longer"}):
        for method, path in STAFF_ROUTES:
            response = registry.call(method, path.format(id=application["id"]), headers=headers,
                                     **bodies)
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.json()["error"] == "unauthorized"
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert (registry.outbox(), registry.audit_count(), registry.ok("GET", "/api/waves")) == before
    assert registry.ok("GET", f"/api/applications/{application['id']}")["status"] == "waitlisted"


def test_only_the_console_token_names_the_person_who_acts(registry):
    open_wave_4(registry)
    first, second, third = (registry.receive() for _ in range(3))
    console = {"Authorization": "Bearer console-secret-token", "X-Staff-Actor": "Ana@Example.org"}
    registry.ok("POST", f"/api/applications/{first['id']}/request-info", headers=console,
                json={"message": "The council's decision, please."})
    forged = {**ALICE, "X-Staff-Actor": "ana@example.org"}
    registry.ok("POST", f"/api/applications/{second['id']}/request-info", headers=forged,
                json={"message": "The council's decision, please."})
    unnamed = {"Authorization": "Bearer console-secret-token", "X-Staff-Actor": "not a person"}
    registry.ok("POST", f"/api/applications/{third['id']}/request-info", headers=unnamed,
                json={"message": "The council's decision, please."})
    who = [registry.ok("GET", f"/api/applications/{a['id']}/audit")["items"][0]["who"]
           for a in (first, second, third)]
    assert who == ["ana@example.org", "alice", "console"]


def test_the_queue_searches_by_name_or_reference_and_filters_language_and_theme(registry):
    grigny = registry.receive(government_name="Ville de Grigny", language="fr",
                              themes=["housing"])
    rosario = registry.receive(government_name="Municipalidad de Rosario", country="AR",
                               language="es", themes=["food", "peace"])

    def found(**params) -> list[str]:
        items = registry.ok("GET", "/api/applications", params={**params, "per_page": 200})
        return [a["reference"] for a in items["items"]]

    assert found(q="rosario") == [rosario["reference"]]
    assert found(q=grigny["reference"].lower()) == [grigny["reference"]]
    assert rosario["reference"] in found(language="es")
    assert rosario["reference"] not in found(language="fr")
    assert found(theme="peace") == [rosario["reference"]]
    assert grigny["reference"] not in found(theme="food")
    assert found(q="100%_") == []


def test_a_whole_review(registry):
    first = registry.receive(government_name="Ville de Grigny")
    second = registry.receive(government_name="Municipio de Quilmes", country="AR")
    assert (first["status"], first["region"]) == ("waitlisted", "Europe")

    opened = open_wave_4(registry)
    assert (opened["status"], opened["moved_to_review"]) == ("open", 2)

    accepted = registry.ok("POST", f"/api/applications/{first['id']}/accept", json={})
    member = accepted["member"]
    assert accepted["application"]["status"] == "accepted"
    assert (member["joined_wave"], member["waves"], member["government_name"]) == (
        4, [4], "Ville de Grigny")
    assert registry.ok("GET", f"/api/members/{member['id']}")["status"] == "active"

    response = registry.call("POST", f"/api/applications/{first['id']}/accept", headers=BOB)
    assert response.status_code == 409
    assert response.json()["error"] == "illegal_transition"
    assert "it is accepted" in response.json()["detail"]

    info = registry.ok("POST", f"/api/applications/{second['id']}/request-info",
                       headers=BOB, json={"message": "Please send the council resolution"})
    assert info["status"] == "info_requested"
    response = registry.call("POST", f"/api/applications/{second['id']}/decline",
                             json={"reason": "no"})
    assert response.status_code == 409
    registry.ok("POST", f"/api/applications/{second['id']}/resume-review")
    declined = registry.ok("POST", f"/api/applications/{second['id']}/decline",
                           json={"reason": "Not a local government"})
    assert declined["decision_reason"] == "Not a local government"

    audit = registry.ok("GET", f"/api/applications/{second['id']}/audit")["items"]
    assert [(e["who"], e["action"]) for e in audit] == [
        ("alice", "review_in_wave_4"), ("bob", "request_info"), ("alice", "resume_review"),
        ("alice", "decline"),
    ]
    assert (audit[-1]["before"]["status"], audit[-1]["after"]["status"]) == (
        "under_review", "declined")

    assert registry.outbox().count("application.accepted") == 1
    assert registry.outbox().count("member.joined") == 1
    wait_for(lambda: _all_sent(registry), 10, what="the outbox to be relayed")


def _all_sent(registry: Registry) -> bool:
    with registry.database.transaction() as session:
        return session.scalar(select(func.count()).select_from(OutboxRow)
                              .where(OutboxRow.sent_at.is_(None))) == 0


def test_listing_filters_and_paging(registry):
    for name, country in [("Grigny", "FR"), ("Ville de Grigny", "FR"), ("Quilmes", "AR"),
                          ("Gwangju", "KR"), ("Utrecht", "NL")]:
        registry.receive(government_name=name, country=country)

    def listing(**params):
        return registry.ok("GET", "/api/applications", params=params)

    assert listing()["total"] == 5
    page = listing(per_page=2, page=3)
    assert (len(page["items"]), page["total"], page["page"]) == (1, 5, 3)
    assert [a["country"] for a in listing(region="Europe")["items"]] == ["NL", "FR", "FR"]
    assert listing(country="kr")["items"][0]["government_name"] == "Gwangju"
    duplicates = listing(possible_duplicate="true")["items"]
    assert [a["government_name"] for a in duplicates] == ["Ville de Grigny"]
    assert duplicates[0]["possible_duplicates"][0]["government_name"] == "Grigny"
    assert listing(status="waitlisted")["total"] == 5
    open_wave_4(registry)
    assert listing(wave=4, status="under_review")["total"] == 5
    assert listing(wave=3)["total"] == 0

    response = registry.call("GET", "/api/applications", params={"status": "pending"})
    assert response.status_code == 422 and "status" in response.json()["detail"]
    response = registry.call("GET", "/api/applications", params={"per_page": 1000})
    assert response.status_code == 422


def test_waves(registry):
    waves = registry.ok("GET", "/api/waves")["items"]
    assert [(w["number"], w["status"]) for w in waves] == [
        (1, "closed"), (2, "closed"), (3, "closed")]
    assert waves[2]["theme"]["en"].startswith("Promoting pioneering local public policies")

    created = registry.call("POST", "/api/waves", json=WAVE_4)
    assert created.status_code == 201 and created.json()["status"] == "planned"
    again = registry.call("POST", "/api/waves", json=WAVE_4)
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    invalid = registry.call("POST", "/api/waves", json={**WAVE_4, "number": 5,
                                                         "name": {"en": "Fifth"}})
    assert invalid.status_code == 422 and "name" in invalid.json()["detail"]
    assert registry.call("POST", "/api/waves", data="not json",
                         headers={**ALICE, "Content-Type": "text/plain"}).status_code == 415

    registry.ok("POST", "/api/waves/4/open")
    registry.ok("POST", "/api/waves", json={**WAVE_4, "number": 5})
    second_open = registry.call("POST", "/api/waves/5/open")
    assert second_open.status_code == 409 and "wave 4 is open" in second_open.json()["detail"]
    assert registry.ok("POST", "/api/waves/4/close")["status"] == "closed"
    assert registry.ok("POST", "/api/waves/5/open")["status"] == "open"
    assert registry.call("POST", "/api/waves/9/open").status_code == 404
    assert registry.outbox().count("wave.opened") == 2


def test_waves_announce_tells_the_present_state_again_and_publishes_it(registry):
    open_wave_4(registry)
    sent_before = registry.published()

    told = registry.ok("POST", "/api/waves/announce")

    assert [(w["number"], w["status"], w["event"]) for w in told["items"]] == [
        (1, "closed", "wave.closed"), (2, "closed", "wave.closed"),
        (3, "closed", "wave.closed"), (4, "open", "wave.opened")]
    assert told["total"] == 4
    assert registry.outbox()[-4:] == ["wave.closed"] * 3 + ["wave.opened"]
    wait_for(lambda: registry.published() >= sent_before + 4, 20, 0.05,
             "the repeats to be published")
    # Nothing about the waves changed: it only told them.
    assert [w["status"] for w in registry.ok("GET", "/api/waves")["items"]] == [
        "closed", "closed", "closed", "open"]


def test_a_wave_s_description_is_optional_per_language_and_checked_per_field(registry):
    too_long = registry.call("POST", "/api/waves", json={
        **WAVE_4, "description": {"fr": "x" * 2001, "de": "Welle"}})
    assert too_long.status_code == 422
    assert set(too_long.json()["detail"]["description"]) == {"fr", "de"}
    assert [w["number"] for w in registry.ok("GET", "/api/waves")["items"]] == [1, 2, 3]

    created = registry.ok("POST", "/api/waves", json={
        **WAVE_4, "description": {"fr": "La vague du soin.", "es": ""}})
    assert created["description"] == {"fr": "La vague du soin."}
    assert registry.ok("GET", "/api/waves")["items"][0]["description"] == {}


def test_export_and_erasure(registry):
    application = registry.receive(contact_email="office@grigny.example")
    open_wave_4(registry)
    member = registry.ok("POST", f"/api/applications/{application['id']}/accept",
                         json={"wave": 4})["member"]

    export = registry.ok("GET", f"/api/members/{member['id']}/export")
    assert export["member"]["contact_email"] == "office@grigny.example"
    assert export["applications"][0]["authority_name"] == "Philippe Rio"
    assert [e["action"] for e in export["audit"]] == ["review_in_wave_4", "accept"]

    applicant = registry.ok("GET", f"/api/applications/{application['id']}/export")
    assert applicant["application"]["contact_email"] == "office@grigny.example"
    assert [e["action"] for e in applicant["audit"]] == ["review_in_wave_4", "accept"]

    wait_for(lambda: registry.published() >= 3, 20, 0.05, "the events to be published")
    erased = registry.ok("DELETE", f"/api/members/{member['id']}", headers=BOB)
    assert (erased["status"], erased["contact_email"], erased["joined_wave"]) == (
        "active", None, 4)
    assert erased["erased_at"]
    after = registry.ok("GET", f"/api/members/{member['id']}/export")
    assert "office@grigny.example" not in str(after)
    assert "Philippe Rio" not in str(after)
    assert [(e["who"], e["action"]) for e in after["audit"]][0] == ("bob", "erase")
    assert registry.outbox().count("member.erased") == 1
    # The registry's own event tables forget the person too (inbox: application.received;
    # outbox: member.joined), and the member is still counted.
    assert "office@grigny.example" not in registry.event_tables()
    assert "Philippe Rio" not in registry.event_tables()
    assert registry.ok("GET", "/api/members", params={"status": "active"})["total"] == 1
    assert registry.call("DELETE", f"/api/members/{member['id']}").status_code == 409
    assert registry.call("DELETE", "/api/members/999").status_code == 404

    changed = registry.ok("PUT", f"/api/members/{member['id']}/contact",
                          json={"contact_name": "Nouvelle Élue",
                                "contact_email": "elue@grigny.example", "language": "fr"})
    assert (changed["contact_email"], changed["language"]) == ("elue@grigny.example", "fr")
    assert registry.outbox()[-1] == "member.contact_changed"
    bad = registry.call("PUT", f"/api/members/{member['id']}/contact",
                        json={"contact_name": "X", "contact_email": "not an address"})
    assert bad.status_code == 422 and "contact_email" in bad.json()["detail"]
    assert registry.ok("DELETE", f"/api/members/{member['id']}")["contact_email"] is None


def test_an_applicant_who_never_became_a_member_is_erased(registry):
    application = registry.receive(contact_email="someone@example.org")
    path = f"/api/applications/{application['id']}"
    response = registry.call("DELETE", path)
    assert response.status_code == 409 and "withdraw it first" in response.json()["detail"]
    registry.ok("POST", f"{path}/withdraw", json={"reason": "changed our mind"})
    wait_for(lambda: registry.published() >= 2, 20, 0.05, "the events to be published")
    erased = registry.ok("DELETE", path)
    assert (erased["erased"], erased["contact_email"], erased["status"]) == (
        True, "[erased]", "withdrawn")
    assert registry.outbox()[-1] == "application.erased"
    with registry.database.transaction() as session:
        row = session.scalars(select(OutboxRow).order_by(OutboxRow.id.desc())).first()
        assert row.payload["data"] == {"application_id": application["id"],
                                       "reference": application["reference"]}
    assert "someone@example.org" not in registry.event_tables()
    assert "changed our mind" not in registry.event_tables()
    assert registry.call("DELETE", path).status_code == 409


def test_two_staff_accept_at_the_same_moment_one_wins(registry):
    application = registry.receive()
    open_wave_4(registry)
    path = f"/api/applications/{application['id']}/accept"
    pool = eventlet.GreenPool()
    responses = list(pool.imap(lambda headers: registry.call("POST", path, headers=headers),
                               [ALICE, BOB, ALICE, BOB]))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409, 409, 409], [r.text for r in responses]
    assert registry.ok("GET", "/api/members")["total"] == 1
    assert registry.outbox().count("application.accepted") == 1
    accepts = [e for e in registry.ok("GET", f"{path.rsplit('/', 1)[0]}/audit")["items"]
               if e["action"] == "accept"]
    assert len(accepts) == 1


def test_a_token_is_generated_stored_and_printed_once(database, free_port, capsys):
    port = free_port()
    container = start(database, port, tokens=None)
    try:
        printed = capsys.readouterr().out
        token = printed.split("HRC_STAFF_TOKEN=")[1].split()[0]
        client = Registry(database, port)
        assert client.call("GET", "/api/waves", headers={}).status_code == 401
        assert client.ok("GET", "/api/waves",
                         headers={"Authorization": f"Bearer {token}"})["total"] == 3
    finally:
        container.stop()
    container = start(database, port, tokens=None)
    try:
        assert "HRC_STAFF_TOKEN" not in capsys.readouterr().out
        response = Registry(database, port).call(
            "GET", "/api/waves", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
    finally:
        container.stop()
    with database.transaction() as session:
        stored = list(session.scalars(select(StaffTokenRow)))
    assert len(stored) == 1 and token not in (stored[0].digest, stored[0].label)


def test_application_received_twice_makes_one_application(registry):
    data = received_data(government_name="Municipalité de Grigny")
    message = new_event("application.received", data).as_message()
    publisher = EventPublisher("memory://")
    publisher.publish(message)
    publisher.publish(message)  # a redelivery: same event_id
    publisher.publish(new_event("application.received", data).as_message())  # re-sent
    marker = registry.receive()  # published after the three: once it is filed, they were too
    items = registry.ok("GET", "/api/applications")["items"]
    assert sorted(a["reference"] for a in items) == sorted([data["reference"],
                                                            marker["reference"]])
    assert registry.outbox().count("application.waitlisted") == 2


def test_a_member_withdraws(registry):
    application = registry.receive()
    open_wave_4(registry)
    member = registry.ok("POST", f"/api/applications/{application['id']}/accept")["member"]
    withdrawn = registry.ok("POST", f"/api/members/{member['id']}/withdraw",
                            json={"reason": "Council decision"})
    assert (withdrawn["status"], withdrawn["withdrawal_reason"]) == ("withdrawn",
                                                                    "Council decision")
    assert registry.call("POST", f"/api/members/{member['id']}/withdraw").status_code == 409
    assert registry.ok("GET", "/api/members", params={"status": "withdrawn"})["total"] == 1
    assert registry.outbox().count("member.withdrawn") == 1
