"""Database helpers: one engine per service database, short transactions, alembic migrations.

SQLite is the embedded default, PostgreSQL (psycopg2, green under eventlet) the real one. With
eventlet, a transaction must never wait on the network: a SQLite write lock held across a
cooperative yield would block every other worker. Hence ``transaction()`` blocks that only touch
the database, and I/O (publishing, SMTP) outside them.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from nameko.extensions import DependencyProvider
from sqlalchemy import Connection, Engine, Row, create_engine, event, exc, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql import Executable


class Base(DeclarativeBase):
    """Declarative base of the machinery tables (outbox, inbox) that every service database has.

    Each service keeps its own tables on its own ``DeclarativeBase``; its migrations create both.
    """


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


# A pooled PostgreSQL connection is pinged before use only if it sat idle this long: the server
# restarted, a firewall or idle timeout dropped it. SQLAlchemy's pool_pre_ping pings on every
# checkout, a round trip per transaction: on a busy machine, where each round trip waits for the
# scheduler twice, that was a tenth of every service's time (py-spy, bench pipeline). A
# connection lost while in use is detected by its error, and the pool then drops every
# connection older than it.
PING_AFTER_IDLE_SECONDS = 2.0


def _checked_in(_dbapi_connection, record) -> None:
    record.info["checked_in"] = time.monotonic()


def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
    if time.monotonic() - record.info.get("checked_in", 0.0) < PING_AFTER_IDLE_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
    except Exception as error:
        # The pool discards this connection and checks out another (a fresh one if need be).
        raise exc.DisconnectionError() from error


def make_engine(url: str, **options) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20, **options)
    event.listen(engine, "connect", _checked_in)
    event.listen(engine, "checkin", _checked_in)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._autocommit: Engine | None = None

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed at the end of the block, or rolled back on error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def statement(self) -> Iterator[Connection]:
        """PostgreSQL only: a connection on which each statement commits by itself. A change
        that is one statement then costs one round trip, not three (BEGIN, it, COMMIT). Its
        connections stay in autocommit (a pool of their own): switching a pooled connection
        back and forth costs a round trip of its own."""
        with self._autocommit_engine().connect() as connection:
            yield connection

    def _autocommit_engine(self) -> Engine:
        if self._autocommit is None:
            self._autocommit = make_engine(self.url, isolation_level="AUTOCOMMIT")
            event.listen(self._autocommit, "before_cursor_execute", _with_settings,
                         retval=True)
        return self._autocommit

    def first_row(self, sql: str, parameters: dict[str, Any]) -> tuple | None:
        """PostgreSQL only: the first row of ``sql`` (the DB-API's own SQL, ``%(name)s``
        parameters), committed by itself like ``statement()``'s, run on the pooled connection's
        DB-API cursor: a hot path's one statement without SQLAlchemy's execution machinery
        (about a third of a one-statement submission's database CPU). Its errors are
        SQLAlchemy's, as if a Connection had run it (IntegrityError and the rest), and a
        connection lost under it is invalidated, not given back to the pool."""
        engine = self._autocommit_engine()
        dialect, pooled = engine.dialect, engine.raw_connection()
        try:
            cursor = pooled.dbapi_connection.cursor()
            try:
                cursor.execute(sql, parameters)
                return cursor.fetchone()
            finally:
                if not cursor.closed:
                    cursor.close()
        except dialect.loaded_dbapi.Error as error:
            lost = dialect.is_disconnect(error, pooled.dbapi_connection, None)
            if lost:
                pooled.invalidate(error)
            raise exc.DBAPIError.instance(sql, parameters, error, dialect.loaded_dbapi.Error,
                                          connection_invalidated=lost,
                                          dialect=dialect) from error
        finally:
            pooled.close()

    def execute_alone(self, statement: Executable, parameters: dict | list[dict] | None = None,
                      *, settings: str | None = None) -> list[Row]:
        """One statement committed by itself, its rows (if it returns any): in autocommit on
        PostgreSQL (``statement()``), elsewhere in a transaction of its own. ``parameters``:
        as ``execute`` takes them: the statement's bound values, or a dict of them per row (an
        insert of many rows, say).

        ``settings``, PostgreSQL only: ``SET LOCAL`` commands for this statement alone (a
        planner setting, say). They go in the same query string, which PostgreSQL runs as one
        implicit transaction: the settings last for the statement, still in one round trip,
        where a transaction around them took four (BEGIN, SET, the statement, COMMIT)."""
        if self.is_postgresql:
            with self.statement() as connection:
                if settings:
                    connection = connection.execution_options(**{_SETTINGS: settings})
                return _rows(connection.execute(statement, parameters))
        with self.transaction() as session:
            return _rows(session.execute(statement, parameters))

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
        if self._autocommit is not None:
            self._autocommit.dispose()


# The execution option that carries ``execute_alone``'s settings to the cursor.
_SETTINGS = "hrc_settings"


def _with_settings(_connection, _cursor, statement, parameters, context, executemany):
    settings = context.execution_options.get(_SETTINGS) if context is not None else None
    if settings and not executemany:
        statement = f"{settings}; {statement}"
    return statement, parameters


def _rows(result) -> list[Row]:
    return list(result) if result.returns_rows else []


_databases: dict[str, Database] = {}
_databases_lock = threading.Lock()


def database_for(url: str) -> Database:
    """The process's one Database for a URL, shared by a service's entrypoints and loops."""
    with _databases_lock:
        if url not in _databases:
            _databases[url] = Database(url)
        return _databases[url]


def dispose_all() -> None:
    with _databases_lock:
        for database in _databases.values():
            database.dispose()
        _databases.clear()


_MIGRATION_LOCK = 0x4852430001  # "HRC" + 1: any constant unique to this project


def migrate(url: str, migrations_dir: Path) -> None:
    """Bring a service database to the newest revision of its alembic migrations."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    database = database_for(url)
    with database.engine.begin() as connection:
        if database.is_postgresql:
            # Replicas starting together would race to create alembic_version and the first
            # tables; the first one migrates, the others wait, then find nothing to do.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class ServiceDatabase(DependencyProvider):
    """Injects the service's Database; an entrypoint opens ``transaction()`` for its work.

    A transaction per entrypoint call, committed before the entrypoint answers, rather than a
    session committed after the worker returns: intake must have stored an application before
    it says 202, and a commit failure must become the entrypoint's error, not a log line.
    """

    def setup(self) -> None:
        self.database = database_for(self.container.config["DB_URL"])

    def get_dependency(self, worker_ctx) -> Database:
        return self.database


def insert_for(session: Session):
    """The dialect's ``insert`` (both have ``on_conflict_do_nothing``): keyed effects."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
