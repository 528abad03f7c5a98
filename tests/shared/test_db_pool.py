"""A pooled PostgreSQL connection is pinged only after it sat idle (shared.db): one that the
server dropped while idle is replaced unseen; one in steady use is not pinged, so its loss is
learnt from the error, once, and the pool starts afresh."""
from __future__ import annotations

import psycopg2
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

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
    database.dispose()


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


def _first_row_pid(database: Database) -> int:
    return database.first_row("SELECT pg_backend_pid(), %(tag)s", {"tag": "x"})[0]


def test_first_row_commits_by_itself_and_answers_the_first_row(database):
    with database.transaction() as session:
        session.execute(text("CREATE TABLE kept (name text PRIMARY KEY)"))
    assert database.first_row(
        "INSERT INTO kept VALUES (%(name)s) RETURNING name, %(name)s = 'ana'",
        {"name": "ana"}) == ("ana", True)
    with database.transaction() as session:  # another connection sees it: it was committed
        assert session.scalar(text("SELECT count(*) FROM kept")) == 1
    assert database.first_row("SELECT name FROM kept WHERE name = %(n)s", {"n": "bo"}) is None


def test_first_row_raises_sqlalchemys_errors_and_changes_nothing(database):
    with database.transaction() as session:
        session.execute(text("CREATE TABLE kept (name text PRIMARY KEY)"))
    database.first_row("INSERT INTO kept VALUES (%(name)s) RETURNING name", {"name": "ana"})
    with pytest.raises(IntegrityError) as raised:
        database.first_row("INSERT INTO kept VALUES (%(name)s) RETURNING name",
                           {"name": "ana"})
    assert raised.value.orig.diag.constraint_name == "kept_pkey"
    # The connection went back to the pool usable: the next statement works on it.
    assert database.first_row("SELECT count(*) FROM kept", {}) == (1,)


def test_first_row_learns_a_lost_connection_once(database, monkeypatch):
    monkeypatch.setattr(shared_db, "PING_AFTER_IDLE_SECONDS", 3600.0)
    first = _first_row_pid(database)
    _terminate(first)
    with pytest.raises(OperationalError) as raised:
        _first_row_pid(database)
    assert raised.value.connection_invalidated
    assert _first_row_pid(database) != first
