"""Notify's database: the notification log and the projection of the people notify writes to.

The log has one row per (event, recipient, template): the unique key makes a second mail for the
same event impossible, and the row carries what the mail needs (template, language, context),
so sending is a separate step that is retried without the event. The projection (applicants,
members, waves) is learned from events; notify never reads another service's tables.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.parser import HeaderParser
from email.policy import default as default_policy
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from services.notify.domain import ANNOUNCEMENTS, ERASED, Contact, Notification, Wave
from services.notify.unsubscribe import Signer, mail_id, new_secret
from shared import db as shared_db
from shared.clock import utcnow
from shared.erasure import Person, scrub_events
from shared.events import Event
from shared.staff_access import AnnouncedTokens, IssuedTokenColumns
from shared.subject_access import events_about

PENDING, SENT, FAILED, CANCELLED = "pending", "sent", "failed", "cancelled"
# What an erased mail's recipient becomes (with its id): nothing can be sent there.
ERASED_RECIPIENT = "erased:"


class Base(DeclarativeBase):
    pass


class NotificationRow(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("event_id", "recipient", "template"),
        Index("ix_notifications_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(320))
    template: Mapped[str] = mapped_column(String(64))
    recipient_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    context: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # The composed message, kept from the first attempt so that every retry sends the same bytes.
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    def notification(self) -> Notification:
        contact = Contact(self.recipient, self.recipient_name or "", self.language or "en", "")
        return Notification(self.event_id, self.template, contact, self.context or {})


class ApplicantRow(Base):
    __tablename__ = "applicants"

    reference: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(8))
    government_name: Mapped[str] = mapped_column(Text)
    facts: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(32))


class MemberRow(Base):
    __tablename__ = "members"

    member_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    government_name: Mapped[str | None] = mapped_column(Text, nullable=True)
    reference: Mapped[str | None] = mapped_column(String(40), nullable=True)
    status: Mapped[str] = mapped_column(String(16))


class WaveRow(Base):
    __tablename__ = "waves"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[dict] = mapped_column(JSON)
    theme: Mapped[dict] = mapped_column(JSON)
    opens_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    closes_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    description: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    opened_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    closed_at: Mapped[str | None] = mapped_column(String(40), nullable=True)


class UnsubscribeRow(Base):
    """An address that asked for no more announcements (one-click unsubscribe, RFC 8058)."""

    __tablename__ = "unsubscribes"

    # Lower-cased: announcements are matched on the address whatever its case.
    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    unsubscribed_at: Mapped[datetime] = mapped_column(DateTime)
    # The announcement whose link was used.
    mail_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class SettingRow(Base):
    """Notify's own settings that every replica must share (the unsubscribe links' secret)."""

    __tablename__ = "notify_settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class StaffTokenRow(Base, IssuedTokenColumns):
    """``hrc members export`` reads the mails sent with the token the registry generated."""

    __tablename__ = "staff_tokens"


# The tokens the registry announced (staff.token_issued): remembered, and read by StaffAccess.
announced_tokens = AnnouncedTokens(StaffTokenRow)


metadata = [Base.metadata, shared_db.Base.metadata]


def queue(session: Session, notifications: Iterable[Notification]) -> int:
    """Add notifications to the log; one already there (same key) is left alone. Returns how
    many are new."""
    now = utcnow()
    rows = [
        {
            "event_id": n.event_id,
            "recipient": n.recipient,
            "template": n.template,
            "recipient_name": n.to.name[:300],
            "language": n.language,
            "context": dict(n.context),
            "status": PENDING,
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        }
        for n in notifications
    ]
    if not rows:
        return 0
    if session.bind.dialect.name == "postgresql":
        # The event's mails in one statement, their columns as arrays: psycopg2 runs an
        # executemany as a statement (a round trip) per row, and an application's two mails
        # were two of notify's ten statements per application.
        return max(session.execute(_QUEUE_AS_ARRAYS, {
            "event_ids": [row["event_id"] for row in rows],
            "recipients": [row["recipient"] for row in rows],
            "templates": [row["template"] for row in rows],
            "names": [row["recipient_name"] for row in rows],
            "languages": [row["language"] for row in rows],
            "contexts": [json.dumps(row["context"]) for row in rows],
            "status": PENDING, "at": now}).rowcount, 0)
    # A Core statement, executed for many rows (SQLite runs them in-process): the ORM's bulk
    # insert, and a multi-VALUES statement built per call, cost more than the insert itself on
    # every event.
    return max(session.execute(_QUEUE, rows).rowcount, 0)


_QUEUE = sqlite_insert(NotificationRow.__table__).on_conflict_do_nothing(
    index_elements=["event_id", "recipient", "template"])
# PostgreSQL: the rows as arrays, inserted in their order (the log's ids are the order in which
# one address's mails go out); the context as the engine's JSON type writes it (json.dumps).
_QUEUE_AS_ARRAYS = text(f"""
INSERT INTO {NotificationRow.__tablename__}
    (event_id, recipient, template, recipient_name, language, context, status, attempts,
     created_at, next_attempt_at)
SELECT mail.event_id, mail.recipient, mail.template, mail.recipient_name, mail.language,
       mail.context, :status, 0, :at, :at
FROM unnest(CAST(:event_ids AS varchar[]), CAST(:recipients AS varchar[]),
            CAST(:templates AS varchar[]), CAST(:names AS varchar[]),
            CAST(:languages AS varchar[]), CAST(:contexts AS json[]))
     WITH ORDINALITY AS mail(event_id, recipient, template, recipient_name, language, context,
                             position)
ORDER BY mail.position
ON CONFLICT (event_id, recipient, template) DO NOTHING
""")


def _wave(row: WaveRow | None) -> Wave | None:
    if row is None:
        return None
    return Wave(row.number, row.name, row.theme, row.opens_at, row.closes_at, row.description,
                row.opened_at, row.closed_at)


def mails_about(session: Session, reference: str, limit: int = 200) -> list[dict[str, Any]]:
    """The log's mails about one application (its context names the reference), oldest first:
    what the console's timeline shows. Erased content names nothing, so it is not found."""
    rows = session.scalars(
        select(NotificationRow)
        .where(NotificationRow.context["reference"].as_string() == reference)
        .order_by(NotificationRow.id).limit(limit))
    return [{"template": row.template, "recipient": row.recipient, "status": row.status,
             "attempts": row.attempts, "created_at": row.created_at.isoformat(),
             "sent_at": row.sent_at.isoformat() if row.sent_at else None,
             "error": _last_line(row.last_error)}
            for row in rows]


# Failed mails a listing shows: each one needs someone, so there should be few.
FAILED_LISTED = 500


class UnknownMail(Exception):
    http_status = 404
    error_code = "not_found"


class NotRetriable(Exception):
    http_status = 409
    error_code = "conflict"


def failed_mails(session: Session) -> dict[str, Any]:
    """Mails the SMTP server refused for good (or that could not be composed), oldest first:
    what staff see on the console's dashboard and retry once the cause is fixed."""
    failed = NotificationRow.status == FAILED
    rows = session.scalars(select(NotificationRow).where(failed)
                           .order_by(NotificationRow.id).limit(FAILED_LISTED))
    total = session.scalar(select(func.count()).select_from(NotificationRow).where(failed))
    return {"items": [_failed_mail(row) for row in rows], "total": total}


def _failed_mail(row: NotificationRow) -> dict[str, Any]:
    context = row.context or {}
    return {"id": row.id, "template": row.template, "recipient": row.recipient,
            "language": row.language, "event_id": row.event_id,
            "reference": context.get("reference") if isinstance(context.get("reference"), str)
            else None,
            "attempts": row.attempts, "error": _last_line(row.last_error),
            "created_at": row.created_at.isoformat(),
            # A failed row is never due again: its next_attempt_at keeps when it failed.
            "failed_at": row.next_attempt_at.isoformat()}


def retry_failed(session: Session, mail_id: int, now: datetime) -> dict[str, Any]:
    """Put one failed mail back in line, the same message as composed (``UnknownMail``,
    ``NotRetriable`` for one not failed or whose address was erased). Conditional, so two
    staff retrying at once send it once; a second failure is not told to staff twice (the
    alert's key is the mail's)."""
    result = session.execute(
        update(NotificationRow)
        .where(NotificationRow.id == mail_id, NotificationRow.status == FAILED,
               NotificationRow.recipient.not_like(f"{ERASED_RECIPIENT}%"))
        .values(status=PENDING, attempts=0, next_attempt_at=now, claimed_until=None))
    row = session.get(NotificationRow, mail_id)
    if row is None:
        raise UnknownMail(f"no mail {mail_id}")
    if result.rowcount != 1:
        why = ("its address was erased" if row.recipient.startswith(ERASED_RECIPIENT)
               else f"it is {row.status}, not failed")
        raise NotRetriable(f"mail {mail_id} cannot be sent again: {why}")
    return {"id": row.id, "template": row.template, "status": PENDING}


def held_about(session: Session, email: str) -> dict[str, Any]:
    """Subject access: the mails sent (or to send) to this address (``email`` normalised), with
    their subjects and dates; the applicants and members notify writes to at it; the mails to
    staff about the same applications; and the events about the person in notify's outbox and
    inbox."""
    applicants = list(session.scalars(
        select(ApplicantRow).where(func.lower(ApplicantRow.email) == email)
        .order_by(ApplicantRow.reference)))
    members = list(session.scalars(
        select(MemberRow).where(func.lower(MemberRow.email) == email)
        .order_by(MemberRow.member_id)))
    references = {a.reference for a in applicants} | {m.reference for m in members if m.reference}
    mails = list(session.scalars(
        select(NotificationRow).where(func.lower(NotificationRow.recipient) == email)
        .order_by(NotificationRow.id)))
    about = [row for row in _mails_about_references(session, references)
             if row.recipient.lower() != email]
    return {
        "mails": [_mail(row) for row in mails],
        "mails_to_staff_about_them": [
            {**_mail(row), "subject": None, "recipient": row.recipient} for row in about],
        "applicants": [{"reference": a.reference, "name": a.name, "email": a.email,
                        "language": a.language, "government_name": a.government_name,
                        "status": a.status, "facts": a.facts} for a in applicants],
        "members": [{"member_id": m.member_id, "name": m.name, "email": m.email,
                     "language": m.language, "government_name": m.government_name,
                     "reference": m.reference, "status": m.status} for m in members],
        "events": events_about(session, email, references, [m.member_id for m in members]),
        # The address's one-click unsubscribe from announcements, if it used it.
        "unsubscribes": [{"email": u.email, "language": u.language,
                          "unsubscribed_at": u.unsubscribed_at.isoformat()}
                         for u in session.scalars(select(UnsubscribeRow)
                                                  .where(UnsubscribeRow.email == email))],
    }


def _mails_about_references(session: Session, references: set[str]) -> list[NotificationRow]:
    if not references:
        return []
    return list(session.scalars(
        select(NotificationRow)
        .where(NotificationRow.context["reference"].as_string().in_(sorted(references)))
        .order_by(NotificationRow.id)))


def _mail(row: NotificationRow) -> dict[str, Any]:
    headers = HeaderParser(policy=default_policy).parsestr(row.message) if row.message else None
    return {"template": row.template, "subject": headers["Subject"] if headers else None,
            "recipient": row.recipient, "language": row.language, "status": row.status,
            "created_at": row.created_at.isoformat(),
            "sent_at": row.sent_at.isoformat() if row.sent_at else None}




def _last_line(text: str | None) -> str | None:
    lines = (text or "").strip().splitlines()
    return lines[-1] if lines else None


def setting(session: Session, name: str, proposed: str) -> str:
    """The stored value of ``name``; the first replica to ask stores ``proposed``."""
    session.execute(_insert(session)(SettingRow).values(name=name, value=proposed)
                    .on_conflict_do_nothing())
    return session.scalar(select(SettingRow.value).where(SettingRow.name == name))


SECRET_SETTING = "unsubscribe_secret"


def signer(database: shared_db.Database, configured: str | None) -> Signer:
    """NOTIFY_SECRET, or the secret the first replica generated and stored: every replica
    signs and checks the same links, and they keep working across restarts."""
    if configured:
        return Signer(configured)
    with database.transaction() as session:
        return Signer(setting(session, SECRET_SETTING, new_secret()))


@dataclass(frozen=True)
class AnnouncementRecipient:
    """Whom an unsubscribe link names: the address of the announcement it came in."""

    mail_id: int
    email: str
    language: str
    unsubscribed: bool


def announcement_recipient(session: Session, signer: Signer,
                           token: str) -> AnnouncementRecipient | None:
    """The recipient of the announcement a token names, if the token is this deployment's for
    that mail and address; None for anything else (malformed, forged, another mail's, erased)."""
    number = mail_id(token)
    row = session.get(NotificationRow, number) if number is not None else None
    if row is None or row.template not in ANNOUNCEMENTS or not signer.opens(
            token, row.id, row.recipient):
        return None
    email = row.recipient.strip().lower()
    return AnnouncementRecipient(row.id, email, row.language or "en",
                                 session.get(UnsubscribeRow, email) is not None)


def unsubscribe(session: Session, recipient: AnnouncementRecipient, when: datetime) -> None:
    """No more announcements to this address: it is remembered (once, whatever the number of
    clicks), and the announcements still waiting to be sent to it are cancelled."""
    session.execute(_insert(session)(UnsubscribeRow).values(
        email=recipient.email, language=recipient.language, unsubscribed_at=when,
        mail_id=recipient.mail_id).on_conflict_do_nothing())
    session.execute(update(NotificationRow)
                    .where(func.lower(NotificationRow.recipient) == recipient.email,
                           NotificationRow.template.in_(sorted(ANNOUNCEMENTS)),
                           NotificationRow.status == PENDING)
                    .values(status=CANCELLED))


def resubscribe(session: Session, email: str) -> bool:
    """The secretariat puts an address back on the announcements (the person asked); whether
    it was unsubscribed. Announcements already cancelled stay so: the next ones go."""
    result = session.execute(delete(UnsubscribeRow)
                             .where(UnsubscribeRow.email == email.strip().lower()))
    return result.rowcount > 0


def unsubscribed(session: Session) -> set[str]:
    """Every address that wants no announcement (lower-cased)."""
    return set(session.scalars(select(UnsubscribeRow.email)))


def _insert(session: Session):
    return pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert


def forget_recipient(session: Session, email: str) -> None:
    """Erasure: no mail still to send to this address, and no personal data left in the log.

    The rows stay (the log says a mail went out for an event), without the address or content;
    an unsubscribe by this address goes too (nothing is sent to an erased person anyway).
    """
    session.execute(delete(UnsubscribeRow).where(UnsubscribeRow.email == email.strip().lower()))
    rows = session.scalars(select(NotificationRow).where(NotificationRow.recipient == email))
    for row in rows:
        row.recipient = f"{ERASED_RECIPIENT}{row.id}"
        _forget_content(row)
        if row.status == PENDING:
            row.status = CANCELLED


def forget_mentions(session: Session, emails: set[str], references: set[str]) -> None:
    """Erasure: staff mail about the person (alerts with the form's facts, delivery failures)
    loses its content (the event tables: ``shared.erasure.scrub_events``)."""
    # The log is scanned in Python: JSON paths differ between SQLite and PostgreSQL, and
    # erasures are rare.
    for row in session.scalars(select(NotificationRow).where(NotificationRow.context.is_not(None))):
        context = row.context or {}
        if context.get("reference") in references or context.get("failed_recipient") in emails:
            _forget_content(row)


def _forget_content(row: NotificationRow) -> None:
    row.recipient_name = None
    row.context = None
    row.message = None


_HELD = "notify.directory.rows"


def read_ahead(events: list[Event], session: Session) -> None:
    """An inbox group's applicants in one SELECT, before its handlers read them one by one
    (``InboxProcessor(prepare=...)``); held like the rows ``SqlDirectory`` reads."""
    references = sorted({e.data["reference"] for e in events
                         if isinstance(e.data.get("reference"), str)})
    if not references:
        return
    held = session.info.setdefault(_HELD, {})
    found = {row.reference: row for row in session.scalars(
        select(ApplicantRow).where(ApplicantRow.reference.in_(references)))}
    # A reference not found is held as absent too: application.received, the first event
    # about an application, would otherwise ask for its applicant once more.
    for reference in references:
        held[(ApplicantRow, reference)] = found.get(reference)


class SqlDirectory:
    """The domain's Directory on notify's tables, inside the caller's transaction."""

    def __init__(self, session: Session):
        self.session = session

    def _get(self, model: type, key: Any) -> Any:
        """``session.get``, the row held for the rest of the transaction (``session.info``, so
        every event of an inbox group shares it). The session's identity map holds a clean row
        only weakly: one a step read and let go was gone by the next ``get``, and an
        application's step read its applicant six times, a SELECT each."""
        held = self.session.info.setdefault(_HELD, {})
        if (model, key) in held:
            return held[(model, key)]
        row = self.session.get(model, key)
        if row is not None:  # a miss is asked again, but for one ``read_ahead`` held
            held[(model, key)] = row
        return row

    def _add(self, row: Any, key: Any) -> None:
        """A new row, held at once: a miss held for it (``read_ahead``) no longer holds."""
        self.session.add(row)
        self.session.info.setdefault(_HELD, {})[(type(row), key)] = row

    def add_applicant(self, reference: str, contact: Contact, facts: Mapping[str, Any]) -> None:
        row = self._get(ApplicantRow, reference)
        if row is None:
            row = ApplicantRow(reference=reference, status="received")
            self._add(row, reference)
        row.email, row.name = _text(contact.email), _text(contact.name)
        row.language, row.facts = contact.language, dict(facts)
        row.government_name = _text(contact.government_name)

    def applicant(self, reference: str) -> Contact | None:
        row = self._get(ApplicantRow, reference)
        return _applicant_contact(row) if row and row.status != ERASED else None

    def applicant_facts(self, reference: str) -> Mapping[str, Any]:
        row = self._get(ApplicantRow, reference)
        return dict(row.facts) if row else {}

    def note_facts(self, reference: str, facts: Mapping[str, Any]) -> None:
        row = self._get(ApplicantRow, reference)
        if row is not None:
            row.facts = {**(row.facts or {}), **facts}

    def application_status(self, reference: str) -> str | None:
        row = self._get(ApplicantRow, reference)
        return row.status if row else None

    def set_application_status(self, reference: str, status: str) -> None:
        # On the row the step already read: one UPDATE with the facts it noted, at the flush.
        row = self._get(ApplicantRow, reference)
        if row is not None:
            row.status = status

    def add_member(self, member_id: int, contact: Contact | None, reference: str | None) -> None:
        row = self._get(MemberRow, member_id)
        if row is None:
            row = MemberRow(member_id=member_id, status="active")
            self.session.add(row)
        if contact is not None:
            row.email, row.name = _text(contact.email), _text(contact.name)
            row.language, row.government_name = contact.language, _text(contact.government_name)
        row.reference = reference or row.reference
        self.session.flush()

    def member(self, member_id: int) -> Contact | None:
        row = self._get(MemberRow, member_id)
        if row is None or row.status == ERASED:
            return None
        return _member_contact(row, self._applicant_row(row.reference))

    def member_status(self, member_id: int) -> str | None:
        row = self._get(MemberRow, member_id)
        return row.status if row else None

    def member_reference(self, member_id: int) -> str | None:
        row = self._get(MemberRow, member_id)
        return row.reference if row else None

    def set_member_status(self, member_id: int, status: str) -> None:
        row = self._get(MemberRow, member_id)
        if row is None:
            self.session.add(MemberRow(member_id=member_id, status=status))
        else:
            row.status = status
        self.session.flush()

    def active_members(self) -> Iterator[Contact]:
        query = (select(MemberRow, ApplicantRow)
                 .outerjoin(ApplicantRow, ApplicantRow.reference == MemberRow.reference)
                 .where(MemberRow.status == "active").order_by(MemberRow.member_id))
        for member, applicant in self.session.execute(query):
            contact = _member_contact(member, applicant)
            if contact is not None:
                yield contact

    def unsubscribed(self) -> set[str]:
        return unsubscribed(self.session)

    def waitlisted_applicants(self) -> Iterator[Contact]:
        query = (select(ApplicantRow).where(ApplicantRow.status == "waitlisted")
                 .order_by(ApplicantRow.reference))
        for row in self.session.scalars(query):
            yield _applicant_contact(row)

    def add_wave(self, wave: Wave) -> None:
        row = self.session.get(WaveRow, wave.number)
        if row is None:
            row = WaveRow(number=wave.number)
            self.session.add(row)
        row.name, row.theme = dict(wave.name), dict(wave.theme)
        row.opens_at, row.closes_at = wave.opens_at, wave.closes_at
        row.description = dict(wave.description) if wave.description else None
        row.opened_at = row.opened_at or wave.opened_at
        self.session.flush()

    def close_wave(self, number: int, closed_at: str) -> None:
        row = self.session.get(WaveRow, number)
        if row is None:
            # Closed before notify heard it open: a late opening must not make it look open.
            row = WaveRow(number=number, name={}, theme={})
            self.session.add(row)
        row.closed_at = row.closed_at or closed_at
        self.session.flush()

    def wave(self, number: int) -> Wave | None:
        return _wave(self.session.get(WaveRow, number))

    def open_wave(self) -> Wave | None:
        return _wave(self.session.scalars(
            select(WaveRow).where(WaveRow.opened_at.is_not(None), WaveRow.closed_at.is_(None))
            .order_by(WaveRow.number.desc()).limit(1)).first())

    def forget_member(self, member_id: int | None, references: Iterable[str]) -> None:
        """Keep only that the member's contact and its references were erased (so that a late
        event about them is dropped, not applied): every personal field goes. ``member_id``
        None: an applicant who never became a member."""
        row = self._get(MemberRow, member_id) if member_id is not None else None
        references = set(references)
        if row is not None and row.reference:
            references.add(row.reference)
        applicants = {a.reference: a for a in self.session.scalars(
            select(ApplicantRow).where(ApplicantRow.reference.in_(sorted(references))))}
        emails = {a.email for a in applicants.values() if a.email}
        if row is not None and row.email:
            emails.add(row.email)
        if row is None and member_id is not None:
            row = MemberRow(member_id=member_id)
            self.session.add(row)
        if row is not None:
            # The government stays a member; its contact person is gone until a new one is set.
            row.email = row.name = row.language = None
            row.status = ERASED
        for reference in references:
            applicant = applicants.get(reference)
            if applicant is None:
                applicant = ApplicantRow(reference=reference)
                self._add(applicant, reference)
            applicant.email = applicant.name = applicant.government_name = ""
            applicant.language, applicant.facts, applicant.status = "en", {}, ERASED
        self.session.flush()
        for email in emails:
            forget_recipient(self.session, email)
        forget_mentions(self.session, emails, references)
        scrub_events(self.session, Person.of(
            references, [member_id] if member_id is not None else [], emails))

    def _applicant_row(self, reference: str | None) -> ApplicantRow | None:
        return self._get(ApplicantRow, reference) if reference else None


def _text(value: str) -> str:
    """PostgreSQL text cannot hold NUL; no name or address needs one."""
    return value.replace("\x00", "")


def _applicant_contact(row: ApplicantRow) -> Contact:
    return Contact(row.email, row.name, row.language, row.government_name)


def _member_contact(member: MemberRow, applicant: ApplicantRow | None) -> Contact | None:
    if member.email:
        return Contact(member.email, member.name or "", member.language or "en",
                       member.government_name or "")
    if applicant is not None:
        return _applicant_contact(applicant)
    return None
