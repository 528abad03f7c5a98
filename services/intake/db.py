"""Intake's own database: the submissions as received, what recognises a repeated submission,
the rate-limit counters, the deployment's secret, the applicant's page (its keys, the projection
of the registry's steps, the answers with their attachments, withdrawal requests), the staff
tokens the registry announced (and the shared outbox/inbox).

Every "only once" here is a unique constraint or a primary key used by an upsert, never a read
followed by a write: two replicas (or two greenthreads) racing get the same answer.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from services.intake import guards, waves
from shared import db as shared_db
from shared.events import Event
from shared.outbox import OutboxRow, committed, pending_row, record, recorded
from shared.staff_access import AnnouncedTokens, IssuedTokenColumns
from shared.subject_access import events_about

ERASED = {"erased": True}


class Base(DeclarativeBase):
    pass


class Submission(Base):
    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    payload: Mapped[dict] = mapped_column(JSON)
    # The application.received event that carries this submission (its outbox row).
    event_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class RecentPayload(Base):
    """The last submission of each payload fingerprint: a repeat within the window gets its
    reference instead of a new one."""

    __tablename__ = "recent_payloads"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    reference: Mapped[str] = mapped_column(String(40))
    first_seen_at: Mapped[datetime] = mapped_column(DateTime)


class IdempotencyKey(Base):
    """A client's ``Idempotency-Key`` (hashed) and the submission it made."""

    __tablename__ = "idempotency_keys"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    reference: Mapped[str] = mapped_column(String(40))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class RateWindow(Base):
    """How many requests a client made in one fixed window; shared by every replica."""

    __tablename__ = "rate_windows"
    __table_args__ = (Index("ix_rate_windows_expires_at", "expires_at"),)

    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    window: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class Setting(Base):
    __tablename__ = "intake_settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class PageKey(Base):
    """A key of an applicant's page, as a SHA-256 digest: the first, and each one mailed again."""

    __tablename__ = "page_keys"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), index=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime)


class StepRow(Base):
    """One of the registry's application.* events: intake's projection of where it stands."""

    __tablename__ = "application_steps"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    application_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    wave: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The question of an information request, or the reason of a decline or withdrawal.
    text: Mapped[str | None] = mapped_column(Text, nullable=True)


class AnswerRow(Base):
    """The applicant's answer to one information request (at most one each: the unique key)."""

    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(40), index=True)
    request_event_id: Mapped[str] = mapped_column(String(36), unique=True)
    message: Mapped[str] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(DateTime)
    event_id: Mapped[str] = mapped_column(String(36))


class AttachmentRow(Base):
    """A file of an answer, kept in the database: it commits with the answer and its event."""

    __tablename__ = "attachments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id"), index=True)
    reference: Mapped[str] = mapped_column(String(40), index=True)
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class WithdrawalRow(Base):
    """The applicant asked to withdraw (once: the reference is the key)."""

    __tablename__ = "withdrawal_requests"

    reference: Mapped[str] = mapped_column(String(40), primary_key=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    requested_at: Mapped[datetime] = mapped_column(DateTime)
    event_id: Mapped[str] = mapped_column(String(36))


class StaffTokenRow(Base, IssuedTokenColumns):
    __tablename__ = "staff_tokens"


# The tokens the registry announced (staff.token_issued): remembered, and read by StaffAccess.
announced_tokens = AnnouncedTokens(StaffTokenRow)


class WaveRow(Base):
    """A wave of the campaign, from the registry's wave.opened and wave.closed events: the
    form says which one is open. Either event may arrive first; each fills its own columns."""

    __tablename__ = "waves"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # From wave.opened: {en, fr, es} each; None while only the closing has arrived.
    name: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    theme: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    closes_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # From wave.opened: {en?, fr?, es?}, the languages the campaign wrote it in; else None.
    description: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # From wave.closed (when the registry closed it): the wave takes no more applications.
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


metadata = [Base.metadata, shared_db.Base.metadata]


class ReferenceTaken(Exception):
    """The random reference is already used: the caller rolls back and draws another."""


def _insert(session: Session):
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


class _Statements:
    """The statements of every submission, built once per dialect: building and hashing an
    upsert costs more than running it, and each request runs three of them."""

    def __init__(self, insert):
        payloads = RecentPayload.__table__
        claim = insert(payloads).values(fingerprint=bindparam("fingerprint"),
                                        reference=bindparam("reference"),
                                        first_seen_at=bindparam("now"))
        self.claim_payload = claim.on_conflict_do_update(
            index_elements=[payloads.c.fingerprint],
            set_={"reference": claim.excluded.reference,
                  "first_seen_at": claim.excluded.first_seen_at},
            where=payloads.c.first_seen_at <= bindparam("cutoff"),
        )
        self.payload_reference = select(payloads.c.reference).where(
            payloads.c.fingerprint == bindparam("fingerprint"))
        keys = IdempotencyKey.__table__
        self.claim_key = insert(keys).on_conflict_do_nothing()
        self.key_binding = select(keys.c.reference, keys.c.fingerprint).where(
            keys.c.key_hash == bindparam("key_hash"))
        self.add_submission = insert(Submission.__table__).on_conflict_do_nothing()
        windows = RateWindow.__table__
        count = insert(windows)
        self.count_request = count.on_conflict_do_update(
            index_elements=[windows.c.client, windows.c.window],
            set_={"count": windows.c.count + 1},
        ).returning(windows.c.count)


_STATEMENTS = {"postgresql": _Statements(pg_insert), "sqlite": _Statements(sqlite_insert)}


# PostgreSQL's name of the unique key of a submission's reference (migration 0001).
REFERENCE_KEY = "submissions_reference_key"
# The outbox columns shared.outbox.pending_row gives.
PENDING_COLUMNS = ("event_id", "type", "payload", "created_at", "next_attempt_at", "attempts")

# store_submission's steps as one PostgreSQL statement: data-modifying CTEs, each step gated on
# the one before through its RETURNING. Over the rate limit the counter is not raised and
# nothing follows (no row: the answer's reference is NULL). A repeated payload updates its row
# to itself (rather than not at all) so that RETURNING names the reference it already had, as
# of the latest commit: a concurrent twin's, once it committed, not the statement's snapshot.
# A taken reference fails the whole statement (its unique key).
#
# Written out, and run on the DB-API cursor: SQLAlchemy's execute of the same statement (its
# cache key, its parameters' processing, its result) cost twice the driver's own work.
_COUNTED = """\
counted AS (
    INSERT INTO rate_windows (client, "window", count, expires_at)
    VALUES (%(c_client)s, %(c_window)s, 1, %(c_expires_at)s)
    ON CONFLICT (client, "window") DO UPDATE SET count = rate_windows.count + 1
    WHERE rate_windows.count < %(c_limit)s
    RETURNING count
), """
_STORE_SQL = """\
WITH {counted}claimed AS (
    INSERT INTO recent_payloads (fingerprint, reference, first_seen_at)
    SELECT %(s_fingerprint)s, %(s_reference)s, %(s_received_at)s{admitted}
    ON CONFLICT (fingerprint) DO UPDATE SET
        reference = CASE WHEN recent_payloads.first_seen_at <= %(s_cutoff)s
                         THEN excluded.reference ELSE recent_payloads.reference END,
        first_seen_at = CASE WHEN recent_payloads.first_seen_at <= %(s_cutoff)s
                             THEN excluded.first_seen_at ELSE recent_payloads.first_seen_at END
    RETURNING reference
), submitted AS (
    INSERT INTO submissions (reference, received_at, payload, event_id)
    SELECT %(s_reference)s, %(s_received_at)s, %(s_payload)s::json, %(o_event_id)s
    WHERE EXISTS (SELECT FROM claimed WHERE claimed.reference = %(s_reference)s)
    RETURNING id
), page_key AS (
    INSERT INTO page_keys (digest, reference, issued_at)
    SELECT %(s_digest)s, %(s_reference)s, %(s_received_at)s
    WHERE EXISTS (SELECT FROM submitted)
), event AS (
    INSERT INTO outbox (event_id, type, payload, created_at, next_attempt_at, attempts)
    SELECT %(o_event_id)s, %(o_type)s, %(o_payload)s::json, %(o_created_at)s,
           %(o_next_attempt_at)s, %(o_attempts)s
    WHERE EXISTS (SELECT FROM submitted)
)
SELECT (SELECT reference FROM claimed), EXISTS (SELECT FROM submitted)"""
# Keyed by whether the request is counted against a rate limit.
_STORE_IN_ONE = {
    False: _STORE_SQL.format(counted="", admitted=""),
    True: _STORE_SQL.format(counted=_COUNTED, admitted="\n    WHERE EXISTS (SELECT FROM counted)"),
}


def _statements(session: Session) -> _Statements:
    return _STATEMENTS[session.get_bind().dialect.name]


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


# -- submissions ----------------------------------------------------------------------------------

def claim_payload(
    session: Session, fingerprint: str, reference: str, now: datetime, window: timedelta
) -> str:
    """The reference of this payload: ``reference`` if it is new (or its last sighting is older
    than ``window``), else the reference it was given within the window."""
    statements = _statements(session)
    claimed = session.execute(statements.claim_payload, {
        "fingerprint": fingerprint, "reference": reference, "now": now, "cutoff": now - window,
    })
    if claimed.rowcount == 1:
        return reference
    return session.scalar(statements.payload_reference, {"fingerprint": fingerprint})


def key_binding(session: Session, key: str) -> tuple[str, str] | None:
    """The (reference, fingerprint) an Idempotency-Key was bound to, if any."""
    found = session.execute(_statements(session).key_binding,
                            {"key_hash": key_hash(key)}).one_or_none()
    return None if found is None else (found.reference, found.fingerprint)


def claim_key(
    session: Session, key: str, reference: str, fingerprint: str, now: datetime
) -> tuple[str, str]:
    """Bind an Idempotency-Key to a reference; a key already bound keeps its first binding.
    Returns the bound (reference, fingerprint)."""
    claimed = session.execute(_statements(session).claim_key, {
        "key_hash": key_hash(key), "reference": reference, "fingerprint": fingerprint,
        "created_at": now,
    })
    if claimed.rowcount == 1:
        return reference, fingerprint
    return key_binding(session, key)


def add_submission(
    session: Session, reference: str, received_at: datetime, payload: dict, event_id: str
) -> None:
    """Store a submission; raises ReferenceTaken if the reference is already used."""
    added = session.execute(_statements(session).add_submission, {
        "reference": reference, "received_at": received_at, "payload": payload,
        "event_id": event_id,
    })
    if added.rowcount != 1:
        raise ReferenceTaken(reference)


@dataclass(frozen=True)
class NewSubmission:
    """What a new submission stores: its row, its page's first key (a digest) and its event."""

    reference: str
    fingerprint: str
    received_at: datetime
    payload: dict
    page_key_digest: str
    event: Event


@dataclass(frozen=True)
class Stored:
    """What ``store_submission`` found: the payload's reference (``submission.reference``
    unless the same payload came within the window) and whether the submission was stored."""

    reference: str
    new: bool


def store_submission(session: Session, submission: NewSubmission, cutoff: datetime,
                     admission: guards.Admission | None) -> Stored:
    """Count the request (``admission``: raises TooManyRequests over the limit, and nothing is
    stored or counted), claim the payload's fingerprint (unless it was seen after ``cutoff``),
    and if the payload is new store the submission, its page key and its outbox event, in the
    caller's transaction. Raises ReferenceTaken if the reference is already used.

    On PostgreSQL this is one statement (a round trip, where the steps one by one were five).
    """
    if session.get_bind().dialect.name == "postgresql":
        connection = session.connection()
        stored = _store_in_one(
            lambda sql, values: connection.exec_driver_sql(sql, values).first(),
            submission, cutoff, admission)
        if stored.new:
            recorded(session)
        return stored
    if admission is not None:
        admission.check(count_request(session, *admission.counter))
    claimed = claim_payload(session, submission.fingerprint, submission.reference,
                            submission.received_at, submission.received_at - cutoff)
    if claimed != submission.reference:
        return Stored(claimed, False)
    add_submission(session, submission.reference, submission.received_at, submission.payload,
                   submission.event.event_id)
    add_page_key(session, submission.reference, submission.page_key_digest,
                 submission.received_at)
    record(session, submission.event)
    return Stored(submission.reference, True)


def store_alone(database: shared_db.Database, submission: NewSubmission, cutoff: datetime,
                admission: guards.Admission | None) -> Stored:
    """PostgreSQL: ``store_submission``'s one statement, committed by itself (no transaction
    around it: one round trip, where BEGIN, the statement and COMMIT were three). All of it or
    nothing is committed, as in a transaction: the limit is applied in the statement."""
    stored = _store_in_one(database.first_row, submission, cutoff, admission)
    if stored.new:
        committed(database)
    return stored


def _store_in_one(first_row: Callable[[str, dict[str, Any]], Any], submission: NewSubmission,
                  cutoff: datetime, admission: guards.Admission | None) -> Stored:
    values = {
        "s_fingerprint": submission.fingerprint, "s_reference": submission.reference,
        "s_received_at": submission.received_at, "s_cutoff": cutoff,
        "s_payload": json.dumps(submission.payload), "s_digest": submission.page_key_digest,
        **{f"o_{name}": value for name, value in pending_row(submission.event).items()},
    }
    values["o_payload"] = json.dumps(values["o_payload"])
    if admission is not None:
        values.update(zip(("c_client", "c_window", "c_expires_at"), admission.counter,
                          strict=True), c_limit=admission.limit.requests)
    try:
        reference, stored = first_row(_STORE_IN_ONE[admission is not None], values)
    except IntegrityError as error:
        if getattr(getattr(error.orig, "diag", None), "constraint_name", None) == REFERENCE_KEY:
            raise ReferenceTaken(submission.reference) from error
        raise
    if reference is None:
        admission.refuse()
    return Stored(reference, stored)


def submission_exists(session: Session, reference: str) -> bool:
    found = session.scalar(select(Submission.id).where(Submission.reference == reference))
    return found is not None


def submission(session: Session, reference: str) -> Submission | None:
    return session.scalar(select(Submission).where(Submission.reference == reference))


def forget_references(session: Session, references: list[str]) -> int:
    """Erasure: keep that a reference existed, drop everything it said (the submission, the
    published copy in the outbox, the fingerprints that hash its content, the page's keys,
    steps, answers, attachments and withdrawal request)."""
    if not references:
        return 0
    event_ids = list(session.scalars(
        select(Submission.event_id).where(Submission.reference.in_(references),
                                          Submission.event_id.is_not(None))
    ))
    event_ids += list(session.scalars(
        select(AnswerRow.event_id).where(AnswerRow.reference.in_(references))))
    event_ids += list(session.scalars(
        select(WithdrawalRow.event_id).where(WithdrawalRow.reference.in_(references))))
    for model in (AttachmentRow, AnswerRow, WithdrawalRow, StepRow, PageKey):
        session.execute(delete(model).where(model.reference.in_(references)))
    erased = session.execute(
        update(Submission).where(Submission.reference.in_(references)).values(payload=ERASED)
    ).rowcount
    if event_ids:
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.event_id.in_(event_ids), OutboxRow.sent_at.is_not(None))
            .values(payload=ERASED)
        )
    session.execute(delete(RecentPayload).where(RecentPayload.reference.in_(references)))
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.reference.in_(references)))
    return erased


def held_about(session: Session, email: str) -> dict[str, Any]:
    """Subject access: the submissions sent with this contact address (``email`` normalised)
    and, for each, its page's steps, answers, attachments (what they are, not their bytes),
    withdrawal request and how many page links were issued; and the events about the person in
    intake's outbox and inbox."""
    submissions = list(session.scalars(
        select(Submission)
        .where(func.lower(Submission.payload["contact_email"].as_string()) == email)
        .order_by(Submission.id)))
    applications = []
    for row in submissions:
        withdrawal_row = withdrawal(session, row.reference)
        applications.append({
            "reference": row.reference,
            "received_at": row.received_at.isoformat(),
            "form": row.payload,
            "steps": [{"kind": s.kind, "occurred_at": s.occurred_at.isoformat(),
                       "wave": s.wave, "text": s.text} for s in steps(session, row.reference)],
            "answers": [{"message": a.message, "answered_at": a.answered_at.isoformat()}
                        for a in answers(session, row.reference)],
            "attachments": [{"id": f.id, "filename": f.filename, "content_type": f.content_type,
                             "size": f.size, "sha256": f.sha256}
                            for f in attachments(session, row.reference)],
            "withdrawal_request": None if withdrawal_row is None else {
                "reason": withdrawal_row.reason,
                "requested_at": withdrawal_row.requested_at.isoformat()},
            "page_links_issued": len(page_key_digests(session, row.reference)),
        })
    return {"applications": applications,
            "events": events_about(session, email, [r.reference for r in submissions])}


# -- rate limit -----------------------------------------------------------------------------------

def count_request(session: Session, client: str, window: int, expires_at: datetime) -> int:
    """Count one request of ``client`` in ``window``; the count so far, this one included."""
    return session.execute(_statements(session).count_request, {
        "client": client, "window": window, "count": 1, "expires_at": expires_at,
    }).scalar_one()


def forget_expired(session: Session, now: datetime, payload_window: timedelta,
                   key_lifetime: timedelta) -> None:
    session.execute(delete(RateWindow).where(RateWindow.expires_at < now))
    session.execute(delete(RecentPayload).where(RecentPayload.first_seen_at < now - payload_window))
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < now - key_lifetime))


# Events that carry a page's key in clear, until the relay has published them.
LINK_EVENTS = ("application.received", "application.link_requested")
SCRUBBED_SETTING = "page_links_scrubbed_to"
_SCRUB_BATCH = 500


def scrub_page_links(session: Session) -> int:
    """Remove the page address (its key) from published outbox rows: once the event has left,
    the key is kept nowhere in intake but as a digest. Walks the outbox in id order from where
    it stopped, up to the first row not yet published."""
    done_to = int(setting(session, SCRUBBED_SETTING, "0"))
    rows = list(session.scalars(select(OutboxRow).where(OutboxRow.id > done_to)
                                .order_by(OutboxRow.id).limit(_SCRUB_BATCH)))
    scrubbed = 0
    for row in rows:
        if row.sent_at is None:
            break
        data = (row.payload or {}).get("data") or {}
        if row.type in LINK_EVENTS and data.get("page_url"):
            row.payload = {**row.payload, "data": {**data, "page_url": None}}
            scrubbed += 1
        done_to = row.id
    session.execute(update(Setting).where(Setting.name == SCRUBBED_SETTING)
                    .values(value=str(done_to)))
    return scrubbed


# -- the deployment's secret ----------------------------------------------------------------------

def setting(session: Session, name: str, proposed: str) -> str:
    """The stored value of ``name``; the first replica to ask stores ``proposed``."""
    insert = _insert(session)(Setting).values(name=name, value=proposed)
    session.execute(insert.on_conflict_do_nothing())
    return session.scalar(select(Setting.value).where(Setting.name == name))


# -- the applicant's page -------------------------------------------------------------------------

def add_page_key(session: Session, reference: str, digest: str, issued_at: datetime) -> None:
    # A Core insert: on every submission, an ORM object's flush cost a sixth of the request.
    session.execute(insert(PageKey.__table__).values(digest=digest, reference=reference,
                                                     issued_at=issued_at))


def page_key_digests(session: Session, reference: str) -> list[str]:
    return list(session.scalars(select(PageKey.digest).where(PageKey.reference == reference)))


def add_step(session: Session, event_id: str, reference: str, kind: str, occurred_at: datetime,
             application_id: int | None, wave: int | None, text: str | None) -> None:
    """Keep one registry event; a redelivered one (same event_id) changes nothing."""
    session.execute(_insert(session)(StepRow).values(
        event_id=event_id, reference=reference, kind=kind, occurred_at=occurred_at,
        application_id=application_id, wave=wave, text=text,
    ).on_conflict_do_nothing())


def steps(session: Session, reference: str) -> list[StepRow]:
    return list(session.scalars(select(StepRow).where(StepRow.reference == reference)
                                .order_by(StepRow.occurred_at)))


def answers(session: Session, reference: str) -> list[AnswerRow]:
    return list(session.scalars(select(AnswerRow).where(AnswerRow.reference == reference)
                                .order_by(AnswerRow.answered_at)))


def attachments(session: Session, reference: str) -> list[AttachmentRow]:
    """The attachments of an application's answers, without loading their content."""
    columns = [c for c in AttachmentRow.__table__.c if c.name != "content"]
    return list(session.execute(select(*columns).where(AttachmentRow.reference == reference)
                                .order_by(AttachmentRow.answer_id, AttachmentRow.position)))


def attachment(session: Session, attachment_id: str) -> AttachmentRow | None:
    return session.get(AttachmentRow, attachment_id)


def add_answer(session: Session, answer: AnswerRow, files: list[AttachmentRow]) -> AnswerRow:
    """Store an answer and its files; a second answer to the same request fails on the unique
    request_event_id (IntegrityError), whichever replica sends it."""
    session.add(answer)
    session.flush()
    for file in files:
        file.answer_id = answer.id
        session.add(file)
    session.flush()
    return answer


def withdrawal(session: Session, reference: str) -> WithdrawalRow | None:
    return session.get(WithdrawalRow, reference)


def claim_withdrawal(session: Session, reference: str, reason: str | None,
                     requested_at: datetime, event_id: str) -> bool:
    """Record the withdrawal request; False if one was already recorded (a replay)."""
    claimed = session.execute(_insert(session)(WithdrawalRow).values(
        reference=reference, reason=reason, requested_at=requested_at, event_id=event_id,
    ).on_conflict_do_nothing())
    return claimed.rowcount == 1


# -- staff tokens the registry announced ----------------------------------------------------------



# -- the campaign's waves -------------------------------------------------------------------------

def wave_opened(session: Session, number: int, name: dict, theme: dict,
                closes_at: datetime | None, opened_at: datetime,
                description: dict | None = None) -> None:
    """Keep a wave's opening; the facts of a later opening win over an earlier one's, and an
    opening delivered twice, or after the wave's closing, leaves the closing as it was."""
    table = WaveRow.__table__
    insert = _insert(session)(table).values(
        number=number, name=name, theme=theme, closes_at=closes_at, opened_at=opened_at,
        description=description or None)
    session.execute(insert.on_conflict_do_update(
        index_elements=[table.c.number],
        set_={"name": insert.excluded.name, "theme": insert.excluded.theme,
              "closes_at": insert.excluded.closes_at, "opened_at": insert.excluded.opened_at,
              "description": insert.excluded.description},
        where=table.c.opened_at.is_(None) | (table.c.opened_at <= insert.excluded.opened_at),
    ))


def wave_closed(session: Session, number: int, closed_at: datetime) -> None:
    """Keep a wave's closing, even before its opening has arrived; the first closing stays."""
    table = WaveRow.__table__
    insert = _insert(session)(table).values(number=number, closed_at=closed_at)
    session.execute(insert.on_conflict_do_update(
        index_elements=[table.c.number],
        set_={"closed_at": insert.excluded.closed_at},
        where=table.c.closed_at.is_(None),
    ))


def known_waves(session: Session) -> list[waves.Wave]:
    return [waves.Wave(row.number, row.name, row.theme, row.closes_at, row.closed_at is not None,
                       row.description)
            for row in session.scalars(select(WaveRow).order_by(WaveRow.number))]
