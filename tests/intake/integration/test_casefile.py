"""The applicant's case file on SQLite and PostgreSQL: keys, the projection, an answer with its
files and its event in one transaction, one answer per request even when two race, withdrawal
once, a fresh link, the key scrubbed from published events, erasure."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import eventlet
import pytest
from sqlalchemy import select, update

from services.intake import applicant, casefile, submissions
from services.intake import db as intake_db
from shared.events import new_event, typed
from shared.outbox import OutboxRow
from tests.intake.integration import test_repository as repository

# The same database fixture (SQLite and PostgreSQL) as the rest of intake's tables.
database = repository.database
application, count = repository.application, repository.count

PDF = b"%PDF-1.7\n" + b"x" * 2048
BASE = "https://apply.example"


def _applied(database, **changes) -> tuple[str, str]:
    receipt = submissions.receive(database, application(**changes), page_base=BASE)
    with database.transaction() as session:
        row = session.scalar(select(OutboxRow).where(OutboxRow.type == "application.received")
                             .order_by(OutboxRow.id.desc()))
    url = row.payload["data"]["page_url"]
    assert url.startswith(f"{BASE}/applications/{receipt.reference}/")
    return receipt.reference, url.rsplit("/", 1)[1]


def _step(database, reference, event_type, at, **data):
    event = new_event(event_type, {"application_id": 1, "reference": reference, **data},
                      occurred_at=at)
    with database.transaction() as session:
        casefile.follow(typed(event), session)
    return event


def _asked(database, reference):
    now = datetime.now(UTC)
    _step(database, reference, "application.under_review", now, wave=4)
    return _step(database, reference, "application.info_requested", now + timedelta(seconds=1),
                 message="La délibération ?")


def test_the_key_opens_its_page_only(database):
    reference, key = _applied(database)
    other, other_key = _applied(database, government_name="Ville de Vienne")
    assert casefile.open_page(database, reference, key).reference == reference
    for wrong in (other_key, key[:-1], ""):
        with pytest.raises(casefile.PageNotFound):
            casefile.open_page(database, reference, wrong)


def test_an_answer_its_files_and_its_event_commit_together(database):
    reference, key = _applied(database)
    request = _asked(database, reference)
    files = applicant.check_attachments([applicant.Upload("d.pdf", PDF)])
    event = casefile.answer(database, reference, key, "Voici.", files)
    with database.transaction() as session:
        [answer] = intake_db.answers(session, reference)
        [stored] = session.scalars(select(intake_db.AttachmentRow)).all()
        row = session.scalar(select(OutboxRow).where(OutboxRow.event_id == event.event_id))
        assert stored.content == PDF and stored.answer_id == answer.id
    assert answer.request_event_id == request.event_id
    assert row.payload["data"]["attachments"][0]["sha256"] == files[0].sha256
    with pytest.raises(applicant.NothingToAnswer):
        casefile.answer(database, reference, key, "Encore", [])


def test_two_answers_racing_make_one(database):
    reference, key = _applied(database)
    _asked(database, reference)
    outcomes = []

    def send(text):
        try:
            casefile.answer(database, reference, key, text, [])
            outcomes.append("stored")
        except applicant.NothingToAnswer:
            outcomes.append("refused")
        except Exception as exc:  # SQLite may refuse the second writer outright
            outcomes.append(type(exc).__name__)

    pool = [eventlet.spawn(send, f"answer {i}") for i in range(4)]
    for thread in pool:
        thread.wait()
    assert outcomes.count("stored") == 1
    assert count(database, intake_db.AnswerRow) == 1


def test_a_withdrawal_is_recorded_once_and_not_after_a_decision(database):
    reference, key = _applied(database)
    assert casefile.request_withdrawal(database, reference, key, "Nouveau mandat")
    assert not casefile.request_withdrawal(database, reference, key, "Nouveau mandat")
    assert count(database, intake_db.WithdrawalRow) == 1
    decided, decided_key = _applied(database, government_name="Ville de Vienne")
    _step(database, decided, "application.declined", datetime.now(UTC), reason="Hors champ")
    with pytest.raises(applicant.CannotWithdraw):
        casefile.request_withdrawal(database, decided, decided_key, None)


def test_a_fresh_link_only_for_the_contact_address_and_the_key_leaves_the_outbox(database):
    reference, key = _applied(database)
    assert not casefile.mail_link_again(database, reference, "other@example.org", BASE)
    assert casefile.mail_link_again(database, reference, "AMINA.DIALLO@example.org", BASE)
    with database.transaction() as session:
        session.execute(update(OutboxRow).values(sent_at=datetime(2026, 5, 1)))
        [link] = session.scalars(select(OutboxRow).where(
            OutboxRow.type == "application.link_requested")).all()
    fresh = link.payload["data"]["page_url"].rsplit("/", 1)[1]
    assert casefile.open_page(database, reference, fresh)
    assert casefile.open_page(database, reference, key)
    submissions.forget_expired(database)
    with database.transaction() as session:
        payloads = [r.payload["data"] for r in session.scalars(select(OutboxRow))]
    assert all(p.get("page_url") is None for p in payloads)
    assert key not in str(payloads) and fresh not in str(payloads)


def test_erasure_forgets_the_page(database):
    reference, key = _applied(database)
    _asked(database, reference)
    files = applicant.check_attachments([applicant.Upload("d.pdf", PDF)])
    casefile.answer(database, reference, key, "Voici.", files)
    with database.transaction() as session:
        intake_db.forget_references(session, [reference])
    with pytest.raises(casefile.PageNotFound):
        casefile.open_page(database, reference, key)
    for model in (intake_db.PageKey, intake_db.StepRow, intake_db.AnswerRow,
                  intake_db.AttachmentRow):
        assert count(database, model) == 0
