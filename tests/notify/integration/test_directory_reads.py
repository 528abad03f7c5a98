"""How often notify's inbox reads an applicant, on SQLite and PostgreSQL: a group of application
steps reads its applicants once (db.read_ahead) and every step's handler works on the rows held
for the transaction, so each step costs its own writes and no SELECT; the outcome is the same."""
from __future__ import annotations

from sqlalchemy import event, select

from services.notify import db
from shared import inbox
from shared.events import new_event
from tests.notify import samples

REFERENCES = [f"HRC-2026-R{n:04d}" for n in range(5)]


def test_a_group_of_steps_reads_its_applicants_once_and_mails_each(notify):
    notify.processor.prepare = db.read_ahead  # as NotifyService's Inbox has it
    notify.receive(*[samples.received(reference=r, contact_email=f"p{n}@grigny.example")
                     for n, r in enumerate(REFERENCES)])
    statements: list[str] = []
    event.listen(notify.database.engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_: statements.append(statement))
    for number, reference in enumerate(REFERENCES):
        inbox.store(notify.database, new_event("application.waitlisted", {
            "application_id": number + 1, "reference": reference,
            "possible_duplicates": []}).as_message())
    assert notify.processor.process_due() == len(REFERENCES)
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")
             and "FROM applicants" in s]
    assert len(reads) == 1, reads
    with notify.database.transaction() as session:
        statuses = set(session.scalars(select(db.ApplicantRow.status)))
    assert statuses == {"waitlisted"}
    mails = notify.rows(db.NotificationRow.template == "waitlisted")
    assert sorted(m.recipient for m in mails) == [f"p{n}@grigny.example"
                                                 for n in range(len(REFERENCES))]


def test_a_step_alone_reads_its_applicant_once(notify):
    notify.receive(samples.received(reference=REFERENCES[0]))
    statements: list[str] = []
    event.listen(notify.database.engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_: statements.append(statement))
    notify.receive(new_event("application.under_review", {
        "application_id": 1, "reference": REFERENCES[0], "possible_duplicates": [],
        "wave": 3}))
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")
             and "FROM applicants" in s]
    assert len(reads) == 1, reads
    assert notify.rows(db.NotificationRow.template == "acknowledgement")


def test_new_applicants_cost_no_read_of_their_own(notify):
    """application.received names an applicant notify does not know yet: the group's one
    SELECT says so for all of them, and a later step in the group finds the row just added."""
    notify.processor.prepare = db.read_ahead
    statements: list[str] = []
    event.listen(notify.database.engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_: statements.append(statement))
    for number, reference in enumerate(REFERENCES):
        inbox.store(notify.database, samples.received(
            reference=reference, contact_email=f"p{number}@grigny.example").as_message())
    inbox.store(notify.database, new_event("application.waitlisted", {
        "application_id": 1, "reference": REFERENCES[0], "possible_duplicates": []}
    ).as_message())
    assert notify.processor.process_due() == len(REFERENCES) + 1
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")
             and "FROM applicants" in s]
    assert len(reads) == 1, reads
    with notify.database.transaction() as session:
        rows = {row.reference: row.status for row in session.scalars(select(db.ApplicantRow))}
    assert rows == {**{r: "received" for r in REFERENCES}, REFERENCES[0]: "waitlisted"}
    assert [m.recipient for m in notify.rows(db.NotificationRow.template == "waitlisted")] == [
        "p0@grigny.example"]


def test_a_steps_mails_are_queued_in_one_statement_in_order_each_once(notify):
    """The first answer to an application queues the applicant's mail and one per staff
    address: on PostgreSQL one INSERT for all of them (an executemany was a round trip per
    mail), in the order the domain gave them (the log's ids order one address's mails); the
    same event handled again queues nothing more."""
    notify.receive(samples.received(reference=REFERENCES[0]))
    inserts: list[tuple[str, bool]] = []
    event.listen(notify.database.engine, "before_cursor_execute",
                 lambda _c, _cur, statement, _p, _ctx, many: inserts.append((statement, many))
                 if "INSERT INTO notifications" in statement else None)
    under_review = new_event("application.under_review", {
        "application_id": 1, "reference": REFERENCES[0], "possible_duplicates": [], "wave": 3})
    notify.receive(under_review)
    # psycopg2 runs an executemany as one statement per row.
    assert [many for _, many in inserts] == (
        [False] if notify.database.is_postgresql else [True]), inserts
    mails = notify.rows()
    assert [(m.template, m.recipient) for m in mails] == [
        ("new_application", "secretariat@uclg.example"),
        ("new_application", "review@uclg.example"),
        ("acknowledgement", "zoe.martin@grigny.example")]
    assert mails[2].context["reference"] == REFERENCES[0] and mails[2].language == "fr"
    assert mails[0].status == db.PENDING and mails[0].attempts == 0
    with notify.database.transaction() as session:
        assert db.queue(session, [m.notification() for m in mails]) == 0
    assert len(notify.rows()) == 3
