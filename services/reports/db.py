"""Reports' tables: the read model fed by events, and the digest delivery log.

Instants are stored as naive UTC (what SQLite and PostgreSQL ``TIMESTAMP`` columns compare
alike, see shared.retry.utcnow); the domain sees aware UTC datetimes only.
"""
from __future__ import annotations

import json
import json.scanner
from collections.abc import Callable, Iterable, Iterator
from dataclasses import fields, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Integer,
    String,
    UniqueConstraint,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from services.reports.domain import ApplicationView, Decision, MemberView, Period, WaveView
from shared import db as shared_db
from shared.inbox import DONE, PENDING, InboxRow
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


class IssuedStaffToken(Base):
    """A staff token the registry generated (none was configured), known by its digest only."""

    __tablename__ = "staff_tokens"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[datetime] = mapped_column(DateTime)


metadata = [Base.metadata, shared_db.Base.metadata]

READ_MODEL = (ApplicationRow, MemberRow, DecisionRow, WaveRow)

_STORE = "reports.read_model_store"


def to_db(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment is not None else None


def from_db(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None else None


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
        """Write back what was saved: new rows inserted, known rows updated by key."""
        saved, self._saved = self._saved, {}
        decisions, self._decisions = self._decisions, {}
        for row_class in (ApplicationRow, MemberRow, WaveRow):
            new, known = [], []
            for (kind, key), view in saved.items():
                if kind is row_class:
                    (known if self._read.get((kind, key)) is not None else new).append(
                        _columns(view))
                    self._read[(kind, key)] = view
            if new:
                self.session.execute(insert(row_class), new)
            if known:
                self.session.execute(update(row_class), known)
        if decisions:
            insert_ = pg_insert if self._lock else sqlite_insert
            self.session.execute(
                insert_(DecisionRow).on_conflict_do_nothing(index_elements=["event_id"]),
                [_columns(decision) for decision in decisions.values()])

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
        # The driver's own cursor and rows, converted here: through the ORM (or even Core's
        # result processing) a 100,000-member model took seconds to read instead of a fraction.
        self.write()
        self.session.flush()
        names = [f.name for f in fields(view_class)]
        table = row_class.__table__
        types = [table.c[name].type for name in names]
        readers = [(index, reader) for index, column_type in enumerate(types)
                   if (reader := _reader(column_type)) is not None]
        # Instants and JSON come as text from both databases, and are parsed by _reader: much
        # faster than psycopg2's own conversions followed by setting the time zone.
        columns = [_as_text(name, column_type, self._lock)
                   for name, column_type in zip(names, types, strict=True)]
        cursor = self.session.connection().connection.cursor()
        try:
            cursor.execute(f"SELECT {', '.join(columns)} FROM {table.name}")  # our own names
            rows = cursor.fetchall()
        finally:
            cursor.close()
        if not rows:
            return iter(())
        # Converted a column at a time, and the views made by map: a loop per row and value
        # cost more than the query.
        values = list(zip(*rows, strict=True))
        del rows
        for index, read in readers:
            values[index] = read(values[index])
        return map(view_class, *values)


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
            value = to_db(value)
        elif isinstance(value, tuple):
            value = list(value)
        values[f.name] = value
    return values


def _view(view_class, row):
    return _view_from(view_class, {f.name: getattr(row, f.name) for f in fields(view_class)})


def _view_from(view_class, values: dict):
    for name, value in values.items():
        if isinstance(value, datetime):
            values[name] = from_db(value)
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
    moment = to_db(at)
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
    return from_db(session.scalar(
        select(func.max(DigestDelivery.period_end)).where(DigestDelivery.digest == digest)
    ))


def claim_period(session: Session, digest: str, period: Period, event_id: str,
                 now: datetime) -> bool:
    """Record the delivery of ``period``; False if another process already has it."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    result = session.execute(
        insert(DigestDelivery)
        .values(digest=digest, period_start=to_db(period.start), period_end=to_db(period.end),
                event_id=event_id, delivered_at=to_db(now))
        .on_conflict_do_nothing(index_elements=["digest", "period_start"])
    )
    return result.rowcount == 1


def deliveries(session: Session, digest: str | None = None, limit: int = 100) -> list[dict]:
    query = select(DigestDelivery).order_by(DigestDelivery.period_start.desc()).limit(limit)
    if digest is not None:
        query = query.where(DigestDelivery.digest == digest)
    return [
        {"digest": d.digest, "period": {"start": from_db(d.period_start).isoformat(),
                                        "end": from_db(d.period_end).isoformat()},
         "event_id": d.event_id, "delivered_at": from_db(d.delivered_at).isoformat()}
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
    return {k: from_db(v).isoformat() if isinstance(v, datetime) else v
            for k, v in values.items()}


def remember_staff_token(session: Session, label: str, digest: str, issued_at: datetime) -> None:
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(IssuedStaffToken)
                    .values(digest=digest, label=label, issued_at=to_db(issued_at))
                    .on_conflict_do_nothing(index_elements=["digest"]))


def issued_staff_token_digests(session: Session) -> list[str]:
    return list(session.scalars(select(IssuedStaffToken.digest)))
