"""The registry's database: applications, members, waves, the staff audit log, generated tokens.

The domain's dataclasses know nothing of SQLAlchemy: ``RegistryStore`` turns rows into domain
objects, remembers which row each came from, and writes them back before the transaction
commits. Applications and members carry a version column: a change made from a stale read
fails at flush (``StaleDataError``) instead of overwriting a concurrent decision.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    and_,
    cast,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from services.registry.access import AuditEntry
from services.registry.domain import (
    FORM_FIELDS,
    OPEN_STATUSES,
    Application,
    ApplicationStatus,
    DomainError,
    Event,
    Member,
    MemberStatus,
    Wave,
    WaveStatus,
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


class ApplicationRow(Base):
    __tablename__ = "applications"
    __table_args__ = (
        Index("ix_applications_status", "status"),
        Index("ix_applications_country", "country"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(32))
    government_name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    received_at: Mapped[datetime] = mapped_column(DateTime)
    # The rest of the form (contact, authority, themes, commitment...): read whole; the staff
    # queue filters on its language and themes.
    form: Mapped[dict] = mapped_column(JSON)
    region: Mapped[str] = mapped_column(String(32), default="")
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    wave: Mapped[int | None] = mapped_column(Integer, nullable=True)
    member_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    possible_duplicate: Mapped[bool] = mapped_column(Boolean, default=False)
    possible_duplicates: Mapped[list] = mapped_column(JSON, default=list)
    info_request: Mapped[str | None] = mapped_column(Text, nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    erased: Mapped[bool] = mapped_column(Boolean, default=False)
    imported: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


class WaveRow(Base):
    __tablename__ = "waves"
    __table_args__ = (
        # At most one open wave, whatever two staff do at the same moment.
        Index(
            "uq_waves_one_open",
            "status",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[dict] = mapped_column(JSON)
    theme: Mapped[dict] = mapped_column(JSON)
    opens_at: Mapped[datetime] = mapped_column(DateTime)
    closes_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    # {en?, fr?, es?}: the languages the campaign wrote it in; None for none.
    description: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class MemberRow(Base):
    __tablename__ = "members"
    __table_args__ = (
        Index("ix_members_key", "key"),
        # Two imports of one file at the same moment cannot bring a government in twice.
        Index(
            "uq_members_imported_key",
            "key",
            unique=True,
            sqlite_where=text("imported"),
            postgresql_where=text("imported"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # One member per application: a second acceptance cannot make a second member.
    application_id: Mapped[int] = mapped_column(Integer, unique=True)
    reference: Mapped[str] = mapped_column(String(40))
    government_name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), index=True)
    region: Mapped[str] = mapped_column(String(32))
    jurisdiction_type: Mapped[str] = mapped_column(String(32))
    population: Mapped[int | None] = mapped_column(Integer, nullable=True)
    themes: Mapped[list] = mapped_column(JSON)
    language: Mapped[str] = mapped_column(String(2))
    contact_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    contact_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    joined_wave: Mapped[int] = mapped_column(Integer)
    joined_at: Mapped[datetime] = mapped_column(DateTime)
    waves: Mapped[list] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    withdrawal_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    website: Mapped[str | None] = mapped_column(String(500), nullable=True)
    listing_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    # domain.government_key: normalised name and country, what an import is idempotent on.
    key: Mapped[str] = mapped_column(String(240), default="")
    imported: Mapped[bool] = mapped_column(Boolean, default=False)
    erased_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


class AuditRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime)
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


metadata = [Base.metadata, shared_db.Base.metadata]

# Form fields kept in ApplicationRow.form rather than in columns of their own.
_FORM_ONLY = tuple(name for name in FORM_FIELDS if name not in ("government_name", "country"))
_APPLICATION_COLUMNS = (
    "reference",
    "government_name",
    "country",
    "region",
    "wave",
    "member_id",
    "possible_duplicates",
    "info_request",
    "decision_reason",
    "erased",
    "imported",
)
_MEMBER_COLUMNS = (
    "application_id",
    "reference",
    "government_name",
    "country",
    "region",
    "jurisdiction_type",
    "population",
    "themes",
    "language",
    "contact_name",
    "contact_email",
    "joined_wave",
    "waves",
    "withdrawal_reason",
    "website",
    "listing_consent",
    "imported",
)


class NotFound(DomainError):
    """No such application, member or wave."""


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int
    page: int
    per_page: int


class RegistryStore:
    """The registry's tables, as domain objects, inside one transaction."""

    def __init__(self, session: Session, *, lock_rows: bool):
        self.session = session
        # PostgreSQL: SELECT ... FOR UPDATE serialises two decisions on one row. SQLite has no
        # row locks (it serialises writers); the version column catches a stale write there.
        self.lock_rows = lock_rows
        # Row identity -> (domain object, row): one object per row, however often it is loaded,
        # so that two copies of one wave cannot write back different states.
        self._loaded: dict[int, tuple[Any, Any]] = {}

    @classmethod
    def of(cls, session: Session) -> RegistryStore:
        return cls(session, lock_rows=session.get_bind().dialect.name == "postgresql")

    # --- applications ---

    def add_application(self, application: Application) -> Application:
        row = ApplicationRow(received_at=utcnow(), status=application.status.value, form={})
        self._write_application(application, row)
        self.session.add(row)
        self.session.flush()
        application.id = row.id
        self._track(application, row)
        return application

    def application(self, application_id: int, *, for_update: bool = False) -> Application:
        row = self.session.scalar(self._locked(
            select(ApplicationRow).where(ApplicationRow.id == application_id), for_update
        ))
        if row is None:
            raise NotFound(f"no application {application_id}")
        return self._application(row)

    def application_by_reference(self, reference: str) -> Application | None:
        row = self.session.scalar(
            select(ApplicationRow).where(ApplicationRow.reference == reference)
        )
        return self._application(row) if row is not None else None

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
        conditions = []
        if language is not None:
            conditions.append(ApplicationRow.form["language"].as_string() == language)
        if theme is not None:
            # The themes are a JSON list inside the form: its text holds each as "name".
            conditions.append(cast(ApplicationRow.form["themes"], String)
                              .contains(f'"{theme}"', autoescape=True))
        if q is not None and q.strip():
            term = q.strip()
            conditions.append(or_(ApplicationRow.reference == term.upper(),
                                  func.lower(ApplicationRow.government_name)
                                  .contains(term.lower(), autoescape=True)))
        if status is not None:
            conditions.append(ApplicationRow.status == status)
        if wave is not None:
            conditions.append(ApplicationRow.wave == wave)
        if country is not None:
            conditions.append(ApplicationRow.country == country.upper())
        if region is not None:
            conditions.append(ApplicationRow.region == region)
        if possible_duplicate is not None:
            conditions.append(ApplicationRow.possible_duplicate == possible_duplicate)
        return self._page(ApplicationRow, conditions, ApplicationRow.id.desc(), page, per_page,
                          self._application)

    def waitlist(self) -> list[Application]:
        rows = self.session.scalars(self._locked(
            select(ApplicationRow)
            .where(ApplicationRow.status == ApplicationStatus.WAITLISTED.value)
            .order_by(ApplicationRow.id),
            True,
        ))
        return [self._application(row) for row in rows]

    def applications_filed_by(self, member: Member) -> list[Application]:
        """The member's own application and any other filed with the same contact address."""
        rows = self.session.scalars(
            select(ApplicationRow)
            .where(ApplicationRow.country == member.country)
            .order_by(ApplicationRow.id)
        )
        email = (member.contact_email or "").lower()
        return [
            self._application(row)
            for row in rows
            if row.id == member.application_id
            or (email and str(row.form.get("contact_email", "")).lower() == email)
        ]

    def duplicate_candidates(self, country: str, *, excluding: str) -> list[Candidate]:
        """Members and open applications of a country: what a new application may repeat."""
        open_statuses = [status.value for status in OPEN_STATUSES]
        applications = self.session.execute(
            select(ApplicationRow.reference, ApplicationRow.government_name).where(
                ApplicationRow.country == country,
                ApplicationRow.status.in_(open_statuses),
                ApplicationRow.reference != excluding,
            )
        )
        members = self.session.execute(
            select(MemberRow.reference, MemberRow.government_name).where(
                MemberRow.country == country,
                MemberRow.status != MemberStatus.ERASED.value,
            )
        )
        return [Candidate(ref, name, country, "application") for ref, name in applications] + [
            Candidate(ref, name, country, "member") for ref, name in members
        ]

    # --- waves ---

    def waves(self) -> list[Wave]:
        rows = self.session.scalars(select(WaveRow).order_by(WaveRow.number))
        return [self._wave(row) for row in rows]

    def wave(self, number: int, *, for_update: bool = False) -> Wave:
        row = self.session.scalar(
            self._locked(select(WaveRow).where(WaveRow.number == number), for_update)
        )
        if row is None:
            raise NotFound(f"no wave {number}")
        return self._wave(row)

    def open_wave(self, *, share_lock: bool = False) -> Wave | None:
        """The open wave, if any. ``share_lock`` holds every wave row (FOR SHARE) until commit:
        a wave cannot open between this read and the write that depends on it (an application
        waitlisted just as the wave opens would otherwise wait for the next wave)."""
        query = select(WaveRow).order_by(WaveRow.number)
        if share_lock and self.lock_rows:
            query = query.with_for_update(read=True)
        rows = list(self.session.scalars(query))
        row = next((r for r in rows if r.status == WaveStatus.OPEN.value), None)
        return self._wave(row) if row is not None else None

    def add_wave(self, wave: Wave) -> Wave:
        row = WaveRow(number=wave.number)
        self._write_wave(wave, row)
        self.session.add(row)
        self.session.flush()
        self._track(wave, row)
        return wave

    # --- members ---

    def add_member(self, member: Member) -> Member:
        row = MemberRow()
        self._write_member(member, row)
        self.session.add(row)
        self.session.flush()
        member.id = row.id
        self._track(member, row)
        return member

    def member(self, member_id: int, *, for_update: bool = False) -> Member:
        row = self.session.scalar(
            self._locked(select(MemberRow).where(MemberRow.id == member_id), for_update)
        )
        if row is None:
            raise NotFound(f"no member {member_id}")
        return self._member(row)

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
        conditions = []
        if status is not None:
            conditions.append(MemberRow.status == status)
        if wave is not None:
            conditions.append(MemberRow.joined_wave == wave)
        if country is not None:
            conditions.append(MemberRow.country == country.upper())
        if region is not None:
            conditions.append(MemberRow.region == region)
        return self._page(MemberRow, conditions, MemberRow.id, page, per_page, self._member)

    def member_keys(self) -> set[str]:
        """``domain.government_key`` of every member: who is a member already."""
        return set(self.session.scalars(select(MemberRow.key)))

    def active_members(self) -> list[Member]:
        rows = self.session.scalars(
            select(MemberRow).where(MemberRow.status == MemberStatus.ACTIVE.value)
        )
        return [self._member(row) for row in rows]

    # --- audit, events, tokens ---

    def audit(self, entry: AuditEntry) -> None:
        self.session.add(AuditRow(
            at=naive_utc(entry.at),
            who=entry.who,
            action=entry.action,
            subject_type=entry.subject_type,
            subject_id=entry.subject_id,
            before=dict(entry.before) if entry.before is not None else None,
            after=dict(entry.after) if entry.after is not None else None,
        ))

    def audit_trail(self, subject_type: str, subject_id: str) -> list[AuditEntry]:
        rows = self.session.scalars(
            select(AuditRow)
            .where(AuditRow.subject_type == subject_type, AuditRow.subject_id == subject_id)
            .order_by(AuditRow.id)
        )
        return [
            AuditEntry(row.who, row.action, row.subject_type, row.subject_id, aware_utc(row.at),
                       row.before, row.after)
            for row in rows
        ]

    def held_about(self, email: str) -> dict[str, Any]:
        """Subject access: the applications and members with this contact address (``email``
        normalised), their audit trail and any audit entry naming it (a replaced contact), and
        the events about the person in the registry's outbox and inbox."""
        applications = [self._application(row) for row in self.session.scalars(
            select(ApplicationRow)
            .where(func.lower(ApplicationRow.form["contact_email"].as_string()) == email)
            .order_by(ApplicationRow.id))]
        members = [self._member(row) for row in self.session.scalars(
            select(MemberRow).where(func.lower(MemberRow.contact_email) == email)
            .order_by(MemberRow.id))]
        subjects = ([AuditRow.subject_type == "application",
                     AuditRow.subject_id.in_([str(a.id) for a in applications])],
                    [AuditRow.subject_type == "member",
                     AuditRow.subject_id.in_([str(m.id) for m in members])])
        named = or_(func.lower(cast(AuditRow.before, String)).contains(email, autoescape=True),
                    func.lower(cast(AuditRow.after, String)).contains(email, autoescape=True))
        audit = [AuditEntry(row.who, row.action, row.subject_type, row.subject_id,
                            aware_utc(row.at), row.before, row.after)
                 for row in self.session.scalars(
                     select(AuditRow).where(or_(*(and_(*s) for s in subjects), named))
                     .order_by(AuditRow.id))]
        references = [a.reference for a in applications] + [m.reference for m in members]
        return {"applications": applications, "members": members, "audit": audit,
                "events": events_about(self.session, email, references,
                                       [m.id for m in members])}

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

    # --- writing back ---

    def sync(self) -> None:
        """Copy every domain object this store handed out back onto its row, then flush."""
        for obj, row in self._loaded.values():
            if isinstance(obj, Application):
                self._write_application(obj, row)
            elif isinstance(obj, Member):
                self._write_member(obj, row)
            else:
                self._write_wave(obj, row)
        self.session.flush()

    def _track(self, obj: Any, row: Any) -> None:
        self._loaded[id(row)] = (obj, row)

    def _known(self, row: Any) -> Any:
        loaded = self._loaded.get(id(row))
        return loaded[0] if loaded is not None else None

    def _locked(self, query: Any, for_update: bool) -> Any:
        return query.with_for_update() if for_update and self.lock_rows else query

    def _page(self, model, conditions, order, page, per_page, convert) -> Page:
        total = self.session.scalar(select(func.count()).select_from(model).where(*conditions))
        rows = self.session.scalars(
            select(model).where(*conditions).order_by(order)
            .offset((page - 1) * per_page).limit(per_page)
        )
        return Page([convert(row) for row in rows], total or 0, page, per_page)

    def _application(self, row: ApplicationRow) -> Application:
        if (known := self._known(row)) is not None:
            return known
        application = Application(
            id=row.id,
            status=ApplicationStatus(row.status),
            submitted_at=aware_utc(row.submitted_at or row.received_at),
            **{name: getattr(row, name) for name in _APPLICATION_COLUMNS},
            **{name: row.form.get(name) for name in _FORM_ONLY},
        )
        application.themes = list(application.themes or [])
        application.possible_duplicates = list(row.possible_duplicates or [])
        self._track(application, row)
        return application

    def _write_application(self, application: Application, row: ApplicationRow) -> None:
        changed = [_set(row, name, getattr(application, name)) for name in _APPLICATION_COLUMNS]
        changed += [
            _set(row, "status", application.status.value),
            _set(row, "submitted_at", naive_utc(application.submitted_at)),
            _set(row, "possible_duplicate", bool(application.possible_duplicates)),
            _set(row, "form", {name: getattr(application, name) for name in _FORM_ONLY}),
        ]
        if any(changed):
            row.updated_at = utcnow()

    def _member(self, row: MemberRow) -> Member:
        if (known := self._known(row)) is not None:
            return known
        member = Member(
            id=row.id,
            status=MemberStatus(row.status),
            joined_at=aware_utc(row.joined_at),
            withdrawn_at=aware_utc(row.withdrawn_at) if row.withdrawn_at else None,
            erased_at=aware_utc(row.erased_at) if row.erased_at else None,
            **{name: getattr(row, name) for name in _MEMBER_COLUMNS},
        )
        member.themes = list(member.themes or [])
        member.waves = list(member.waves or [])
        self._track(member, row)
        return member

    def _write_member(self, member: Member, row: MemberRow) -> None:
        for name in _MEMBER_COLUMNS:
            _set(row, name, getattr(member, name))
        _set(row, "status", member.status.value)
        _set(row, "key", member.key)
        _set(row, "joined_at", naive_utc(member.joined_at))
        _set(row, "withdrawn_at", naive_utc(member.withdrawn_at) if member.withdrawn_at else None)
        _set(row, "erased_at", naive_utc(member.erased_at) if member.erased_at else None)

    def _wave(self, row: WaveRow) -> Wave:
        if (known := self._known(row)) is not None:
            return known
        wave = Wave(
            number=row.number,
            name=dict(row.name),
            theme=dict(row.theme),
            opens_at=aware_utc(row.opens_at),
            closes_at=aware_utc(row.closes_at) if row.closes_at else None,
            status=WaveStatus(row.status),
            description=dict(row.description or {}),
        )
        self._track(wave, row)
        return wave

    def _write_wave(self, wave: Wave, row: WaveRow) -> None:
        _set(row, "name", dict(wave.name))
        _set(row, "theme", dict(wave.theme))
        _set(row, "opens_at", naive_utc(wave.opens_at))
        _set(row, "closes_at", naive_utc(wave.closes_at) if wave.closes_at else None)
        _set(row, "status", wave.status.value)
        _set(row, "description", dict(wave.description) or None)


@contextmanager
def registry(database: shared_db.Database) -> Iterator[RegistryStore]:
    """One transaction over the registry: domain objects written back, then committed."""
    with database.transaction() as session:
        store = RegistryStore.of(session)
        yield store
        store.sync()


def _set(row: Any, name: str, value: Any) -> bool:
    # Assign only what changed, so that an untouched row is not UPDATEd (nor its version bumped).
    if getattr(row, name) == value:
        return False
    setattr(row, name, value)
    return True
