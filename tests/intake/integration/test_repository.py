"""Intake's tables and the submission desk on SQLite and on PostgreSQL."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import eventlet
import psycopg2.extensions
import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import Pool

from services.intake import db as intake_db
from services.intake import domain, guards, submissions
from services.intake.handlers import handlers
from services.intake.schemas import ApplicationForm
from services.intake.service import MIGRATIONS
from shared import db as shared_db
from shared import outbox
from shared.events import checked_event, new_event
from shared.outbox import OutboxRow
from tests.intake.conftest import example

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/intake.db"
    else:
        url = request.getfixturevalue("postgres")("intake").url
    shared_db.migrate(url, MIGRATIONS)
    yield shared_db.database_for(url)
    shared_db.dispose_all()


def application(**changes):
    return ApplicationForm().load(example(**changes))


def count(database, table) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(table))


def test_a_submission_and_its_event_are_committed_together(database):
    receipt = submissions.receive(database, application(), now=NOW)
    assert receipt.new and receipt.reference.startswith("HRC-2026-")
    with database.transaction() as session:
        submission = session.scalar(select(intake_db.Submission))
        row = session.scalar(select(OutboxRow))
    assert submission.reference == receipt.reference
    assert row.event_id == submission.event_id
    assert row.payload["data"]["reference"] == receipt.reference
    assert row.payload["data"]["submitted_at"] == NOW.isoformat()


def test_a_new_submission_s_commit_wakes_the_relay_and_a_repeat_s_does_not(database):
    woken: list[str] = []
    stop = outbox.wake_on_commit(database, lambda: woken.append("woken"))
    try:
        first = submissions.receive(database, application(), now=NOW)
        assert woken == ["woken"]
        repeat = submissions.receive(database, application(), now=NOW)
    finally:
        stop()
    assert repeat.reference == first.reference and not repeat.new
    assert woken == ["woken"]


def test_a_failing_outbox_write_leaves_no_submission(database, monkeypatch):
    first = submissions.receive(database, application(), now=NOW)
    with database.transaction() as session:
        taken = session.scalar(select(OutboxRow.event_id))
    # The next event reuses the first one's id: its outbox row is refused by the unique key.
    monkeypatch.setattr(submissions, "checked_event",
                        lambda *args, **kwargs: checked_event(*args, event_id=taken, **kwargs))
    with pytest.raises(IntegrityError):
        submissions.receive(database, application(population=1), now=NOW)
    assert count(database, intake_db.Submission) == 1
    assert count(database, intake_db.PageKey) == 1
    with database.transaction() as session:
        assert session.scalars(select(intake_db.RecentPayload.reference)).all() == [
            first.reference]


def test_the_same_payload_within_the_window_has_one_reference(database):
    first = submissions.receive(database, application(), now=NOW)
    again = submissions.receive(database, application(),
                                now=NOW + timedelta(minutes=9, seconds=59))
    assert again == submissions.Receipt(first.reference, new=False)
    later = submissions.receive(database, application(), now=NOW + timedelta(minutes=10))
    assert later.new and later.reference != first.reference
    assert count(database, intake_db.Submission) == 2 == count(database, OutboxRow)


def test_an_idempotency_key_keeps_its_reference_beyond_the_window(database):
    first = submissions.receive(database, application(), idempotency_key="k", now=NOW)
    again = submissions.receive(database, application(), idempotency_key="k",
                                now=NOW + timedelta(hours=2))
    assert again == submissions.Receipt(first.reference, new=False)
    with pytest.raises(submissions.KeyReused):
        submissions.receive(database, application(population=1), idempotency_key="k", now=NOW)
    assert count(database, intake_db.Submission) == 1


def test_a_taken_reference_is_drawn_again(database, monkeypatch):
    taken = submissions.receive(database, application(), now=NOW).reference
    draws = iter([taken, taken, "HRC-2026-NEW00"])
    monkeypatch.setattr(domain, "new_reference", lambda year: next(draws))
    receipt = submissions.receive(database, application(population=1), now=NOW)
    assert receipt == submissions.Receipt("HRC-2026-NEW00", new=True)
    assert count(database, intake_db.Submission) == 2 == count(database, OutboxRow)


def test_concurrent_identical_submissions_make_one(database):
    """Twelve greenthreads send the same application at once (a frantic double click)."""
    pool = eventlet.GreenPool(12)
    receipts = list(pool.imap(
        lambda _: submissions.receive(database, application(), now=NOW), range(12)))
    assert len({r.reference for r in receipts}) == 1
    assert sum(r.new for r in receipts) == 1
    assert count(database, intake_db.Submission) == 1 == count(database, OutboxRow)


def test_a_submission_over_the_rate_limit_stores_nothing_and_is_not_counted(database):
    limit = guards.RateLimit(2, 60)
    for population in (1, 2):
        submissions.receive(database, application(population=population), now=NOW,
                            admission=limit.admission("203.0.113.9", NOW))
    with pytest.raises(guards.TooManyRequests):
        submissions.receive(database, application(population=3), now=NOW,
                            admission=limit.admission("203.0.113.9", NOW))
    assert count(database, intake_db.Submission) == 2 == count(database, OutboxRow)
    assert count(database, intake_db.RecentPayload) == 2 == count(database, intake_db.PageKey)
    with database.transaction() as session:
        assert session.scalar(select(intake_db.RateWindow.count)) == 2


def test_a_new_submission_is_one_statement_on_postgresql(database):
    statements = []

    def executed(conn, cursor, sql, *_):
        statements.append(sql)

    class CountingCursor(psycopg2.extensions.cursor):
        def execute(self, sql, values=None):
            # The pool's ping of a connection that sat idle is not the submission's.
            if sql != "SELECT 1":
                statements.append(sql)
            return super().execute(sql, values)

    def counting(dbapi_connection, *_):
        dbapi_connection.cursor_factory = CountingCursor

    def plain(dbapi_connection, *_):
        dbapi_connection.cursor_factory = None

    # Every engine and pool: on PostgreSQL the statement runs on the DB-API cursor of the
    # database's autocommit connections, which SQLAlchemy's events do not see; the driver's
    # cursors see every statement.
    target, hooks = (Pool, (("checkout", counting), ("checkin", plain))) \
        if database.is_postgresql else (Engine, (("before_cursor_execute", executed),))
    for name, hook in hooks:
        event.listen(target, name, hook)
    try:
        receipt = submissions.receive(database, application(), now=NOW,
                                      admission=guards.RateLimit(5, 60).admission("a", NOW))
        again = submissions.receive(database, application(), now=NOW,
                                    admission=guards.RateLimit(5, 60).admission("a", NOW))
    finally:
        for name, hook in hooks:
            event.remove(target, name, hook)
    assert again == submissions.Receipt(receipt.reference, new=False)
    # SQLite takes the steps one by one: count, claim, submission, page key, event; a repeat
    # counts, claims, and reads the reference the payload already had.
    assert len(statements) == (2 if database.is_postgresql else 5 + 3)


def test_over_the_rate_limit_a_keyed_submission_stores_nothing_either(database):
    limit = guards.RateLimit(1, 60)
    submissions.receive(database, application(), idempotency_key="k1", now=NOW,
                        admission=limit.admission("a", NOW))
    with pytest.raises(guards.TooManyRequests):
        submissions.receive(database, application(population=2), idempotency_key="k2",
                            now=NOW, admission=limit.admission("a", NOW))
    assert count(database, intake_db.Submission) == 1 == count(database, OutboxRow)
    assert count(database, intake_db.IdempotencyKey) == 1


def test_rate_windows_count_per_client_and_window(database):
    with database.transaction() as session:
        counts = [intake_db.count_request(session, "a", 7, NOW) for _ in range(3)]
        counts.append(intake_db.count_request(session, "b", 7, NOW))
        counts.append(intake_db.count_request(session, "a", 8, NOW))
    assert counts == [1, 2, 3, 1, 1]


def test_expired_rows_are_forgotten(database):
    submissions.receive(database, application(), idempotency_key="k", now=NOW)
    stored_now = NOW.replace(tzinfo=None)
    with database.transaction() as session:
        intake_db.count_request(session, "a", 1, stored_now)
    submissions.forget_expired(database, NOW + timedelta(hours=25))
    assert count(database, intake_db.RateWindow) == 0
    assert count(database, intake_db.RecentPayload) == 0
    assert count(database, intake_db.IdempotencyKey) == 0
    assert count(database, intake_db.Submission) == 1


def test_the_first_stored_secret_wins(database):
    with database.transaction() as session:
        first = intake_db.setting(session, "csrf_secret", "one")
    with database.transaction() as session:
        assert intake_db.setting(session, "csrf_secret", "two") == first == "one"


def test_member_erased_drops_the_personal_data_of_its_references(database):
    kept = submissions.receive(database, application(population=1), now=NOW).reference
    erased = submissions.receive(database, application(), idempotency_key="k", now=NOW)
    with database.transaction() as session:
        session.execute(OutboxRow.__table__.update().values(sent_at=NOW.replace(tzinfo=None)))
    event = new_event("member.erased", {"member_id": 7, "references": [erased.reference]})
    forget = handlers({})["member.erased"]
    with database.transaction() as session:
        forget(event, session)
    with database.transaction() as session:
        by_reference = {s.reference: s for s in session.scalars(select(intake_db.Submission))}
        outbox = {r.event_id: r.payload for r in session.scalars(select(OutboxRow))}
    assert by_reference[erased.reference].payload == intake_db.ERASED
    assert outbox[by_reference[erased.reference].event_id] == intake_db.ERASED
    assert by_reference[kept].payload["government_name"] == "Ville de Grigny"
    assert outbox[by_reference[kept].event_id]["data"]["reference"] == kept
    assert count(database, intake_db.IdempotencyKey) == 0
    # Its fingerprint is gone too: the same payload again is a new application.
    again = submissions.receive(database, application(), now=NOW + timedelta(minutes=1))
    assert again.new and again.reference != erased.reference
    with database.transaction() as session:  # a redelivered erasure does nothing more
        forget(event, session)
