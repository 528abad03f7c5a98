"""The applicant's side as pure rules: the key, the status read from the registry's steps, what
an answer and its attachments must be."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.intake import applicant
from services.intake.applicant import Answer, Standing, Step, Upload
from services.intake.domain import FieldProblem

T0 = datetime(2026, 5, 1, 12)
PDF, PNG, JPEG = b"%PDF-1.7\n...", b"\x89PNG\r\n\x1a\n....", b"\xff\xd8\xff\xe0...."


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_key_is_random_and_only_its_digest_is_compared():
    key = applicant.new_key()
    assert len(key) >= 43 and key != applicant.new_key()
    digest = applicant.key_digest(key)
    assert digest != key and len(digest) == 64
    assert applicant.key_matches(key, ["0" * 64, digest])
    assert not applicant.key_matches(key + "x", [digest])
    assert not applicant.key_matches(key, [])


def test_the_status_is_the_latest_step_whatever_the_order_they_arrived_in():
    steps = (Step("e3", "accepted", at(3), wave=4), Step("e1", "under_review", at(1), wave=4),
             Step("e2", "waitlisted", at(0)))
    standing = Standing(received_at=T0, steps=steps)
    assert standing.status == "accepted" and standing.wave == 4
    assert not standing.may_withdraw and not standing.may_answer
    assert [what for _, what, _ in standing.timeline()] == [
        "received", "waitlisted", "under_review", "accepted"]


def test_a_request_is_answered_once_and_a_new_request_opens_again():
    asked = Step("q1", "info_requested", at(2), text="Why?")
    standing = Standing(T0, (Step("r", "under_review", at(1), wave=4), asked))
    assert standing.may_answer and standing.request_to_answer() is asked
    answered = Standing(T0, standing.steps, (Answer("q1", "Because.", at(3)),))
    assert not answered.may_answer and answered.answered_latest_request
    with pytest.raises(applicant.NothingToAnswer):
        answered.request_to_answer()
    again = Standing(T0, (*answered.steps, Step("r2", "under_review", at(4), wave=4),
                          Step("q2", "info_requested", at(5), text="And?")), answered.answers)
    assert again.request_to_answer().event_id == "q2"


def test_a_pending_withdrawal_stops_answers_and_a_second_withdrawal():
    standing = Standing(T0, (Step("q", "info_requested", at(1), text="?"),),
                        withdrawal_requested_at=at(2))
    assert standing.withdrawal_pending and not standing.may_answer and not standing.may_withdraw
    with pytest.raises(applicant.CannotWithdraw):
        Standing(T0, (Step("d", "declined", at(1)),)).check_withdrawable()


@pytest.mark.parametrize(("name", "content", "kind"), [
    ("a.pdf", PDF, "application/pdf"), ("B.PNG", PNG, "image/png"),
    ("c.jpg", JPEG, "image/jpeg"), ("d.jpeg", JPEG, "image/jpeg"),
])
def test_a_file_is_recognised_by_its_content(name, content, kind):
    checked = applicant.check_file(Upload(name, content))
    assert checked.content_type == kind and checked.size == len(content)


@pytest.mark.parametrize(("name", "content", "message"), [
    ("a.pdf", PNG, "named like another kind"),
    ("a.png", PDF, "named like another kind"),
    ("a.exe", PDF, "named like another kind"),
    ("a.pdf", b"MZ\x90\x00", "is not a PDF, PNG or JPEG"),
    ("a.pdf", b"", "is empty"),
    ("a.pdf", PDF + b"0" * applicant.MAX_ATTACHMENT_BYTES, "larger than 5 MB"),
])
def test_a_file_is_refused_when_its_content_is_not_what_is_allowed(name, content, message):
    with pytest.raises(FieldProblem) as refused:
        applicant.check_file(Upload(name, content))
    assert message in str(refused.value)


def test_at_most_five_files_and_a_non_empty_answer():
    assert len(applicant.check_attachments([Upload("a.pdf", PDF)] * 5)) == 5
    with pytest.raises(FieldProblem):
        applicant.check_attachments([Upload("a.pdf", PDF)] * 6)
    with pytest.raises(FieldProblem):
        applicant.answer_text(" \n ")
    with pytest.raises(FieldProblem):
        applicant.answer_text("x" * (applicant.ANSWER_MAX + 1))
    assert applicant.answer_text("  Voici.\r\n\r\n\r\nMerci ") == "Voici.\n\nMerci"


def test_a_filename_loses_its_path_and_what_would_break_a_header():
    assert applicant.clean_filename("C:\\Users\\amina\\délibé\"ration.pdf") == "délibé_ration.pdf"
    assert applicant.clean_filename("../../etc/passwd\r\n.pdf") == "passwd.pdf"
    assert applicant.clean_filename("") == "attachment"
    long = applicant.clean_filename("a" * 400 + ".pdf")
    assert len(long) == applicant.FILENAME_MAX and long.endswith(".pdf")
