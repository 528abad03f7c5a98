"""What the applicant does from their page reaches the registry as events from intake: an
answer goes into the audit trail and resumes the review; a withdrawal follows the usual rule.
On SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from services.registry import actions
from services.registry.db import registry
from shared.events import ApplicationInfoProvided, ApplicationWithdrawalRequested
from tests.registry.integration.test_store import NOW, open_wave_4, outbox, receive

ANSWER = {
    "message": "Voici la délibération du conseil municipal.",
    "attachments": [{"id": "a1", "filename": "deliberation.pdf",
                     "content_type": "application/pdf", "size": 1200, "sha256": "a" * 64}],
}


def answer(application) -> ApplicationInfoProvided:
    return ApplicationInfoProvided.from_data({"reference": application.reference, **ANSWER})


def _asked(database):
    open_wave_4(database)
    application = receive(database)
    with registry(database) as store:
        actions.request_info(store, "alice", application.id, "La délibération ?", NOW)
    return application


def test_an_answer_is_in_the_audit_trail_and_puts_the_application_back_under_review(database):
    application = _asked(database)
    with registry(database) as store:
        actions.applicant_answered(store, answer(application), NOW)
    with registry(database) as store:
        assert store.application(application.id).status.value == "under_review"
        last = store.audit_trail("application", str(application.id))[-1]
    assert (last.who, last.action) == ("applicant", "info_provided")
    assert last.before["status"] == "info_requested"
    assert last.after["status"] == "under_review"
    assert last.after["answer"] == ANSWER["message"]
    assert last.after["attachments"] == ANSWER["attachments"]
    assert outbox(database)[-1][0] == "application.under_review"


def test_an_answer_after_staff_resumed_is_recorded_and_moves_nothing(database):
    application = _asked(database)
    with registry(database) as store:
        actions.resume_review(store, "alice", application.id, NOW)
    events = len(outbox(database))
    with registry(database) as store:
        actions.applicant_answered(store, answer(application), NOW)
    assert len(outbox(database)) == events
    with registry(database) as store:
        assert store.audit_trail("application", str(application.id))[-1].action == "info_provided"


def test_a_withdrawal_request_withdraws_once(database):
    open_wave_4(database)
    application = receive(database)
    request = ApplicationWithdrawalRequested.from_data(
        {"reference": application.reference, "reason": "Changement de mandature"})
    for _ in range(2):
        with registry(database) as store:
            actions.applicant_withdrew(store, request, NOW)
    withdrawn = [data for kind, data in outbox(database) if kind == "application.withdrawn"]
    assert withdrawn == [{"application_id": application.id, "reference": application.reference,
                          "reason": "Changement de mandature"}]
    with registry(database) as store:
        assert store.application(application.id).status.value == "withdrawn"
        assert store.audit_trail("application", str(application.id))[-1].who == "applicant"


def test_an_event_about_an_unknown_application_is_retried(database):
    with registry(database) as store, pytest.raises(actions.ApplicationNotYetKnown):
        actions.applicant_withdrew(store, ApplicationWithdrawalRequested.from_data(
            {"reference": "HRC-2026-ZZZZZ", "reason": None}), NOW)
