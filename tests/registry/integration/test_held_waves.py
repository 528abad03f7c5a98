"""The waves an arriving application is sorted by are read once per transaction, held FOR
SHARE on PostgreSQL (services.registry.db.RegistryStore.open_wave): a group of applications in
one inbox transaction reads them once, and what this or a later transaction changes is seen.
On SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import event

from services.registry import actions
from services.registry.db import registry
from shared.events import ApplicationReceived
from tests.registry.integration.test_store import NOW, WAVE_4
from tests.registry.unit.fakes import received_data


def received(name: str) -> ApplicationReceived:
    return ApplicationReceived.from_data(received_data(government_name=name, country="BR"))


def wave_reads(database) -> list[str]:
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_):
        if statement.lstrip().startswith("SELECT") and "FROM waves" in statement:
            seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", note)
    return seen


def test_a_group_of_applications_reads_the_waves_once_and_sorts_each_by_them(database):
    reads = wave_reads(database)
    with registry(database) as store:
        sorted_ = [actions.receive_application(store, received(name)).status.value
                   for name in ("Porto Alegre", "Recife", "Belém")]
    assert len(reads) == 1
    assert sorted_ == ["waitlisted"] * 3  # no wave is open after the first migration


def test_a_wave_opened_in_the_same_transaction_or_since_is_the_one_applications_join(database):
    with registry(database) as store:
        assert actions.receive_application(store, received("Curitiba")).status.value == \
            "waitlisted"
        actions.create_wave(store, "alice", WAVE_4, NOW)
        actions.open_wave(store, "alice", 4, NOW)
        joined = actions.receive_application(store, received("Salvador"))
    assert (joined.status.value, joined.wave) == ("under_review", 4)
    with registry(database) as store:
        actions.close_wave(store, "alice", 4, NOW)
    with registry(database) as store:
        assert actions.receive_application(store, received("Fortaleza")).status.value == \
            "waitlisted"
