"""Order per recipient through notify's inbox, on SQLite and PostgreSQL, to a real SMTP server:
an event that comes before the one it follows waits (past any retry budget) and then mails as
it should; accept, withdraw and erase within a second park nothing."""
from __future__ import annotations

from sqlalchemy import select

from services.notify import db
from shared import inbox
from shared.events import new_event
from shared.inbox import InboxRow
from tests.notify import samples
from tests.notify.integration.conftest import STAFF

REF = "HRC-2026-7KQ2M"
PERSON = "zoe.martin@grigny.example"


def step(type_, **data):
    return new_event(type_, {"application_id": 42, "reference": REF, **data})


def inbox_rows(notify) -> list[InboxRow]:
    with notify.database.transaction() as session:
        return list(session.scalars(select(InboxRow).order_by(InboxRow.id)))


def test_a_waitlisting_before_its_application_waits_past_the_retry_budget(notify, smtp_server):
    waitlisted = step("application.waitlisted")
    inbox.store(notify.database, waitlisted.as_message())
    for _ in range(3 * notify.processor.backoff.max_attempts):
        notify.processor.process_due()
        notify.processor._wake_waiting()  # as if other events were handled meanwhile
    [row] = inbox_rows(notify)
    assert (row.status, row.attempts) == (inbox.PENDING, 0)
    assert row.last_error.startswith(inbox.WAITING)

    notify.receive(samples.received())
    notify.send()
    assert {r.status for r in inbox_rows(notify)} == {inbox.DONE}
    sent = sorted((recipients[0], m["Subject"]) for recipients, m in smtp_server.messages())
    assert [r for r, _ in sent] == sorted([PERSON, *STAFF])


def test_accept_withdraw_erase_within_a_second_erasure_first_parks_nothing(notify, smtp_server,
                                                                          caplog):
    notify.receive(samples.received(), step("application.under_review", wave=3))
    notify.send()
    before = len(smtp_server.messages())
    erased = new_event("member.erased", {"member_id": 7, "references": [REF]})
    joined = new_event("member.joined", {
        "member_id": 7, "wave": 3, "government_name": "Ville de Grigny", "country": "FR",
        "region": "Europe", "reference": REF, "contact_email": PERSON, "language": "fr"})
    with caplog.at_level("INFO", logger="services.notify.domain"):
        notify.receive(erased)
        notify.receive(step("application.accepted", member_id=7, wave=3), joined,
                       new_event("member.withdrawn", {"member_id": 7, "reason": "x"}))
    notify.send()
    assert {r.status for r in inbox_rows(notify)} == {inbox.DONE}
    assert caplog.text.count("was erased") == 3
    after = smtp_server.messages()[before:]
    assert [(recipients, "erasure" in m["Message-ID"]) for recipients, m in after] == [
        ([PERSON], True)]
    with notify.database.transaction() as session:
        assert session.get(db.ApplicantRow, REF).email == ""
        assert session.get(db.MemberRow, 7).status == "erased"
