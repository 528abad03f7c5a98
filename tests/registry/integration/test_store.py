"""The registry's actions on a real database (SQLite and PostgreSQL): what is stored, what is
emitted to the outbox, what the audit log keeps."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from services.registry import actions
from services.registry.db import NotFound, registry
from services.registry.domain import IllegalTransition, WaveConflict
from shared.events import ApplicationReceived, parse_event
from shared.outbox import OutboxRow
from tests.registry.unit.fakes import received_data

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
WAVE_4 = {
    "number": 4,
    "name": {"en": "Fourth wave", "fr": "Quatrième vague", "es": "Cuarta ola"},
    "theme": {"en": "Care", "fr": "Soins", "es": "Cuidados"},
    "opens_at": datetime(2026, 1, 1, tzinfo=UTC),
    "closes_at": datetime(2026, 12, 31, tzinfo=UTC),
}


def outbox(database) -> list[tuple[str, dict]]:
    with database.transaction() as session:
        rows = session.scalars(select(OutboxRow).order_by(OutboxRow.id))
        return [(row.type, parse_event(row.payload).data) for row in rows]


def receive(database, **overrides):
    with registry(database) as store:
        return actions.receive_application(store,
                                           ApplicationReceived.from_data(received_data(**overrides)))


def open_wave_4(database):
    with registry(database) as store:
        actions.create_wave(store, "alice", WAVE_4, NOW)
    with registry(database) as store:
        return actions.open_wave(store, "alice", 4, NOW)


def test_the_first_migration_brings_the_three_historic_waves(database):
    with registry(database) as store:
        waves = store.waves()
    assert [(w.number, w.status.value, w.opens_at.year) for w in waves] == [
        (1, "closed", 2022), (2, "closed", 2023), (3, "closed", 2024)
    ]
    assert waves[2].theme["en"] == (
        "Promoting pioneering local public policies to defend dignity for all"
    )


def test_the_same_application_twice_makes_one(database):
    data = received_data()
    for _ in range(2):
        with registry(database) as store:
            actions.receive_application(store, ApplicationReceived.from_data(data))
    with registry(database) as store:
        page = store.applications()
    assert page.total == 1
    assert [t for t, _ in outbox(database)] == ["application.waitlisted"]


def test_waitlist_then_open_wave_then_accept(database):
    first, second = receive(database), receive(database, government_name="Ciudad de Quilmes",
                                                country="AR")
    _, moved = open_wave_4(database)
    assert moved == 2
    with registry(database) as store:
        application, member = actions.accept(store, "alice", first.id, None, NOW)
    assert (member.joined_wave, member.waves, member.region) == (4, [4], "Europe")
    with registry(database) as store:
        stored = store.application(first.id)
        assert (stored.status.value, stored.member_id, stored.wave) == ("accepted", member.id, 4)
        assert store.application(second.id).status.value == "under_review"
        assert store.member(member.id).government_name == "Ville de Grigny"
        assert store.applications(status="under_review", region="Latin America").total == 1
        assert store.members(wave=4).total == 1
    assert [t for t, _ in outbox(database)] == [
        "application.waitlisted",
        "application.waitlisted",
        "wave.opened",
        "application.under_review",
        "application.under_review",
        "application.accepted",
        "member.joined",
    ]


def test_an_illegal_transition_changes_nothing(database):
    application = receive(database)
    open_wave_4(database)
    with registry(database) as store:
        actions.decline(store, "alice", application.id, "Not a local government", NOW)
    emitted = len(outbox(database))
    with pytest.raises(IllegalTransition, match="it is declined"):
        with registry(database) as store:
            actions.accept(store, "bob", application.id, None, NOW)
    with registry(database) as store:
        assert store.application(application.id).status.value == "declined"
        assert store.members().total == 0
        assert [e.action for e in store.audit_trail("application", str(application.id))] == [
            "review_in_wave_4", "decline"
        ]
    assert len(outbox(database)) == emitted


def test_accept_with_no_open_wave_is_refused(database):
    application = receive(database)
    with pytest.raises(IllegalTransition):
        with registry(database) as store:
            actions.accept(store, "alice", application.id, None, NOW)
    with pytest.raises(NotFound):
        with registry(database) as store:
            actions.accept(store, "alice", 999, None, NOW)


def test_at_most_one_wave_is_open(database):
    open_wave_4(database)
    with registry(database) as store:
        actions.create_wave(store, "alice", {**WAVE_4, "number": 5}, NOW)
    with pytest.raises(WaveConflict, match="wave 4 is open"):
        with registry(database) as store:
            actions.open_wave(store, "alice", 5, NOW)


@pytest.mark.parametrize(
    "existing, country, newcomer",
    [
        ("Saint-Denis", "FR", "Ville de Saint Denis"),  # French prefix, hyphen
        ("Ciudad de México", "MX", "Mexico City"),  # Spanish prefix against English suffix
        ("Municipality of Utrecht", "NL", "Gemeente Utrecht"),  # English prefix, Dutch prefix
        ("Ayuntamiento de Barcelona", "ES", "BARCELONA"),  # case and prefix
        ("Bogotá D.C.", "CO", "Alcaldía de Bogotá"),  # accents on both sides
    ],
)
def test_possible_duplicates_are_flagged_not_rejected(database, existing, country, newcomer):
    first = receive(database, government_name=existing, country=country)
    second = receive(database, government_name=newcomer, country=country)
    elsewhere = receive(database, government_name=newcomer, country="BE")
    with registry(database) as store:
        flagged = store.application(second.id)
        assert [d["reference"] for d in flagged.possible_duplicates] == [first.reference]
        assert flagged.status.value == "waitlisted"
        assert store.application(elsewhere.id).possible_duplicates == []
        assert [a.id for a in store.applications(possible_duplicate=True).items] == [second.id]
    waitlisted = [d for t, d in outbox(database) if t == "application.waitlisted"]
    assert waitlisted[1]["possible_duplicates"][0]["reference"] == first.reference


def test_a_member_counts_as_a_duplicate_too(database):
    application = receive(database, government_name="Gwangju Metropolitan City", country="KR")
    open_wave_4(database)
    with registry(database) as store:
        actions.accept(store, "alice", application.id, None, NOW)
    again = receive(database, government_name="City of Gwangju", country="KR")
    assert again.possible_duplicates[0]["kind"] == "member"
    assert again.status.value == "under_review"


def test_audit_entries_say_who_what_when_before_after(database):
    application = receive(database)
    open_wave_4(database)
    with registry(database) as store:
        actions.request_info(store, "bob", application.id, "Send the council resolution", NOW)
    with registry(database) as store:
        actions.resume_review(store, "alice", application.id, NOW)
    with registry(database) as store:
        trail = store.audit_trail("application", str(application.id))
    assert [(e.who, e.action) for e in trail] == [
        ("alice", "review_in_wave_4"), ("bob", "request_info"), ("alice", "resume_review")
    ]
    assert trail[1].before["status"] == "under_review"
    assert trail[1].after == {**trail[1].before, "status": "info_requested",
                              "info_request": "Send the council resolution"}
    assert trail[1].at == NOW


def test_export_then_erase(database):
    application = receive(database, contact_email="mayor.office@example.org")
    other = receive(database, contact_email="MAYOR.OFFICE@example.org",
                    government_name="Commune de Grigny")
    open_wave_4(database)
    with registry(database) as store:
        _, member = actions.accept(store, "alice", application.id, None, NOW)
    with registry(database) as store:
        export = actions.export_member(store, member.id)
    assert export["member"].contact_email == "mayor.office@example.org"
    assert {a.id for a in export["applications"]} == {application.id, other.id}

    with registry(database) as store:
        actions.erase_member(store, "alice", member.id, NOW)
    with registry(database) as store:
        erased = store.member(member.id)
        assert (erased.status.value, erased.contact_email, erased.contact_name) == (
            "active", None, None
        )
        assert erased.erased_at == NOW
        for app_id in (application.id, other.id):
            stored = store.application(app_id)
            assert stored.erased and "mayor" not in str(stored.contact_email)
            assert stored.authority_name != "Philippe Rio"
        trail = store.audit_trail("member", str(member.id))
    assert [(e.action, e.before["status"], e.after["status"]) for e in trail] == [
        ("erase", "active", "active")
    ]
    erased_events = [d for t, d in outbox(database) if t == "member.erased"]
    assert erased_events == [
        {"member_id": member.id, "references": sorted([application.reference, other.reference])}
    ]
    with pytest.raises(IllegalTransition):
        with registry(database) as store:
            actions.erase_member(store, "alice", member.id, NOW)


def test_an_application_arriving_while_a_wave_opens_is_not_left_on_the_waitlist(
        postgresql_database):
    """The receive waits for the opening to commit, then joins the open wave."""
    import eventlet

    database = postgresql_database

    with registry(database) as store:
        actions.create_wave(store, "alice", WAVE_4, NOW)
    data = received_data()
    with registry(database) as store:
        actions.open_wave(store, "alice", 4, NOW)
        receiving = eventlet.spawn(lambda: receive_in_own_transaction(database, data))
        eventlet.sleep(0.3)  # the receive is now waiting on the wave rows
        assert not receiving.dead
    application = receiving.wait()
    assert (application.status.value, application.wave) == ("under_review", 4)


def receive_in_own_transaction(database, data):
    with registry(database) as store:
        return actions.receive_application(store, ApplicationReceived.from_data(data))


def versions(database) -> dict[str, int]:
    with database.engine.connect() as connection:
        return dict(connection.execute(text(
            "SELECT 'application', version FROM applications UNION ALL "
            "SELECT 'member', version FROM members")).all())


def test_the_session_writes_what_the_domain_changed_and_nothing_else(database):
    """The mapped domain objects: one per row in a transaction, an untouched one is not
    written (its version stays), a list changed in place is written."""
    application = receive(database)
    open_wave_4(database)
    with registry(database) as store:
        _, member = actions.accept(store, "alice", application.id, None, NOW)
    before = versions(database)
    with registry(database) as store:
        assert store.application(application.id) is store.application_by_reference(
            application.reference)
        store.member(member.id)
        store.applications(theme="housing")
    assert versions(database) == before
    with registry(database) as store:
        stored = store.member(member.id)
        stored.waves.append(5)
    with registry(database) as store:
        assert store.member(member.id).waves == [4, 5]
    assert versions(database) == {**before, "member": before["member"] + 1}
