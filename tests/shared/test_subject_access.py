"""Subject access: what each service holds about one address (``held_about``), on SQLite and
PostgreSQL, and ``gather``, which makes one document of the services' answers."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import requests

from services.intake import db as intake_db
from services.notify import db as notify_db
from services.notify.domain import Contact, Notification
from services.registry import actions
from services.registry.db import registry
from services.reports import db as reports_db
from shared import db as shared_db
from shared import subject_access
from shared.events import ApplicationReceived
from shared.http import HttpError
from shared.inbox import DONE, InboxRow
from shared.staff_api import StaffApiError
from tests.registry.integration.test_store import open_wave_4
from tests.registry.unit.fakes import received_data

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
AMANDA = "Amanda@Example.org"  # as she typed it; compared in lower case everywhere
MIGRATIONS = {name: __import__(f"services.{name}.service", fromlist=["MIGRATIONS"]).MIGRATIONS
              for name in ("registry", "intake", "notify", "reports")}


@pytest.fixture(params=["sqlite", "postgresql"])
def databases(request, tmp_path):
    """``databases(service)``: that service's database, migrated."""
    made = {}

    def make(service: str) -> shared_db.Database:
        if service not in made:
            url = (f"sqlite:///{tmp_path}/{service}.db" if request.param == "sqlite"
                   else request.getfixturevalue("postgres")(service).url)
            shared_db.migrate(url, MIGRATIONS[service])
            made[service] = shared_db.database_for(url)
        return made[service]

    yield make
    shared_db.dispose_all()


def _inbox(session, type_: str, data: dict) -> None:
    event_id = str(uuid.uuid4())
    session.add(InboxRow(event_id=event_id, type=type_, status=DONE, attempts=1,
                         received_at=NOW, next_attempt_at=NOW, processed_at=NOW,
                         payload={"event_id": event_id, "type": type_, "version": 1,
                                  "occurred_at": NOW.isoformat(), "data": data}))


# --- the address asked ---------------------------------------------------------------------------

@pytest.mark.parametrize(("asked", "problem"), [
    ({}, "required"), ({"email": "  "}, "required"), ({"email": "amanda"}, "not an e-mail"),
    ({"email": "@"}, "not an e-mail"), ({"email": "a b@example.org"}, "not an e-mail"),
    ({"email": "a@" + "x" * 320}, "not an e-mail"),
])
def test_an_unusable_address_is_a_422_naming_the_field(asked, problem):
    with pytest.raises(HttpError) as refused:
        subject_access.email_asked(asked)
    assert refused.value.status == 422 and problem in refused.value.detail["email"][0]


def test_the_address_is_compared_as_addresses_are_stored():
    assert subject_access.email_asked({"email": " Amanda@Example.ORG "}) == "amanda@example.org"


# --- each service's rows --------------------------------------------------------------------------

def test_the_registry_holds_the_applications_member_audit_and_events(databases):
    database = databases("registry")
    with registry(database) as store:
        application = actions.receive_application(store, ApplicationReceived.from_data(
            received_data(contact_email=AMANDA, contact_name="Amanda Test")))
        other = actions.receive_application(
            store, ApplicationReceived.from_data(received_data(contact_email="x@example.org")))
    open_wave_4(database)
    with registry(database) as store:
        _, member = actions.accept(store, "alice", application.id, 4, NOW)
    with registry(database) as store:
        actions.replace_contact(store, "alice", member.id,
                                {"contact_name": "Nouvelle Élue",
                                 "contact_email": "elue@example.org"}, NOW)

    with registry(database) as store:
        amanda = store.held_about("amanda@example.org")
        newcomer = store.held_about("elue@example.org")
        nobody = store.held_about("nobody@example.org")
    assert [a.reference for a in amanda["applications"]] == [application.reference]
    assert other.reference not in str(amanda)
    # She is no longer the member's contact; her application and what staff did to it stay hers.
    assert amanda["members"] == []
    assert [e.action for e in amanda["audit"]] == ["review_in_wave_4", "accept"]
    assert {e["type"] for e in amanda["events"]} >= {"application.accepted", "member.joined"}
    assert [m.id for m in newcomer["members"]] == [member.id]
    assert nobody == {"applications": [], "members": [], "audit": [], "events": []}


def test_intake_holds_the_submission_its_page_answers_and_attachments(databases):
    database = databases("intake")
    reference = "HRC-2026-AMAND"
    with database.transaction() as session:
        intake_db.add_submission(session, reference, NOW.replace(tzinfo=None),
                                 {**received_data(reference=reference), "contact_email": AMANDA},
                                 str(uuid.uuid4()))
        intake_db.add_submission(session, "HRC-2026-OTHER", NOW.replace(tzinfo=None),
                                 received_data(reference="HRC-2026-OTHER",
                                               contact_email="other@example.org"),
                                 str(uuid.uuid4()))
        intake_db.add_step(session, str(uuid.uuid4()), reference, "info_requested",
                           NOW.replace(tzinfo=None), 7, None, "Which council vote?")
        answer = intake_db.add_answer(session, intake_db.AnswerRow(
            reference=reference, request_event_id=str(uuid.uuid4()), message="Vote of May 3",
            answered_at=NOW.replace(tzinfo=None), event_id=str(uuid.uuid4())),
            [intake_db.AttachmentRow(id=uuid.uuid4().hex, reference=reference, position=0,
                                     filename="vote.pdf", content_type="application/pdf",
                                     size=4, sha256="0" * 64, content=b"%PDF")])
        assert answer.id
        _inbox(session, "application.accepted",
               {"reference": reference, "application_id": 7, "member_id": 3, "wave": 4})

    with database.transaction() as session:
        held = intake_db.held_about(session, "amanda@example.org")
        nobody = intake_db.held_about(session, "nobody@example.org")
    [application] = held["applications"]
    assert application["reference"] == reference and application["form"]["contact_email"] == AMANDA
    assert application["steps"][0]["text"] == "Which council vote?"
    assert application["answers"] == [{"message": "Vote of May 3",
                                       "answered_at": NOW.replace(tzinfo=None).isoformat()}]
    assert [f["filename"] for f in application["attachments"]] == ["vote.pdf"]
    assert "content" not in application["attachments"][0]
    # Found by its reference alone: the event names no address.
    assert [e["type"] for e in held["events"]] == ["application.accepted"]
    assert nobody == {"applications": [], "events": []}


def test_notify_holds_the_mails_sent_with_their_subjects(databases):
    database = databases("notify")
    reference = "HRC-2026-AMAND"
    to_her = Notification(str(uuid.uuid4()), "received", Contact(AMANDA, "Amanda", "fr", "Grigny"),
                          {"reference": reference})
    to_staff = Notification(to_her.event_id, "staff_alert",
                            Contact("staff@uclg.example", "", "en", ""), {"reference": reference})
    with database.transaction() as session:
        notify_db.queue(session, [to_her, to_staff])
        notify_db.SqlDirectory(session).add_applicant(
            reference, Contact(AMANDA, "Amanda", "fr", "Grigny"), {"country": "FR"})
        row = session.scalar(notify_db.select(notify_db.NotificationRow)
                             .where(notify_db.NotificationRow.template == "received"))
        row.message = ("Subject: =?utf-8?q?Nous_avons_bien_re=C3=A7u_votre_candidature?=\n"
                       f"To: {AMANDA}\n\nBonjour\n")
        row.status, row.sent_at = notify_db.SENT, NOW.replace(tzinfo=None)

    with database.transaction() as session:
        held = notify_db.held_about(session, "amanda@example.org")
        nobody = notify_db.held_about(session, "nobody@example.org")
    [mail] = held["mails"]
    assert mail["subject"] == "Nous avons bien reçu votre candidature"
    assert mail["status"] == "sent" and mail["sent_at"].startswith("2026-03-01T12:00")
    assert [m["recipient"] for m in held["mails_to_staff_about_them"]] == ["staff@uclg.example"]
    assert [a["reference"] for a in held["applicants"]] == [reference]
    assert all(v == [] for v in nobody.values())


def test_reports_holds_events_and_the_read_model_rows_they_lead_to(databases):
    database = databases("reports")
    reference = "HRC-2026-AMAND"
    with database.transaction() as session:
        _inbox(session, "application.received", {**received_data(reference=reference),
                                                  "contact_email": AMANDA})
        _inbox(session, "member.joined", {"member_id": 12, "wave": 4, "reference": reference,
                                          "government_name": "Grigny", "country": "FR"})
        _inbox(session, "member.joined", {"member_id": 13, "wave": 4, "reference": "HRC-X",
                                          "government_name": "Other", "country": "FR"})
        session.add(reports_db.ApplicationRow(reference=reference, application_id=7,
                                              government_name="Grigny", country="FR", themes=[]))
        session.add(reports_db.MemberRow(member_id=12, wave=4, government_name="Grigny",
                                         country="FR", reference=reference, themes=[],
                                         joined_at=NOW.replace(tzinfo=None)))

    with database.transaction() as session:
        held = reports_db.held_about(session, "amanda@example.org")
        nobody = reports_db.held_about(session, "nobody@example.org")
    assert [e["type"] for e in held["events"]] == ["application.received", "member.joined"]
    assert [a["reference"] for a in held["applications"]] == [reference]
    assert [m["member_id"] for m in held["members"]] == [12]
    assert held["members"][0]["joined_at"].startswith("2026-03-01T12:00")
    assert nobody == {"applications": [], "members": [], "events": []}


# --- one document ---------------------------------------------------------------------------------

class _Api:
    def __init__(self, answer=None, error: Exception | None = None):
        self.answer, self.error, self.asked = answer, error, []

    def get(self, path, **params):
        self.asked.append((path, params))
        if self.error:
            raise self.error
        return self.answer


def test_gather_makes_one_document_and_says_which_service_did_not_answer():
    registry_api = _Api({"service": "registry", "email": "a@x.org", "members": [{"id": 1}]})
    notify_api = _Api(error=requests.ConnectionError("refused"))
    document = subject_access.gather(" A@X.org", {"registry": registry_api, "notify": notify_api},
                                     NOW, staff_accounts=[{"email": "A@x.org", "role": "admin"},
                                                          {"email": "b@x.org"}])
    assert registry_api.asked == [("/api/people", {"email": "a@x.org"})]
    assert document == {
        "email": "a@x.org", "exported_at": NOW.isoformat(), "complete": False,
        "services": {"registry": {"members": [{"id": 1}]},
                     "console": {"staff_accounts": [{"email": "A@x.org", "role": "admin"}]}},
        "not_answered": {"notify": "refused"},
    }


def test_gather_passes_on_a_refused_address():
    with pytest.raises(StaffApiError):
        subject_access.gather("nope", {"registry": _Api(error=StaffApiError(422, "invalid"))},
                              NOW)
