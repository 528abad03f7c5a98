"""The applicant's page in Chromium, as a person uses it: read the question, answer with a PDF,
withdraw with the confirmation step. Intake runs alone in its own process (``hrc run intake``);
the registry's steps are written to its projection by this test. Screenshots of the page in
en/fr/es at 1280 and 375 px wide go to ``HRC_SCREENSHOTS`` (if set) for a person to look at."""
from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.intake import applicant, casefile, submissions
from services.intake import db as intake_db
from services.intake.schemas import form_schema
from shared.events import new_event, typed
from tests.support import infra

EXAMPLE = json.loads((infra.PROJECT / "docs" / "example-application.json").read_text())
QUESTION = ("Merci de joindre la délibération du conseil municipal qui approuve l'adhésion "
            "à la campagne, signée par le maire.")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
WIDTHS = (1280, 375)


def _application_asked(database) -> tuple[str, str]:
    """An application under review in wave 4 with a question waiting; its reference and key."""
    receipt = submissions.receive(database, form_schema("fr").load(dict(EXAMPLE)))
    key = applicant.new_key()
    moment = datetime.now(UTC)
    with database.transaction() as session:
        intake_db.add_page_key(session, receipt.reference, applicant.key_digest(key),
                               moment.replace(tzinfo=None))
        for offset, (event_type, data) in enumerate([
            ("application.under_review", {"wave": 4}),
            ("application.info_requested", {"message": QUESTION}),
        ], start=1):
            casefile.follow(typed(new_event(event_type, {
                "application_id": 7, "reference": receipt.reference, **data,
            }, occurred_at=moment + timedelta(seconds=offset))), session)
    return receipt.reference, key


def _screenshots(browser, url: str, tmp_path) -> None:
    target = os.environ.get("HRC_SCREENSHOTS")
    for width in WIDTHS:
        page = browser.new_page(viewport={"width": width, "height": 900})
        for language in ("en", "fr", "es"):
            page.goto(f"{url}?lang={language}")
            assert page.locator("html").get_attribute("lang") == language
            # Nothing wider than the window: no sideways scrolling on a phone.
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            path = tmp_path / f"applicant-page-{language}-{width}.png"
            page.screenshot(path=str(path), full_page=True)
            if target:
                os.makedirs(target, exist_ok=True)
                shutil.copy(path, target)
        page.close()


@pytest.mark.browser
def test_an_applicant_answers_with_a_pdf_then_withdraws_in_chromium(browser, intake_process,
                                                                    tmp_path):
    base, database = intake_process
    reference, key = _application_asked(database)
    url = f"{base}/applications/{reference}/{key}"
    _screenshots(browser, url, tmp_path)

    document = tmp_path / "délibération.pdf"
    document.write_bytes(PDF)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20_000)  # a failure, not a hang
    page.goto(f"{url}?lang=en")
    assert QUESTION in page.locator("#status-text").inner_text()
    page.get_by_label("Your answer").fill("Here is the council's resolution, signed.")
    page.get_by_label("Documents (optional)").set_input_files(str(document))
    # Waiting for a navigation (expect_navigation, wait_for_url, click's own wait) hangs under
    # eventlet's monkey patch; waiting for what the next page shows does not.
    page.get_by_role("button", name="Send the answer").click(no_wait_after=True)
    page.wait_for_selector("#status-title >> text=Information sent")
    assert page.url == f"{url}?lang=en"
    assert page.locator("#status-title").inner_text().endswith("Information sent")
    assert "délibération.pdf" in page.locator(".timeline").inner_text()
    assert page.locator("form#answer").count() == 0

    page.get_by_role("link", name="Withdraw the application").click(no_wait_after=True)
    page.wait_for_selector("form#withdraw")
    page.get_by_label("Reason (optional)").fill("A new municipal council was elected.")
    page.get_by_role("button", name="Yes, withdraw the application").click(no_wait_after=True)
    page.wait_for_selector("#status-title >> text=Withdrawal requested")
    assert page.locator("#status-title").inner_text().endswith("Withdrawal requested")
    page.screenshot(path=str(tmp_path / "applicant-page-after.png"), full_page=True)
    if os.environ.get("HRC_SCREENSHOTS"):
        shutil.copy(tmp_path / "applicant-page-after.png", os.environ["HRC_SCREENSHOTS"])
    page.close()

    with database.transaction() as session:
        [stored] = session.scalars(select(intake_db.AttachmentRow)).all()
        withdrawals = session.scalar(select(func.count()).select_from(intake_db.WithdrawalRow))
        assert (stored.filename, stored.content) == ("délibération.pdf", PDF)
    assert withdrawals == 1
