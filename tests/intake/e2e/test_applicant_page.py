"""The applicant's page through intake's real entrypoints (SQLite, in-memory broker): the key,
the status from the registry's events, answers with attachments, withdrawal, the lost link,
the staff download, erasure. The registry's events are fed to intake's own handlers."""
from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import func, select

from services.intake import db as intake_db
from services.intake.handlers import handlers
from services.intake.web import BROWSER_COOKIE
from shared.events import new_event
from tests.intake.conftest import CSRF, as_form, example

STAFF_TOKEN = "s3cret-staff-token"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
QUESTION = "Merci de joindre la délibération du conseil municipal."


@pytest.fixture
def intake(make_intake):
    return make_intake(STAFF_API_TOKENS=f"secretariat:{STAFF_TOKEN}",
                       INTAKE_URL="http://intake.example", INTAKE_LINK_RATE_LIMIT="3/hour")


class Applicant:
    """One application and the browser of its applicant."""

    def __init__(self, intake, **changes):
        self.intake = intake
        response = intake.post_json(example(**changes))
        assert response.status_code == 202, response.text
        self.reference = response.json()["reference"]
        [row] = [r for r in intake.outbox() if r.type == "application.received"
                 and r.payload["data"]["reference"] == self.reference]
        self.page_url = row.payload["data"]["page_url"]
        self.path = self.page_url.removeprefix("http://intake.example")
        self.browser = requests.Session()
        self.clock = datetime.now(UTC)

    @property
    def url(self) -> str:
        return self.intake.url + self.path

    def page(self, **params) -> requests.Response:
        return self.browser.get(self.url, params=params, timeout=10)

    def token(self) -> str:
        """The CSRF token of this browser (any of intake's forms shows it)."""
        self.page()
        return CSRF.search(self.browser.get(f"{self.intake.url}/lost-link", timeout=10).text
                           ).group(1)

    def step(self, event_type: str, **data) -> None:
        """A registry event about this application, through intake's handler for it."""
        self.clock += timedelta(seconds=1)
        event = new_event(event_type, {"application_id": 7, "reference": self.reference, **data},
                          occurred_at=self.clock)
        with self.intake.database.transaction() as session:
            handlers({})[event_type](event, session)

    def ask(self, question: str = QUESTION) -> None:
        self.step("application.under_review", wave=3)
        self.step("application.info_requested", message=question)

    def answer(self, message="Voici la délibération.", files=(), token=None, **kwargs):
        parts = [("attachments", (name, content, kind)) for name, content, kind in files]
        return self.browser.post(
            f"{self.url}/answer", data={"message": message, "csrf_token": token or self.token()},
            files=parts or None, allow_redirects=False, timeout=30, **kwargs)

    def withdraw(self, reason="", **fields):
        data = {"reason": reason, "csrf_token": self.token(), "confirm": "yes", **fields}
        return self.browser.post(f"{self.url}/withdraw", data=data, allow_redirects=False,
                                 timeout=10)


def _events(intake, event_type):
    return [r.payload["data"] for r in intake.outbox() if r.type == event_type]


def _count(intake, model) -> int:
    with intake.database.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_the_key_opens_the_page_in_the_applicants_language_and_only_its_digest_is_stored(intake):
    applicant = Applicant(intake)
    key = applicant.path.rsplit("/", 1)[1]
    assert applicant.page_url.startswith(f"http://intake.example/applications/"
                                         f"{applicant.reference}/")
    page = applicant.page()
    assert page.status_code == 200
    assert page.headers["Content-Language"] == "fr"  # the language chosen in the form
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "Reçue" in page.text and "Ville de Grigny" in page.text
    assert applicant.page(lang="es").headers["Content-Language"] == "es"
    with intake.database.transaction() as session:
        [stored] = session.scalars(select(intake_db.PageKey)).all()
        submission = intake_db.submission(session, applicant.reference)
    assert stored.digest == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(submission.payload)


def test_a_wrong_key_is_the_same_404_as_an_unknown_reference(intake):
    first, second = Applicant(intake), Applicant(intake, government_name="Ville de Vienne")
    other_key = second.path.rsplit("/", 1)[1]
    wrong = requests.get(f"{intake.url}/applications/{first.reference}/{other_key}", timeout=10)
    unknown = requests.get(f"{intake.url}/applications/HRC-2026-ZZZZZ/{other_key}", timeout=10)
    garbled = requests.get(f"{intake.url}/applications/{first.reference}/x", timeout=10)
    assert wrong.status_code == unknown.status_code == garbled.status_code == 404
    assert wrong.text == unknown.text == garbled.text


def test_the_status_follows_the_registry_in_plain_words(intake):
    applicant = Applicant(intake)
    applicant.step("application.waitlisted")
    assert "En liste d’attente" in applicant.page().text
    applicant.step("application.under_review", wave=3)
    assert "En cours d’examen dans la vague 3" in applicant.page().text
    applicant.step("application.info_requested", message=QUESTION)
    page = applicant.page(lang="en").text
    assert "Information requested" in page and QUESTION in page and 'id="answer"' in page
    applicant.step("application.under_review", wave=3)
    applicant.step("application.declined", reason="Le formulaire n'est pas signé.")
    page = applicant.page(lang="en").text
    assert "Declined" in page and "Le formulaire n&#39;est pas signé." in page
    assert 'id="answer"' not in page and "/withdraw" not in page
    assert page.count('class="when"') == 6  # received + five steps


def test_events_out_of_order_still_give_the_latest_status(intake):
    applicant = Applicant(intake)
    later = datetime.now(UTC) + timedelta(minutes=5)
    accepted = new_event("application.accepted", {"application_id": 7, "member_id": 3,
                                                  "reference": applicant.reference, "wave": 3},
                         occurred_at=later)
    review = new_event("application.under_review", {"application_id": 7, "wave": 3,
                                                    "reference": applicant.reference},
                       occurred_at=later - timedelta(minutes=1))
    with intake.database.transaction() as session:
        handlers({})["application.accepted"](accepted, session)
        handlers({})["application.under_review"](review, session)
        handlers({})["application.under_review"](review, session)  # redelivered
    page = applicant.page(lang="en").text
    assert "Member since" in page and "wave 3" in page


def test_an_answer_with_a_pdf_is_stored_with_its_event_and_staff_download_it(intake):
    applicant = Applicant(intake)
    applicant.ask()
    token = applicant.token()
    response = applicant.answer(files=[("délibération.pdf", PDF, "application/pdf")],
                                token=token)
    assert response.status_code == 303, response.text
    assert response.headers["Location"] == f"{applicant.path}?lang=fr"
    [event] = _events(intake, "application.info_provided")
    [meta] = event["attachments"]
    assert event["reference"] == applicant.reference
    assert event["message"] == "Voici la délibération."
    assert meta["filename"] == "délibération.pdf" and meta["content_type"] == "application/pdf"
    assert meta["size"] == len(PDF) and meta["sha256"] == hashlib.sha256(PDF).hexdigest()
    page = applicant.page().text
    assert "Informations envoyées" in page and 'id="answer"' not in page
    assert "délibération.pdf" in page

    download = f"{intake.url}/api/attachments/{meta['id']}"
    assert requests.get(download, timeout=10).status_code == 401
    assert requests.get(download, headers={"Authorization": "Bearer wrong"},
                        timeout=10).status_code == 401
    got = requests.get(download, headers={"Authorization": f"Bearer {STAFF_TOKEN}"}, timeout=10)
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["Content-Type"] == "application/pdf"
    assert "attachment" in got.headers["Content-Disposition"]
    listed = requests.get(f"{intake.url}/api/applications/{applicant.reference}/answers",
                          headers={"Authorization": f"Bearer {STAFF_TOKEN}"}, timeout=10)
    assert listed.json()["items"][0]["attachments"][0]["sha256"] == meta["sha256"]

    again = applicant.answer(message="Encore", token=token)
    assert again.status_code == 409
    assert len(_events(intake, "application.info_provided")) == 1


@pytest.mark.parametrize(("files", "message", "expected"), [
    ([], "   ", "Écrivez votre réponse."),
    ([("scan.pdf", PNG, "application/pdf")], "Voici", "annonce un autre type de fichier"),
    ([("notes.pdf", b"just text", "application/pdf")], "Voici", "n’est pas un fichier PDF"),
    ([("vide.pdf", b"", "application/pdf")], "Voici", "est vide"),
    ([("big.pdf", PDF + b"0" * (5 * 1024 * 1024), "application/pdf")], "Voici", "dépasse 5 Mo"),
    ([(f"f{i}.png", PNG, "image/png") for i in range(6)], "Voici", "au plus 5 fichiers"),
])
def test_a_bad_answer_gets_a_clear_error_and_changes_nothing(intake, files, message, expected):
    applicant = Applicant(intake)
    applicant.ask()
    response = applicant.answer(message=message, files=files)
    assert response.status_code == 422
    assert expected in response.text
    assert 'class="summary"' in response.text
    assert _events(intake, "application.info_provided") == []
    assert _count(intake, intake_db.AnswerRow) == _count(intake, intake_db.AttachmentRow) == 0
    assert 'id="answer"' in applicant.page().text  # still waiting for the answer


def test_an_answer_with_no_question_is_a_409_and_without_the_token_a_403(intake):
    applicant = Applicant(intake)
    applicant.step("application.under_review", wave=3)
    assert applicant.answer().status_code == 409
    applicant.step("application.info_requested", message=QUESTION)
    assert applicant.answer(token="forged").status_code == 403
    assert _events(intake, "application.info_provided") == []


def test_five_images_of_up_to_5_mb_are_one_answer(intake):
    applicant = Applicant(intake)
    applicant.ask()
    big = b"\xff\xd8\xff\xe0" + b"1" * (5 * 1024 * 1024 - 4)
    files = [(f"photo{i}.jpg", big if i == 0 else PNG if i % 2 else big[:2000],
              "image/jpeg") for i in range(5)]
    files = [(name if content[:3] == b"\xff\xd8\xff" else name.replace(".jpg", ".png"),
              content, kind) for name, content, kind in files]
    assert applicant.answer(files=files).status_code == 303
    [event] = _events(intake, "application.info_provided")
    assert [a["content_type"] for a in event["attachments"]] == [
        "image/jpeg", "image/png", "image/jpeg", "image/png", "image/jpeg"]
    assert event["attachments"][0]["size"] == 5 * 1024 * 1024


def test_a_whole_answer_over_the_limit_is_a_413(intake):
    applicant = Applicant(intake)
    applicant.ask()
    token = applicant.token()
    body = b"x" * (26 * 1024 * 1024 + 1)
    response = applicant.browser.post(
        f"{applicant.url}/answer", data=body, timeout=30, allow_redirects=False,
        headers={"Content-Type": f"multipart/form-data; boundary=b{token[:8]}"})
    assert response.status_code == 413
    assert _events(intake, "application.info_provided") == []


def test_withdrawal_has_a_confirmation_step_and_a_replay_changes_nothing(intake):
    applicant = Applicant(intake)
    applicant.step("application.under_review", wave=3)
    confirmation = applicant.browser.get(f"{applicant.url}/withdraw", timeout=10)
    assert confirmation.status_code == 200 and "Retirer la candidature ?" in confirmation.text
    assert applicant.withdraw(confirm="").status_code == 403  # not confirmed
    assert _events(intake, "application.withdrawal_requested") == []
    first = applicant.withdraw(reason="Changement de mandature")
    assert first.status_code == 303
    replay = applicant.withdraw(reason="Changement de mandature")
    assert replay.status_code == 303
    assert _events(intake, "application.withdrawal_requested") == [
        {"reference": applicant.reference, "reason": "Changement de mandature"}]
    assert "Retrait demandé" in applicant.page().text
    applicant.step("application.withdrawn", reason="Changement de mandature")
    page = applicant.page().text
    assert "Retirée" in page and "/withdraw" not in page


def test_a_decided_application_cannot_be_withdrawn(intake):
    applicant = Applicant(intake)
    applicant.step("application.under_review", wave=3)
    token = applicant.token()
    applicant.step("application.declined", reason="Hors champ")
    response = applicant.browser.post(f"{applicant.url}/withdraw", timeout=10,
                                      data={"csrf_token": token, "confirm": "yes"},
                                      allow_redirects=False)
    assert response.status_code == 409
    assert _events(intake, "application.withdrawal_requested") == []


def _lost_link(intake, browser, reference, email, lang="en"):
    form = browser.get(f"{intake.url}/lost-link", params={"lang": lang}, timeout=10)
    token = CSRF.search(form.text).group(1)
    return browser.post(f"{intake.url}/lost-link", params={"lang": lang}, timeout=10,
                        data={"reference": reference, "contact_email": email,
                              "csrf_token": token})


def test_lost_link_mails_a_fresh_key_and_answers_the_same_whatever_the_pair(intake):
    applicant = Applicant(intake)
    browser = requests.Session()
    right = _lost_link(intake, browser, applicant.reference.lower(), "Amina.Diallo@example.org")
    wrong_mail = _lost_link(intake, browser, applicant.reference, "someone@example.org")
    unknown = _lost_link(intake, browser, "HRC-2026-ZZZZZ", "amina.diallo@example.org")
    assert right.status_code == wrong_mail.status_code == unknown.status_code == 200
    assert right.text == wrong_mail.text == unknown.text
    [event] = _events(intake, "application.link_requested")
    assert event["reference"] == applicant.reference
    fresh = event["page_url"].removeprefix("http://intake.example")
    assert fresh != applicant.path
    assert requests.get(intake.url + fresh, timeout=10).status_code == 200
    assert applicant.page().status_code == 200  # the old link keeps working
    limited = _lost_link(intake, browser, applicant.reference, "amina.diallo@example.org")
    assert limited.status_code == 429  # 3 an hour from one address
    assert len(_events(intake, "application.link_requested")) == 1


def test_lost_link_checks_what_was_typed(intake):
    browser = requests.Session()
    response = _lost_link(intake, browser, "not a reference", "not an address", lang="es")
    assert response.status_code == 422
    assert "Introduzca la referencia, por ejemplo HRC-2026-7KQ4M." in response.text
    assert 'id="contact_email-error"' in response.text
    assert _events(intake, "application.link_requested") == []


def test_erasure_removes_the_copy_the_projection_and_the_attachments(intake):
    member, applicant = Applicant(intake), Applicant(intake, government_name="Ville de Vienne")
    for person in (member, applicant):
        person.ask()
        assert person.answer(files=[("d.pdf", PDF, "application/pdf")]).status_code == 303
    with intake.database.transaction() as session:
        handlers({})["member.erased"](new_event("member.erased", {
            "member_id": 3, "references": [member.reference]}), session)
        handlers({})["application.erased"](new_event("application.erased", {
            "application_id": 8, "reference": applicant.reference}), session)
    for person in (member, applicant):
        assert person.page().status_code == 404
    for model in (intake_db.PageKey, intake_db.StepRow, intake_db.AnswerRow,
                  intake_db.AttachmentRow):
        assert _count(intake, model) == 0
    with intake.database.transaction() as session:
        payloads = [s.payload for s in session.scalars(select(intake_db.Submission))]
    assert payloads == [intake_db.ERASED, intake_db.ERASED]


def test_the_thank_you_redirect_still_works_and_points_to_the_lost_link(intake):
    browser = intake.browser()
    token = intake.form_token(browser, "es")
    response = intake.post_form(browser, [*as_form(example()), ("csrf_token", token)], "es")
    assert response.status_code == 303
    thanks = browser.get(intake.url + response.headers["Location"], timeout=10)
    assert thanks.status_code == 200 and "/lost-link?lang=es" in thanks.text
    assert browser.cookies.get(BROWSER_COOKIE)
    assert re.search(r"HRC-\d{4}-[0-9A-Z]{5}", thanks.text)
