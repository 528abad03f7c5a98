"""The duplicate check's kept candidates (services.registry.candidates) stay current whoever
changes them: another replica (a second engine on the same database), a staff decision, a
rollback. On SQLite and PostgreSQL."""
from __future__ import annotations

import eventlet
import pytest
from sqlalchemy import select

from services.registry import actions, candidates
from services.registry.db import registry
from shared import db as shared_db
from shared.events import ApplicationReceived
from tests.registry.integration.test_store import NOW, WAVE_4
from tests.registry.unit.fakes import received_data


@pytest.fixture
def replica(database):
    """A second process's view of the same database: its own engine, so its own kept set."""
    other = shared_db.Database(database.url)
    yield other
    other.dispose()


def receive(database, name: str, country: str = "FR"):
    with registry(database) as store:
        return actions.receive_application(store, ApplicationReceived.from_data(
            received_data(government_name=name, country=country)))


def flagged(application) -> list[str]:
    return [d["reference"] for d in application.possible_duplicates]


def test_an_application_another_replica_received_is_compared_with(database, replica):
    first = receive(database, "Saint-Denis")  # this process now keeps FR's candidates
    second = receive(replica, "Ville de Saint-Denis")
    third = receive(database, "Commune de Saint-Denis")
    assert flagged(second) == [first.reference]
    assert sorted(flagged(third)) == sorted([first.reference, second.reference])


def test_a_decision_elsewhere_takes_the_application_out_of_the_comparison(database, replica):
    first = receive(database, "Villeurbanne")
    with registry(replica) as store:
        actions.withdraw_application(store, "alice", first.id, "sent by mistake", NOW)
    assert flagged(receive(database, "Ville de Villeurbanne")) == []


def test_a_member_admitted_elsewhere_is_compared_with(database, replica):
    first = receive(database, "Gwangju Metropolitan City", country="KR")
    with registry(replica) as store:
        actions.create_wave(store, "alice", WAVE_4, NOW)
    with registry(replica) as store:
        actions.open_wave(store, "alice", 4, NOW)
    with registry(replica) as store:
        actions.accept(store, "alice", first.id, None, NOW)
    again = receive(database, "City of Gwangju", country="KR")
    assert [(d["reference"], d["kind"]) for d in again.possible_duplicates] == [
        (first.reference, "member")]


def test_this_process_decisions_update_what_it_keeps(database):
    first = receive(database, "Montreuil")
    receive(database, "Nanterre")
    with registry(database) as store:
        actions.withdraw_application(store, "alice", first.id, "asked by phone", NOW)
    assert flagged(receive(database, "Ville de Montreuil")) == []
    with registry(database) as store:
        kept = store.duplicate_candidates("FR", excluding="")
        assert sorted(c.government_name for c in kept) == [
            "Nanterre", "Ville de Montreuil"]
        read = store._candidates("FR")
        assert sorted(kept, key=str) == sorted(read, key=str)


def test_a_rolled_back_application_is_not_kept(database):
    receive(database, "Aubervilliers")
    with pytest.raises(RuntimeError), registry(database) as store:
        actions.receive_application(store, ApplicationReceived.from_data(
            received_data(government_name="Pantin", country="FR")))
        raise RuntimeError("the inbox's transaction fails after the handler")
    again = receive(database, "Ville de Pantin")
    assert flagged(again) == []
    with registry(database) as store:
        assert sorted(c.government_name for c in store.duplicate_candidates(
            "FR", excluding="")) == ["Aubervilliers", "Ville de Pantin"]


def test_every_change_bumps_its_country_once_per_transaction(database):
    receive(database, "Lyon")
    receive(database, "Marseille")
    receive(database, "Recife", country="BR")
    with database.transaction() as session:
        generations = dict(session.execute(select(candidates.generations.c.country,
                                                  candidates.generations.c.generation)).all())
    assert generations == {"FR": 2, "BR": 1}


def test_a_second_copy_of_an_application_changes_nothing(database, replica):
    data = received_data(government_name="Créteil", country="FR")
    with registry(database) as store:
        assert actions.receive_application(store, ApplicationReceived.from_data(data))
    with registry(replica) as store:
        assert actions.receive_application(store, ApplicationReceived.from_data(data)) is None
    with registry(database) as store:
        assert [c.government_name for c in store.duplicate_candidates("FR", excluding="")] == [
            "Créteil"]


def test_two_applications_of_one_government_at_once_see_each_other(postgresql_database):
    """The country's counter is held by the first transaction until it commits: the second
    waits for it, then compares itself with the first (before, neither saw the other)."""
    other = shared_db.Database(postgresql_database.url)
    try:
        with registry(postgresql_database) as store:
            first = actions.receive_application(store, ApplicationReceived.from_data(
                received_data(government_name="Grigny", country="FR")))
            second = eventlet.spawn(receive, other, "Ville de Grigny")
            eventlet.sleep(0.5)
            assert not second.dead  # waiting for the first one's commit
        assert flagged(second.wait()) == [first.reference]
    finally:
        other.dispose()
