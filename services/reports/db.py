"""Reports' tables: the read model fed by events, and the digest delivery log.

Instants are stored as naive UTC (what SQLite and PostgreSQL ``TIMESTAMP`` columns compare
alike, see shared.clock); the domain sees aware UTC datetimes only.
"""
from __future__ import annotations

import functools
import json
import json.scanner
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import fields, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Integer,
    String,
    UniqueConstraint,
    bindparam,
    delete,
    event,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from services.reports.domain import (
    WAITING_AFTER,
    ApplicationView,
    Decision,
    MemberView,
    Period,
    WaveView,
)
from services.reports.domain.progress import (
    POPULATION_BANDS,
    TOP_POPULATION_BAND,
    UNKNOWN,
    ActiveMembers,
    StatusAge,
    campaign_start,
    decisions_by_month_of,
    membership_changes_merged,
)
from services.reports.domain.readmodel import PENDING as PENDING_STATUSES
from services.reports.domain.readmodel import STATUSES
from shared import db as shared_db
from shared.clock import aware_utc, naive_utc
from shared.inbox import DONE, PENDING, InboxRow
from shared.staff_access import AnnouncedTokens, IssuedTokenColumns
from shared.subject_access import events_about


class Base(DeclarativeBase):
    pass


class ApplicationRow(Base):
    __tablename__ = "rm_applications"

    reference: Mapped[str] = mapped_column(String(40), primary_key=True)
    application_id: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime | None] = mapped_column(DateTime)
    government_name: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    jurisdiction_type: Mapped[str | None] = mapped_column(String(32))
    population: Mapped[int | None] = mapped_column(Integer)
    themes: Mapped[list] = mapped_column(JSON, default=list)
    language: Mapped[str | None] = mapped_column(String(2))
    status: Mapped[str | None] = mapped_column(String(32), index=True)
    status_at: Mapped[datetime | None] = mapped_column(DateTime)
    wave: Mapped[int | None] = mapped_column(Integer)
    member_id: Mapped[int | None] = mapped_column(Integer)
    erased: Mapped[bool] = mapped_column(Boolean, default=False)


class MemberRow(Base):
    __tablename__ = "rm_members"

    member_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    wave: Mapped[int | None] = mapped_column(Integer)
    government_name: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(64))
    jurisdiction_type: Mapped[str | None] = mapped_column(String(32))
    population: Mapped[int | None] = mapped_column(Integer)
    themes: Mapped[list] = mapped_column(JSON, default=list)
    reference: Mapped[str | None] = mapped_column(String(40))
    joined_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    left_at: Mapped[datetime | None] = mapped_column(DateTime)
    left_reason: Mapped[str | None] = mapped_column(String(16))
    erased: Mapped[bool] = mapped_column(Boolean, default=False)
    website: Mapped[str | None] = mapped_column(String(500))
    listing_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    listing_at: Mapped[datetime | None] = mapped_column(DateTime)


class DecisionRow(Base):
    __tablename__ = "rm_decisions"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    wave: Mapped[int | None] = mapped_column(Integer)


class WaveRow(Base):
    __tablename__ = "rm_waves"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[dict] = mapped_column(JSON, default=dict)
    theme: Mapped[dict] = mapped_column(JSON, default=dict)
    opens_at: Mapped[datetime | None] = mapped_column(DateTime)
    closes_at: Mapped[datetime | None] = mapped_column(DateTime)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)


class DigestDelivery(Base):
    """One row per delivered period: the unique constraint is what makes a digest go out once.

    Two reports processes that find the same period due both build it; only the one whose
    INSERT succeeds writes its ``digest.ready`` to the outbox, in the same transaction.
    """

    __tablename__ = "digest_deliveries"
    __table_args__ = (UniqueConstraint("digest", "period_start", name="uq_digest_period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    digest: Mapped[str] = mapped_column(String(64))
    period_start: Mapped[datetime] = mapped_column(DateTime)
    period_end: Mapped[datetime] = mapped_column(DateTime)
    event_id: Mapped[str] = mapped_column(String(36))
    delivered_at: Mapped[datetime] = mapped_column(DateTime)


class IssuedStaffToken(Base, IssuedTokenColumns):
    __tablename__ = "staff_tokens"


# The tokens the registry announced (staff.token_issued): remembered, and read by StaffAccess.
announced_tokens = AnnouncedTokens(IssuedStaffToken)


metadata = [Base.metadata, shared_db.Base.metadata]

READ_MODEL = (ApplicationRow, MemberRow, DecisionRow, WaveRow)

_STORE = "reports.read_model_store"


class SqlStore:
    """The read model's store on a session (the domain's ReadModelStore).

    Views are read with Core (no ORM objects), kept for the rest of the transaction, and the
    ones saved are written when it commits, many rows per statement: the inbox projects a group
    of events in one transaction, and an application touched by several of them is read and
    written once (``for_session`` gives every handler of the transaction the same store).

    On PostgreSQL a row is read FOR UPDATE: two replicas projecting events of the same
    application must not both read the old state and each write back half of the change.
    Two that both create the same row collide on its primary key, and the inbox retries one.
    """

    def __init__(self, session: Session):
        self.session = session
        self._lock = session.bind.dialect.name == "postgresql"
        # (row class, key) -> the view as read (None: no row yet), and what to write back.
        self._read: dict[tuple, object] = {}
        self._saved: dict[tuple, object] = {}
        self._decisions: dict[str, Decision] = {}

    @classmethod
    def for_session(cls, session: Session) -> SqlStore:
        store = session.info.get(_STORE)
        if store is None:
            store = session.info[_STORE] = cls(session)
            event.listen(session, "before_commit", lambda _session: store.write())
        return store

    def read_ahead(self, references: Iterable[str], member_ids: Iterable[int],
                   wave_numbers: Iterable[int]) -> None:
        """Read the rows of these keys (or learn they have none) in one statement per table,
        for the handlers of a group of events that will ask for them one by one."""
        for row_class, view_class, keys in ((ApplicationRow, ApplicationView, references),
                                            (MemberRow, MemberView, member_ids),
                                            (WaveRow, WaveView, wave_numbers)):
            wanted = sorted({key for key in keys if (row_class, key) not in self._read})
            if not wanted:
                continue
            primary = row_class.__mapper__.primary_key[0].name
            # In key order: two replicas locking overlapping groups take them in one order.
            if self._lock:
                where, params = f"WHERE {primary} = ANY(?) ORDER BY {primary} FOR UPDATE", (
                    wanted,)
            else:
                where = f"WHERE {primary} IN ({', '.join('?' for _ in wanted)})"
                params = tuple(wanted)
            found = {getattr(view, primary): view
                     for view in _views(self.session, row_class, view_class, where, params)}
            for key in wanted:
                self._read[(row_class, key)] = found.get(key)

    def application(self, reference: str) -> ApplicationView | None:
        return self._get(ApplicationRow, ApplicationView, reference)

    def save_application(self, view: ApplicationView) -> None:
        self._put(ApplicationRow, view.reference, view)

    def member(self, member_id: int) -> MemberView | None:
        return self._get(MemberRow, MemberView, member_id)

    def save_member(self, view: MemberView) -> None:
        self._put(MemberRow, view.member_id, view)

    def record_decision(self, decision: Decision) -> None:
        self._decisions.setdefault(decision.event_id, decision)

    def wave(self, number: int) -> WaveView | None:
        return self._get(WaveRow, WaveView, number)

    def save_wave(self, view: WaveView) -> None:
        self._put(WaveRow, view.number, view)

    def write(self) -> None:
        """Write back what was saved: new rows inserted, known rows updated by key, a statement
        per table for each."""
        saved, self._saved = self._saved, {}
        decisions, self._decisions = self._decisions, {}
        for row_class in (ApplicationRow, MemberRow, WaveRow):
            new, known = [], []
            for (kind, key), view in saved.items():
                if kind is row_class:
                    (known if self._read.get((kind, key)) is not None else new).append(view)
                    self._read[(kind, key)] = view
            # A plain INSERT for new rows: two replicas creating the same row collide on its
            # key, and the inbox retries one of them (which then reads the row and updates it).
            if new:
                self._write(row_class.__table__, new, "")
            if known:
                # Known rows (read in this transaction, locked on PostgreSQL) all exist: each
                # conflicts, and is updated.
                self._write(row_class.__table__, known, _rewritten(row_class.__table__))
        if decisions:
            self._write(DecisionRow.__table__, list(decisions.values()),
                        "ON CONFLICT (event_id) DO NOTHING")

    def _write(self, table, views: list, conflict: str) -> None:
        """Views as rows of ``table``, in one statement. On PostgreSQL the rows are one JSON
        text (``_json_rows``) that the database takes apart into the table's own column types:
        the same SQL for any number of rows, and one value for psycopg2 to quote. SQLAlchemy's
        INSERT of many rows cost more in Python per value than the statement took (and made an
        INSERT ... ON CONFLICT a round trip per row); an array per column, quoted by psycopg2
        value by value, was still a quarter of the live path's time in this process."""
        names = [f.name for f in fields(views[0])]
        if not self._lock:
            rows = [_columns(view) for view in views]
            self.session.execute(sql_text(
                f"INSERT INTO {table.name} ({', '.join(names)}) "
                f"VALUES ({', '.join(':' + name for name in names)}) {conflict}").bindparams(
                *(bindparam(name, type_=table.c[name].type) for name in names)), rows)
            return
        _execute(self.session, _json_insert(table, tuple(names), conflict), [_json_rows(views)])

    def _get(self, row_class, view_class, key):
        cache_key = (row_class, key)
        if cache_key in self._saved:
            return self._saved[cache_key]
        if cache_key not in self._read:
            table = row_class.__table__
            primary = row_class.__mapper__.primary_key[0]
            query = select(table).where(primary == key)
            if self._lock:
                query = query.with_for_update()
            row = self.session.execute(query).mappings().first()
            # Remembered, misses too: saving a new view must not look for its row again.
            self._read[cache_key] = (
                _view_from(view_class, {f.name: row[f.name] for f in fields(view_class)})
                if row is not None else None)
        view = self._read[cache_key]
        # The domain changes the view it gets: hand it a copy, so the one read stays as read.
        return replace(view) if view is not None else None

    def _put(self, row_class, key, view) -> None:
        self._saved[(row_class, key)] = view

    def applications(self) -> Iterable[ApplicationView]:
        return self._all(ApplicationRow, ApplicationView)

    def members(self) -> Iterable[MemberView]:
        return self._all(MemberRow, MemberView)

    def decisions(self) -> Iterable[Decision]:
        return self._all(DecisionRow, Decision)

    def waves(self) -> Iterable[WaveView]:
        return self._all(WaveRow, WaveView)

    def _all(self, row_class, view_class) -> Iterator:
        self.write()
        self.session.flush()
        return _views(self.session, row_class, view_class)


def _views(session: Session, row_class, view_class, where: str = "",
           params: tuple = ()) -> Iterator:
    """The views of the rows matching ``where`` (SQL with ``?`` for each of ``params``)."""
    # The driver's own cursor and rows, converted here: through the ORM (or even Core's
    # result processing) a 100,000-member model took seconds to read instead of a fraction.
    postgresql = session.bind.dialect.name == "postgresql"
    names = [f.name for f in fields(view_class)]
    table = row_class.__table__
    types = [table.c[name].type for name in names]
    readers = [(index, reader) for index, column_type in enumerate(types)
               if (reader := _reader(column_type)) is not None]
    # Instants and JSON come as text from both databases, and are parsed by _reader: much
    # faster than psycopg2's own conversions followed by setting the time zone.
    columns = [_as_text(name, column_type, postgresql)
               for name, column_type in zip(names, types, strict=True)]
    rows = _fetch(session, f"SELECT {', '.join(columns)} FROM {table.name} {where}", params)
    if not rows:
        return iter(())
    # Converted a column at a time, and the views made by map: a loop per row and value
    # cost more than the query.
    values = list(zip(*rows, strict=True))
    del rows
    for index, read in readers:
        values[index] = read(values[index])
    return map(view_class, *values)


def _rewritten(table) -> str:
    primary = [column.name for column in table.primary_key]
    return (f"ON CONFLICT ({', '.join(primary)}) DO UPDATE SET "
            + ", ".join(f"{column.name} = EXCLUDED.{column.name}" for column in table.columns
                        if column.name not in primary))


@functools.cache
def _json_insert(table, names: tuple[str, ...], conflict: str) -> str:
    """PostgreSQL: an INSERT of the rows of a JSON array of objects (``_json_rows``), each value
    read as its column's type: a string too long for its column is refused, as it is by an
    INSERT of values (a cast to varchar(n) would cut it short)."""
    columns = ", ".join(names)
    return (f"INSERT INTO {table.name} ({columns}) SELECT {columns} "
            f"FROM json_populate_recordset(NULL::{table.name}, %s) {conflict}")


def _json_rows(views: list) -> str:
    """Views as a JSON array of objects, one key per field: a JSON column's value nested as it
    is (its text as ``json.dumps`` writes it, as SQLAlchemy's JSON type stores it), an instant
    as naive UTC in ISO 8601."""
    return json.dumps([vars(view) for view in views], default=_json_instant)


def _json_instant(value: Any) -> str:
    if isinstance(value, datetime):
        return naive_utc(value).isoformat()
    raise TypeError(f"{type(value).__name__} is not a read model's value")


def _execute(session: Session, sql: str, params: list) -> None:
    """Our own SQL (``%s`` for each parameter) in the session's transaction, on its driver's
    cursor."""
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(sql, params)
    finally:
        cursor.close()


def _fetch(session: Session, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of our own SQL, ``?`` standing for each parameter, through the driver's cursor."""
    if session.bind.dialect.name == "postgresql":
        sql = sql.replace("%", "%%").replace("?", "%s")
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        cursor.close()


def _as_text(name: str, column_type, postgresql: bool) -> str:
    if isinstance(column_type, DateTime) and postgresql:
        # Spelled out: the text of a timestamp would follow the server's DateStyle.
        return f"to_char({name}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
    if isinstance(column_type, DateTime | JSON):
        return f"CAST({name} AS TEXT)"
    return name


def _reader(column_type) -> Callable[[tuple], list] | None:
    """How to turn a column of text into the domain's values; None: as they come."""
    if isinstance(column_type, DateTime):
        # Naive UTC as text; parsed with its offset, many times faster than parsed naive and
        # then given a tzinfo.
        parse = datetime.fromisoformat
        return lambda column: [None if value is None else parse(value + "+00:00")
                               for value in column]
    if isinstance(column_type, JSON):
        return _read_json_column

    if isinstance(column_type, Boolean):
        return lambda column: [None if value is None else bool(value) for value in column]
    return None


# json's C scanner without json.loads' Python wrapper: a third of the time of a model read went
# into that wrapper, for one short list per row.
_scan_json = json.scanner.make_scanner(json.JSONDecoder())


def _read_json_column(column: tuple) -> list:
    """JSON texts as values, lists as tuples. The same text is read once: a column of themes
    holds a few hundred distinct values over 100,000 rows, and a tuple can be shared."""
    known: dict[str, Any] = {}
    values = []
    for text in column:
        if not isinstance(text, str):
            values.append(tuple(text) if isinstance(text, list) else text)
            continue
        value = known.get(text, _MISSING)
        if value is _MISSING:
            value = _scan_json(text, 0)[0]
            if isinstance(value, list):
                value = tuple(value)
            # Only immutable values are shared between views.
            if isinstance(value, tuple | str | int | float | bool) or value is None:
                known[text] = value
        values.append(value)
    return values


_MISSING = object()



def _key(row_class, values: dict):
    return values[row_class.__mapper__.primary_key[0].name]


def _columns(view) -> dict:
    values = {}
    for f in fields(view):
        value = getattr(view, f.name)
        if isinstance(value, datetime):
            value = naive_utc(value)
        elif isinstance(value, tuple):
            value = list(value)
        values[f.name] = value
    return values


def _view(view_class, row):
    return _view_from(view_class, {f.name: getattr(row, f.name) for f in fields(view_class)})


def _view_from(view_class, values: dict):
    for name, value in values.items():
        if isinstance(value, datetime):
            values[name] = aware_utc(value)
        elif isinstance(value, list):
            values[name] = tuple(value)
    return view_class(**values)


def insert_model(session: Session, model, chunk: int = 10_000) -> None:
    """Write a whole read model into empty tables, many rows per statement."""
    groups = (
        (ApplicationRow, model.applications()),
        (MemberRow, model.members()),
        (DecisionRow, model.decisions()),
        (WaveRow, model.waves()),
    )
    for row_class, views in groups:
        rows = [_columns(view) for view in views]
        for start in range(0, len(rows), chunk):
            session.execute(insert(row_class), rows[start:start + chunk])


def active_members(session: Session, at: datetime) -> int:
    moment = naive_utc(at)
    return session.scalar(
        select(func.count()).select_from(MemberRow).where(
            MemberRow.joined_at < moment,
            (MemberRow.left_at.is_(None)) | (MemberRow.left_at >= moment),
        )
    ) or 0


def directory_candidates(session: Session) -> tuple[list[MemberView], list[WaveView]]:
    """The members who said yes to the directory (the domain decides who of them is listed),
    with what the directory may show and needs to decide; and the waves, for their names.

    Read with the driver's own cursor, as ``SqlStore._all`` does, and for the same reason: on
    every public request, SQLAlchemy's result processing was most of the time of the read.
    """
    table = MemberRow.__table__
    postgresql = session.bind.dialect.name == "postgresql"
    columns = [_as_text(name, table.c[name].type, postgresql) for name in _DIRECTORY_COLUMNS]
    cursor = session.connection().connection.cursor()
    try:
        # Our own names; true is spelled alike by both databases.
        cursor.execute(f"SELECT {', '.join(columns)} FROM {table.name} "
                       "WHERE listing_consent = true")
        rows = cursor.fetchall()
    finally:
        cursor.close()
    values = [list(column) for column in zip(*rows, strict=True)] or [
        [] for _ in _DIRECTORY_COLUMNS]
    for index, name in enumerate(_DIRECTORY_COLUMNS):
        read = _reader(table.c[name].type)
        if read is not None:
            values[index] = read(values[index])
    members = [
        MemberView(member_id=member_id, government_name=name, country=country, region=region,
                   wave=wave, themes=themes or (), joined_at=joined_at, left_at=left_at,
                   erased=bool(erased), website=website, listing_consent=True)
        for (member_id, name, country, region, wave, themes, joined_at, left_at, erased,
             website) in zip(*values, strict=True)
    ]
    waves = [_view(WaveView, row) for row in session.scalars(select(WaveRow))]
    return members, waves


_DIRECTORY_COLUMNS = ("member_id", "government_name", "country", "region", "wave", "themes",
                      "joined_at", "left_at", "erased", "website")


def clear_read_model(session: Session) -> None:
    for row_class in READ_MODEL:
        session.execute(delete(row_class))


def processed_events(session: Session, batch: int = 5000) -> Iterator[dict]:
    """Every event the inbox has processed, oldest first, read in batches."""
    last_id = 0
    while True:
        rows = session.execute(
            select(InboxRow.id, InboxRow.payload)
            .where(InboxRow.status == DONE, InboxRow.id > last_id)
            .order_by(InboxRow.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        for row_id, payload in rows:
            yield payload
            last_id = row_id


def inbox_backlog(session: Session) -> int:
    """Events received and not yet in the read model (parked ones excepted: they wait for staff)."""
    return session.scalar(
        select(func.count()).select_from(InboxRow).where(InboxRow.status == PENDING)
    ) or 0


def last_delivered_end(session: Session, digest: str) -> datetime | None:
    return aware_utc(session.scalar(
        select(func.max(DigestDelivery.period_end)).where(DigestDelivery.digest == digest)
    ))


def claim_period(session: Session, digest: str, period: Period, event_id: str,
                 now: datetime) -> bool:
    """Record the delivery of ``period``; False if another process already has it."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    result = session.execute(
        insert(DigestDelivery)
        .values(digest=digest, period_start=naive_utc(period.start),
                period_end=naive_utc(period.end), event_id=event_id, delivered_at=naive_utc(now))
        .on_conflict_do_nothing(index_elements=["digest", "period_start"])
    )
    return result.rowcount == 1


def deliveries(session: Session, digest: str | None = None, limit: int = 100,
               not_sent: str | None = None) -> list[dict]:
    """The periods delivered, latest first; ``not_sent`` is the event id of a row that only
    marks a period as past (a new installation's schedule start), which the log leaves out."""
    query = select(DigestDelivery).order_by(DigestDelivery.period_start.desc()).limit(limit)
    if digest is not None:
        query = query.where(DigestDelivery.digest == digest)
    if not_sent is not None:
        query = query.where(DigestDelivery.event_id != not_sent)
    return [
        {"digest": d.digest, "period": {"start": aware_utc(d.period_start).isoformat(),
                                        "end": aware_utc(d.period_end).isoformat()},
         "event_id": d.event_id, "delivered_at": aware_utc(d.delivered_at).isoformat()}
        for d in session.scalars(query)
    ]


def held_about(session: Session, email: str) -> dict[str, Any]:
    """Subject access: reports keeps no address in its read model; the events it received
    about the person do carry their data, and lead to the read model's rows of the same
    applications and members (the government's facts, counted by the public figures)."""
    events = events_about(session, email)
    references = {e["data"]["reference"] for e in events
                  if isinstance(e["data"].get("reference"), str)}
    member_ids = {e["data"]["member_id"] for e in events
                  if isinstance(e["data"].get("member_id"), int)}
    applications = session.scalars(select(ApplicationRow).where(
        ApplicationRow.reference.in_(sorted(references))).order_by(ApplicationRow.reference))
    members = session.scalars(select(MemberRow).where(or_(
        MemberRow.member_id.in_(sorted(member_ids)),
        MemberRow.reference.in_(sorted(references)))).order_by(MemberRow.member_id))
    return {"applications": [_row_data(row) for row in applications],
            "members": [_row_data(row) for row in members],
            "events": events}


def _row_data(row: Any) -> dict[str, Any]:
    values = {c.name: getattr(row, c.key) for c in row.__table__.columns}
    return {k: aware_utc(v).isoformat() if isinstance(v, datetime) else v
            for k, v in values.items()}




# --- the digest and the overview, counted by the database ----------------------------------
#
# A digest over 100,000 members used to copy the whole read model out (some 450,000 rows made
# views) to count it in Python: most of its time. Here the database counts (GROUP BY) and hands
# over only the rows a digest lists, chosen by the domain's own rules, which decide again.

# What a row's "since" is (ApplicationView.since): its submission, else its last change.
_SINCE = "COALESCE(received_at, status_at)"
_ACTIVE = "joined_at IS NOT NULL AND joined_at < ? AND (left_at IS NULL OR left_at >= ?)"


def _scanned(table: str, postgresql: bool) -> str:
    """A table read whole by an aggregate: on SQLite, not through an index on the instant it
    filters on (nearly every row passes, and the index visits them in random order: three
    times slower than a scan); PostgreSQL's planner knows."""
    return table if postgresql else f"{table} NOT INDEXED"


def _instant(moment: datetime) -> str:
    """An instant as both databases compare it with the stored naive UTC (SQLite compares
    text, and stores every instant with its microseconds)."""
    return naive_utc(moment).strftime("%Y-%m-%d %H:%M:%S.%f")


def digest_candidates(session: Session, period: Period, at: datetime) -> dict[str, list]:
    """The rows a digest of ``period`` at ``at`` may list (``digest_of``'s candidates): new
    applications, the decisions of the period with their applications, what waits, and the
    members who joined or left."""
    start, end = _instant(period.start), _instant(period.end)
    cutoff = _instant(at - WAITING_AFTER)
    pending = ", ".join("?" for _ in PENDING_STATUSES)
    applications = list(_views(
        session, ApplicationRow, ApplicationView,
        f"WHERE ({_SINCE} >= ? AND {_SINCE} < ?)"
        f" OR ((status IN ({pending}) OR status_at > ?) AND {_SINCE} < ?)"
        " OR reference IN (SELECT reference FROM rm_decisions"
        " WHERE decided_at >= ? AND decided_at < ?)",
        (start, end, *PENDING_STATUSES, _instant(at), cutoff, start, end)))
    decisions = list(_views(session, DecisionRow, Decision,
                            "WHERE decided_at >= ? AND decided_at < ?", (start, end)))
    members = list(_views(
        session, MemberRow, MemberView,
        "WHERE (joined_at >= ? AND joined_at < ?) OR (left_at >= ? AND left_at < ?)",
        (start, end, start, end)))
    return {"applications": applications, "decisions": decisions, "members": members}


def overview_parts(session: Session, at: datetime) -> dict[str, Any]:
    """``overview_of``'s parts at ``at``, counted by the database: no member or application is
    read as a row, only the instants of joins and departures."""
    postgresql = session.bind.dialect.name == "postgresql"
    moment = _instant(at)
    waves = list(_views(session, WaveRow, WaveView))
    # The joins in time order (on SQLite read from the index on joined_at alone, in its order;
    # PostgreSQL sorts them), the departures apart: two ordered lists merged in one pass
    # instead of 100,000 (joined_at, left_at) pairs sorted in Python, where the overview's
    # Python time went before (membership_changes_of was a tenth of a digest's samples).
    instant = _reader(DateTime())
    joins = instant([joined_at for (joined_at,) in _fetch(
        session, f"SELECT {_as_text('joined_at', DateTime(), postgresql)} FROM rm_members "
                 "WHERE joined_at < ? ORDER BY joined_at", (moment,))])
    departures = instant([left_at for (left_at,) in _fetch(
        session, f"SELECT {_as_text('left_at', DateTime(), postgresql)} "
                 f"FROM {_scanned('rm_members', postgresql)} "
                 "WHERE joined_at < ? AND left_at < ? ORDER BY left_at", (moment, moment))])
    first_join = _reader(DateTime())([_fetch(
        session, f"SELECT {_as_text('min(joined_at)', DateTime(), postgresql)} FROM rm_members"
    )[0][0]])[0]
    first_opening = campaign_start((), waves)
    return {
        "changes": membership_changes_merged(joins, departures),
        "campaign_start": min((m for m in (first_join, first_opening) if m is not None),
                              default=None),
        "active": _active_members(session, moment, _scanned("rm_members", postgresql)),
        "applications_by_status": _applications_by_status(session, at, postgresql),
        "decisions_by_month": _decisions_by_month(session, moment, postgresql),
        "waves": waves,
    }


def _active_members(session: Session, moment: str, members: str) -> ActiveMembers:
    # The five breakdowns of one value each are counted by one GROUP BY of all five (some
    # 10,000 groups over 100,000 members), then added up here: on SQLite every GROUP BY sorts
    # the rows it reads, and five of them over the same rows cost twice this one.
    band = "CASE WHEN population IS NULL THEN ?" + "".join(
        f" WHEN population < {bound} THEN ?" for bound, _band in POPULATION_BANDS) + " ELSE ? END"
    by_wave: Counter = Counter()
    by_region: Counter = Counter()
    by_country: Counter = Counter()
    by_jurisdiction_type: Counter = Counter()
    bands: Counter = Counter()
    for wave, region, country, jurisdiction_type, population_band, count in _fetch(
            session, f"SELECT wave, region, country, jurisdiction_type, {band}, count(*) "
                     f"FROM {members} WHERE {_ACTIVE} GROUP BY 1, 2, 3, 4, 5",
            (UNKNOWN, *(name for _bound, name in POPULATION_BANDS), TOP_POPULATION_BAND,
             moment, moment)):
        by_wave[wave] += count
        by_region[region] += count
        by_country[country] += count
        by_jurisdiction_type[jurisdiction_type] += count
        bands[population_band] += count
    themes: Counter[str] = Counter()
    # The themes of a member are one JSON list; a few hundred distinct lists among thousands.
    for text, count in _fetch(
            session, f"SELECT CAST(themes AS TEXT), count(*) FROM {members} WHERE {_ACTIVE} "
                     "GROUP BY 1", (moment, moment)):
        for theme in json.loads(text) if text else ():
            themes[theme] += count
    return ActiveMembers(by_wave=by_wave, by_region=by_region, by_country=by_country,
                         by_jurisdiction_type=by_jurisdiction_type,
                         by_population_band=bands, by_theme=themes)


def _applications_by_status(session: Session, at: datetime,
                            postgresql: bool) -> dict[str, StatusAge]:
    # The mean age is the age of the mean instant: epoch seconds averaged by the database.
    epoch = (f"extract(epoch from {_SINCE})" if postgresql
             else f"(julianday({_SINCE}) - 2440587.5) * 86400.0")
    oldest = _as_text(f"min({_SINCE})", DateTime(), postgresql)
    rows = _fetch(session, f"SELECT status, count(*), avg({epoch}), {oldest} "
                           f"FROM {_scanned('rm_applications', postgresql)} "
                           "WHERE status IS NOT NULL "
                           f"AND {_SINCE} < ? GROUP BY status", (_instant(at),))
    day = timedelta(days=1)
    ages = {
        status: StatusAge(count, (at.timestamp() - float(mean)) / day.total_seconds(),
                          (at - _reader(DateTime())([first])[0]) / day)
        for status, count, mean, first in rows
    }
    return {status: ages[status] for status in STATUSES if status in ages}


def _decisions_by_month(session: Session, moment: str, postgresql: bool) -> dict:
    month = "to_char(decided_at, 'YYYY-MM')" if postgresql else "substr(decided_at, 1, 7)"
    rows = _fetch(session, f"SELECT {month}, outcome, count(*) "
                           f"FROM {_scanned('rm_decisions', postgresql)} "
                           f"WHERE decided_at < ? GROUP BY 1, 2", (moment,))
    return decisions_by_month_of(Counter(
        {(int(text[:4]), int(text[5:7]), outcome): count for text, outcome, count in rows}))
