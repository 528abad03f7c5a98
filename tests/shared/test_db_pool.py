"""A pooled PostgreSQL connection is pinged only after it sat idle (shared.db): one that the
server dropped while idle is replaced unseen; one in steady use is not pinged, so its loss is
learnt from the error, once, and the pool starts afresh."""
from __future__ import annotations

import psycopg2
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from shared import db as shared_db
from shared.db import Database
from tests.support import infra

pytestmark = pytest.mark.real


def _backend_pid(database: Database) -> int:
    with database.transaction() as session:
        return session.scalar(text("SELECT pg_backend_pid()"))


def _terminate(pid: int) -> None:
    """As a server restart or an idle timeout would, from outside the pool."""
    connection = psycopg2.connect(infra.PG_ADMIN_DSN)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
    finally:
        connection.close()


@pytest.fixture
def database(postgres):
    database = Database(postgres("pool").url)
    yield database
    database.engine.dispose()


def test_a_connection_dropped_while_idle_is_replaced_before_use(database, monkeypatch):
    monkeypatch.setattr(shared_db, "PING_AFTER_IDLE_SECONDS", 0.0)
    first = _backend_pid(database)
    _terminate(first)
    assert _backend_pid(database) != first  # no error: the ping found it dead


def test_a_connection_in_steady_use_is_not_pinged_and_its_loss_is_learnt_once(database,
                                                                              monkeypatch):
    monkeypatch.setattr(shared_db, "PING_AFTER_IDLE_SECONDS", 3600.0)
    first = _backend_pid(database)
    _terminate(first)
    with pytest.raises(OperationalError):
        _backend_pid(database)
    assert _backend_pid(database) != first
