"""The registry's database: applications, members, waves, the staff audit log, generated tokens.

The domain's classes (``Application``, ``Member``, ``Wave``) are mapped onto their tables here,
imperatively, so that domain.py stays plain Python; ``RegistryStore`` is the repository that
finds them. Applications and members carry a version column: a change made from a stale read
fails at flush (``StaleDataError``) instead of overwriting a concurrent decision.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    and_,
    cast,
    event,
    func,
    inspect,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.mutable import MutableDict, MutableList
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, object_session

from services.registry import candidates
from services.registry.access import AuditEntry
from services.registry.candidates import key_of
from services.registry.domain import (
    OPEN_STATUSES,
    Application,
    ApplicationStatus,
    DomainError,
    Event,
    Member,
    MemberStatus,
    Wave,
    WaveStatus,
    government_key,
)
from services.registry.duplicates import Candidate
from shared import db as shared_db
from shared.clock import aware_utc, naive_utc, utcnow
from shared.erasure import Person, scrub_events
from shared.events import new_event
from shared.outbox import record
from shared.staff_tokens import StaffToken
from shared.subject_access import events_about


class Base(DeclarativeBase):
    pass


class UtcDateTime(TypeDecorator):
    """Naive UTC in the table, aware UTC in the domain (shared.clock)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return naive_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return aware_utc(value)


class Status(TypeDecorator):
    """A domain status (a StrEnum) stored as its value."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int):
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: str | None, dialect: Any) -> StrEnum | None:
        return None if value is None else self.enum(value)


class SomeLanguages(TypeDecorator):
    """A text in the languages it was written in: none is NULL in the table, {} in the domain."""

    impl = JSON(none_as_null=True)
    cache_ok = True

    def process_bind_param(self, value: dict | None, dialect: Any) -> dict | None:
        return dict(value) if value else None

    def process_result_value(self, value: dict | None, dialect: Any) -> dict:
        return dict(value or {})


def _unique_where(name: str, column: str, condition: str) -> Index:
    """A unique index over the rows that meet ``condition`` (a partial index, in both dialects)."""
    return Index(name, column, unique=True, sqlite_where=text(condition),
                 postgresql_where=text(condition))


# JSON values the domain may change in place (append a wave, set a language): seen at flush.
_List = MutableList.as_mutable(JSON)
_Dict = MutableDict.as_mutable(JSON)

applications = Table(
    "applications",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reference", String(40), nullable=False, unique=True),
    Column("status", Status(ApplicationStatus, 32), nullable=False),
    Column("government_name", String(200), nullable=False),
    Column("country", String(2), nullable=False),
    Column("received_at", DateTime, nullable=False, default=utcnow),
    Column("region", String(32), nullable=False, default=""),
    Column("jurisdiction_type", String(32), nullable=True),
    Column("population", BigInteger, nullable=True),
    Column("website", Text, nullable=True),
    Column("authority_name", Text, nullable=True),
    Column("authority_title", Text, nullable=True),
    Column("contact_name", Text, nullable=True),
    Column("contact_position", Text, nullable=True),
    Column("contact_email", Text, nullable=True),
    Column("contact_phone", Text, nullable=True),
    Column("language", String(2), nullable=True),
    Column("themes", _List, nullable=False),
    Column("commitment", Text, nullable=True),
    Column("frameworks", Text, nullable=True),
    Column("listing_consent", Boolean, nullable=False, default=False),
    Column("submitted_at", UtcDateTime, nullable=True),
    Column("wave", Integer, nullable=True),
    Column("member_id", Integer, nullable=True),
    # Whether possible_duplicates is not empty: what the staff queue filters on.
    Column("possible_duplicate", Boolean, nullable=False, default=False),
    Column("possible_duplicates", _List, nullable=False),
    Column("info_request", Text, nullable=True),
    Column("decision_reason", Text, nullable=True),
    Column("erased", Boolean, nullable=False, default=False),
    Column("imported", Boolean, nullable=False, default=False),
    Column("updated_at", DateTime, nullable=True, default=utcnow, onupdate=utcnow),
    Column("version", Integer, nullable=False, default=1),
    Index("ix_applications_status", "status"),
    Index("ix_applications_country", "country"),
)

waves = Table(
    "waves",
    Base.metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("name", _Dict, nullable=False),
    Column("theme", _Dict, nullable=False),
    Column("opens_at", UtcDateTime, nullable=False),
    Column("closes_at", UtcDateTime, nullable=True),
    Column("status", Status(WaveStatus, 16), nullable=False),
    # {en?, fr?, es?}: the languages the campaign wrote it in; NULL for none.
    Column("description", MutableDict.as_mutable(SomeLanguages), nullable=True),
    # At most one open wave, whatever two staff do at the same moment.
    _unique_where("uq_waves_one_open", "status", "status = 'open'"),
)


def _government_key(context: Any) -> str:
    inserted = context.get_current_parameters()
    return government_key(inserted["government_name"], inserted["country"])


members = Table(
    "members",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # One member per application: a second acceptance cannot make a second member.
    Column("application_id", Integer, nullable=False, unique=True),
    Column("reference", String(40), nullable=False),
    Column("government_name", String(200), nullable=False),
    Column("country", String(2), nullable=False, index=True),
    Column("region", String(32), nullable=False),
    Column("jurisdiction_type", String(32), nullable=False),
    Column("population", Integer, nullable=True),
    Column("themes", _List, nullable=False),
    Column("language", String(2), nullable=False),
    Column("contact_name", String(200), nullable=True),
    Column("contact_email", String(320), nullable=True),
    Column("joined_wave", Integer, nullable=False),
    Column("joined_at", UtcDateTime, nullable=False),
    Column("waves", _List, nullable=False),
    Column("status", Status(MemberStatus, 16), nullable=False),
    Column("withdrawn_at", UtcDateTime, nullable=True),
    Column("withdrawal_reason", Text, nullable=True),
    Column("website", String(500), nullable=True),
    Column("listing_consent", Boolean, nullable=False, default=False),
    # domain.government_key: normalised name and country, what an import is idempotent on.
    # Computed once, at insert: a member's name and country never change.
    Column("key", String(240), nullable=False, default=_government_key),
    Column("imported", Boolean, nullable=False, default=False),
    Column("erased_at", UtcDateTime, nullable=True),
    Column("version", Integer, nullable=False, default=1),
    Index("ix_members_key", "key"),
    # Two imports of one file at the same moment cannot bring a government in twice.
    _unique_where("uq_members_imported_key", "key", "imported"),
)

# The domain's classes are the mapped classes: the Session's identity map holds one object per
# row, its unit of work writes what changed at flush (nothing for an untouched object, so its
# version is not bumped). Columns the domain does not speak of stay off the classes: the
# receipt and update times, the key (Member.key computes it), and the version counters and the
# duplicate flag under private names.
Base.registry.map_imperatively(
    Application,
    applications,
    exclude_properties=("received_at", "updated_at"),
    properties={
        "_version": applications.c.version,
        "_possible_duplicate": applications.c.possible_duplicate,
    },
    version_id_col=applications.c.version,
)
Base.registry.map_imperatively(
    Member,
    members,
    exclude_properties=("key",),
    properties={"_version": members.c.version},
    version_id_col=members.c.version,
)
Base.registry.map_imperatively(Wave, waves)


@event.listens_for(Application, "before_insert")
@event.listens_for(Application, "before_update")
def _flag_possible_duplicate(_mapper: Any, _connection: Any, application: Application) -> None:
    application._possible_duplicate = bool(application.possible_duplicates)


# Every change the ORM writes to what a new application is compared with (an open application,
# a member) tells the kept candidates (services.registry.candidates), in its transaction.
def _as_candidate(target: Application | Member, values: dict[str, Any]) -> Candidate | None:
    if isinstance(target, Application):
        if values["status"] not in OPEN_STATUSES:
            return None
        kind = "application"
    else:
        if values["status"] == MemberStatus.ERASED:
            return None
        kind = "member"
    return Candidate(values["reference"], values["government_name"], values["country"], kind)


_CANDIDATE_FACTS = ("status", "reference", "government_name", "country")


def _facts(target: Any, *, before: bool) -> dict[str, Any]:
    state = inspect(target)
    facts = {}
    for name in _CANDIDATE_FACTS:
        history = state.attrs[name].history
        if before:
            facts[name] = (history.deleted or history.unchanged or history.added or [None])[0]
        else:
            facts[name] = getattr(target, name)
    return facts


def _noted(connection: Any, target: Any, before: Candidate | None,
           after: Candidate | None) -> None:
    if before == after:
        return
    session = object_session(target)
    if before is not None:
        candidates.note(session, connection, before.country, removed=[key_of(before)])
    if after is not None:
        candidates.note(session, connection, after.country, added=[after])


@event.listens_for(Application, "after_insert")
@event.listens_for(Member, "after_insert")
def _candidate_inserted(_mapper: Any, connection: Any, target: Any) -> None:
    _noted(connection, target, None, _as_candidate(target, _facts(target, before=False)))


@event.listens_for(Application, "after_update")
@event.listens_for(Member, "after_update")
def _candidate_updated(_mapper: Any, connection: Any, target: Any) -> None:
    _noted(connection, target, _as_candidate(target, _facts(target, before=True)),
           _as_candidate(target, _facts(target, before=False)))


@event.listens_for(Application, "after_delete")
@event.listens_for(Member, "after_delete")
def _candidate_deleted(_mapper: Any, connection: Any, target: Any) -> None:
    _noted(connection, target, _as_candidate(target, _facts(target, before=True)), None)


# The columns an INSERT of a new application writes, by the attribute that holds each; the
# others take their defaults (receipt time, version 1).
_APPLICATION_COLUMNS = {
    column.key: attribute.key
    for attribute in inspect(Application).column_attrs
    for column in attribute.columns
    if column.key not in ("id", "version", "possible_duplicate")
}
_INSERT_RECEIVED = {
    insert: insert(applications).on_conflict_do_nothing(index_elements=["reference"])
    .returning(applications.c.id)
    for insert in (pg_insert, sqlite_insert)
}


class AuditRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    who: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class StaffTokenRow(Base):
    """A token generated because none was configured; only its digest is kept."""

    __tablename__ = "staff_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    label: Mapped[str] = mapped_column(String(100), unique=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


metadata = [Base.metadata, candidates.metadata, shared_db.Base.metadata]


class NotFound(DomainError):
    """No such application, member or wave."""


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int
    page: int
    per_page: int


# In a session's info: the transaction whose waves ``open_wave(share_lock=True)`` holds, and
# those waves.
_HELD_WAVES = "registry.held_waves"


class RegistryStore:
    """The registry's repository: its queries, as domain objects, inside one transaction.

    What the domain changes on the objects it hands out is the Session's to write (at flush,
    at the latest at commit); ``add_*`` flush at once, for the id the events name.
    """

    def __init__(self, session: Session, *, lock_rows: bool):
        self.session = session
        # PostgreSQL: SELECT ... FOR UPDATE serialises two decisions on one row. SQLite has no
        # row locks (it serialises writers); the version column catches a stale write there.
        self.lock_rows = lock_rows

    @classmethod
    def of(cls, session: Session) -> RegistryStore:
        return cls(session, lock_rows=session.get_bind().dialect.name == "postgresql")

    # --- applications ---

    def add_application(self, application: Application) -> Application:
        self.session.add(application)
        self.session.flush()
        return application

    def application(self, application_id: int, *, for_update: bool = False) -> Application:
        found = self.session.scalar(self._locked(
            select(Application).where(applications.c.id == application_id), for_update
        ))
        if found is None:
            raise NotFound(f"no application {application_id}")
        return found

    def application_by_reference(self, reference: str) -> Application | None:
        return self.session.scalar(
            select(Application).where(applications.c.reference == reference)
        )

    def applications(
        self,
        *,
        status: str | None = None,
        wave: int | None = None,
        country: str | None = None,
        region: str | None = None,
        possible_duplicate: bool | None = None,
        language: str | None = None,
        theme: str | None = None,
        q: str | None = None,
        page: int = 1,
        per_page: int = 50,
    ) -> Page:
        column = applications.c
        conditions = []
        if language is not None:
            conditions.append(column.language == language)
        if theme is not None:
            # The themes are a JSON list: its text holds each as "name".
            conditions.append(cast(column.themes, String)
                              .contains(f'"{theme}"', autoescape=True))
        if q is not None and q.strip():
            term = q.strip()
            conditions.append(or_(column.reference == term.upper(),
                                  func.lower(column.government_name)
                                  .contains(term.lower(), autoescape=True)))
        if status is not None:
            conditions.append(column.status == status)
        if wave is not None:
            conditions.append(column.wave == wave)
        if country is not None:
            conditions.append(column.country == country.upper())
        if region is not None:
            conditions.append(column.region == region)
        if possible_duplicate is not None:
            conditions.append(column.possible_duplicate == possible_duplicate)
        return self._page(Application, conditions, column.id.desc(), page, per_page)

    def waitlist(self) -> list[Application]:
        return list(self.session.scalars(self._locked(
            select(Application)
            .where(applications.c.status == ApplicationStatus.WAITLISTED)
            .order_by(applications.c.id),
            True,
        )))

    def applications_filed_by(self, member: Member) -> list[Application]:
        """The member's own application and any other filed with the same contact address."""
        filed = self.session.scalars(
            select(Application)
            .where(applications.c.country == member.country)
            .order_by(applications.c.id)
        )
        email = (member.contact_email or "").lower()
        return [
            application
            for application in filed
            if application.id == member.application_id
            or (email and str(application.contact_email or "").lower() == email)
        ]

    def duplicate_candidates(self, country: str, *, excluding: str) -> list[Candidate]:
        """Members and open applications of a country: what a new application may repeat.
        Kept between transactions (``candidates``); until this one ends, no other changes
        them."""
        return [candidate for candidate in candidates.candidates(
                    self.session, country, lambda: self._candidates(country))
                if candidate.kind != "application" or candidate.reference != excluding]

    def _candidates(self, country: str) -> list[Candidate]:
        open_applications = self.session.execute(
            select(applications.c.reference, applications.c.government_name).where(
                applications.c.country == country,
                applications.c.status.in_(OPEN_STATUSES),
            )
        )
        known_members = self.session.execute(
            select(members.c.reference, members.c.government_name).where(
                members.c.country == country,
                members.c.status != MemberStatus.ERASED,
            )
        )
        return [Candidate(ref, name, country, "application")
                for ref, name in open_applications] + [
            Candidate(ref, name, country, "member") for ref, name in known_members
        ]

    def add_received(self, application: Application) -> Application | None:
        """A new application from the form, filed already (``Application.sort``): one INSERT,
        not the ORM's flush; None, and nothing written, when its reference is known (a
        re-sent application). The object is not the Session's: a later read in this
        transaction loads the row."""
        row = {column: getattr(application, attribute)
               for column, attribute in _APPLICATION_COLUMNS.items()}
        row["possible_duplicate"] = bool(application.possible_duplicates)
        dialect = self.session.get_bind().dialect.name
        application_id = self.session.execute(
            _INSERT_RECEIVED[pg_insert if dialect == "postgresql" else sqlite_insert], row
        ).scalar()
        if application_id is None:
            return None
        application.id = application_id
        candidates.note(self.session, self.session.connection(), application.country,
                        added=[Candidate(application.reference, application.government_name,
                                         application.country, "application")])
        return application

    # --- waves ---

    def waves(self) -> list[Wave]:
        return list(self.session.scalars(select(Wave).order_by(waves.c.number)))

    def wave(self, number: int, *, for_update: bool = False) -> Wave:
        found = self.session.scalar(
            self._locked(select(Wave).where(waves.c.number == number), for_update)
        )
        if found is None:
            raise NotFound(f"no wave {number}")
        return found

    def open_wave(self, *, share_lock: bool = False) -> Wave | None:
        """The open wave, if any. ``share_lock`` holds every wave row (FOR SHARE) until commit:
        a wave cannot open between this read and the write that depends on it (an application
        waitlisted just as the wave opens would otherwise wait for the next wave)."""
        if share_lock:
            found = self._held_waves()
        else:
            found = self.session.scalars(select(Wave).order_by(waves.c.number))
        return next((wave for wave in found if wave.is_open), None)

    def _held_waves(self) -> list[Wave]:
        """Every wave, held FOR SHARE until commit, read once per transaction: while the lock
        holds no other transaction can change them, so an inbox transaction sorting a group of
        applications reads them once, not once each (the registry's largest item per
        application). This transaction's own changes are on the same objects; a wave it adds
        drops what was read."""
        transaction = self.session.get_transaction()
        held = self.session.info.get(_HELD_WAVES)
        if held is not None and held[0] is transaction:
            return held[1]
        query = select(Wave).order_by(waves.c.number)
        if self.lock_rows:
            query = query.with_for_update(read=True)
        found = list(self.session.scalars(query))
        self.session.info[_HELD_WAVES] = (transaction, found)
        return found

    def add_wave(self, wave: Wave) -> Wave:
        self.session.info.pop(_HELD_WAVES, None)
        self.session.add(wave)
        self.session.flush()
        return wave

    # --- members ---

    def add_member(self, member: Member) -> Member:
        self.session.add(member)
        self.session.flush()
        return member

    def member(self, member_id: int, *, for_update: bool = False) -> Member:
        found = self.session.scalar(
            self._locked(select(Member).where(members.c.id == member_id), for_update)
        )
        if found is None:
            raise NotFound(f"no member {member_id}")
        return found

    def members(
        self,
        *,
        status: str | None = None,
        wave: int | None = None,
        country: str | None = None,
        region: str | None = None,
        page: int = 1,
        per_page: int = 50,
    ) -> Page:
        column = members.c
        conditions = []
        if status is not None:
            conditions.append(column.status == status)
        if wave is not None:
            conditions.append(column.joined_wave == wave)
        if country is not None:
            conditions.append(column.country == country.upper())
        if region is not None:
            conditions.append(column.region == region)
        return self._page(Member, conditions, column.id, page, per_page)

    def member_keys(self) -> set[str]:
        """``domain.government_key`` of every member: who is a member already."""
        return set(self.session.scalars(select(members.c.key)))

    def active_members(self) -> list[Member]:
        return list(self.session.scalars(
            select(Member).where(members.c.status == MemberStatus.ACTIVE)
        ))

    # --- audit, events, tokens ---

    def audit(self, entry: AuditEntry) -> None:
        self.session.add(AuditRow(
            at=entry.at,
            who=entry.who,
            action=entry.action,
            subject_type=entry.subject_type,
            subject_id=entry.subject_id,
            before=dict(entry.before) if entry.before is not None else None,
            after=dict(entry.after) if entry.after is not None else None,
        ))

    def audit_trail(self, subject_type: str, subject_id: str) -> list[AuditEntry]:
        return self._audit_entries(
            (AuditRow.subject_type == subject_type) & (AuditRow.subject_id == subject_id)
        )

    def held_about(self, email: str) -> dict[str, Any]:
        """Subject access: the applications and members with this contact address (``email``
        normalised), their audit trail and any audit entry naming it (a replaced contact), and
        the events about the person in the registry's outbox and inbox."""
        held_applications = list(self.session.scalars(
            select(Application)
            .where(func.lower(applications.c.contact_email) == email)
            .order_by(applications.c.id)))
        held_members = list(self.session.scalars(
            select(Member).where(func.lower(members.c.contact_email) == email)
            .order_by(members.c.id)))
        subjects = ([AuditRow.subject_type == "application",
                     AuditRow.subject_id.in_([str(a.id) for a in held_applications])],
                    [AuditRow.subject_type == "member",
                     AuditRow.subject_id.in_([str(m.id) for m in held_members])])
        named = or_(func.lower(cast(AuditRow.before, String)).contains(email, autoescape=True),
                    func.lower(cast(AuditRow.after, String)).contains(email, autoescape=True))
        audit = self._audit_entries(or_(*(and_(*s) for s in subjects), named))
        references = ([a.reference for a in held_applications]
                      + [m.reference for m in held_members])
        return {"applications": held_applications, "members": held_members, "audit": audit,
                "events": events_about(self.session, email, references,
                                       [m.id for m in held_members])}

    def scrub_events(self, person: Person) -> int:
        """Erasure: the registry's own outbox and inbox payloads forget the person."""
        return scrub_events(self.session, person)

    def emit(self, events: list[Event], *, occurred_at: datetime | None = None) -> None:
        """Write events to the outbox, in this transaction (rule 1); ``occurred_at`` dates
        events that tell again what happened earlier (default: now)."""
        record(self.session, *(new_event(type_, data, occurred_at=occurred_at)
                               for type_, data in events))

    def staff_tokens(self) -> list[StaffToken]:
        rows = self.session.scalars(select(StaffTokenRow).order_by(StaffTokenRow.id))
        return [StaffToken(row.label, row.digest) for row in rows]

    def add_staff_token(self, token: StaffToken) -> None:
        self.session.add(StaffTokenRow(label=token.label, digest=token.digest,
                                       created_at=utcnow()))
        self.session.flush()

    def _locked(self, query: Any, for_update: bool) -> Any:
        return query.with_for_update() if for_update and self.lock_rows else query

    def _page(self, mapped: type, conditions: list[Any], order: Any, page: int,
              per_page: int) -> Page:
        table = inspect(mapped).local_table
        total = self.session.scalar(select(func.count()).select_from(table).where(*conditions))
        items = self.session.scalars(
            select(mapped).where(*conditions).order_by(order)
            .offset((page - 1) * per_page).limit(per_page)
        )
        return Page(list(items), total or 0, page, per_page)

    def _audit_entries(self, condition: Any) -> list[AuditEntry]:
        rows = self.session.scalars(select(AuditRow).where(condition).order_by(AuditRow.id))
        return [AuditEntry(row.who, row.action, row.subject_type, row.subject_id, row.at,
                           row.before, row.after)
                for row in rows]


@contextmanager
def registry(database: shared_db.Database) -> Iterator[RegistryStore]:
    """One transaction over the registry: what changed is flushed and committed at the end."""
    with database.transaction() as session:
        yield RegistryStore.of(session)
