"""The form in Chromium, as a person meets it: which wave it is in (none open, then wave 4), an
empty form sent (the summary names each field and takes the focus, without any script), in
en/fr/es at 1280 and 375 px wide. With ``HRC_SCREENSHOTS`` set, screenshots go there."""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from services.intake import db as intake_db
from services.intake import i18n, pages

WIDTHS = (1280, 375)
LANGUAGES = ("en", "fr", "es")
WAVE_4 = {"en": "Fourth wave (2026)", "fr": "Quatrième vague (2026)", "es": "Cuarta ola (2026)"}
THEME_4 = {"en": "Care policies and local public services",
           "fr": "Politiques du soin et services publics locaux",
           "es": "Políticas de cuidados y servicios públicos locales"}
# The fields a person must fill, as the summary of an empty form lists them.
REQUIRED = ("government_name", "country", "jurisdiction_type", "population", "authority_name",
            "authority_title", "contact_name", "contact_position", "contact_email", "themes",
            "commitment", "consent")

pytestmark = pytest.mark.browser


def _(language: str, message: str) -> str:
    return i18n.gettext(language, message)


def _look(page, name: str, width: int) -> None:
    # Nothing wider than the window: no sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= width, name
    target = os.environ.get("HRC_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / f"{name}-{width}.png"), full_page=True)


def _send_empty(page) -> None:
    # Waiting for a navigation hangs under eventlet's monkey patch; waiting for what the next
    # page shows does not.
    page.locator("button.send").click(no_wait_after=True)
    page.wait_for_selector("#error-summary")


def test_an_empty_form_gets_a_summary_that_names_each_field_and_has_the_focus(
        browser, intake_process):
    base, _database = intake_process
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20_000)  # a failure, not a hang
    for language in LANGUAGES:
        page.goto(f"{base}/?lang={language}")
        _send_empty(page)
        assert page.locator("html").get_attribute("lang") == language
        # autofocus, not a script: the page's policy runs none.
        page.wait_for_function("document.activeElement && "
                               "document.activeElement.id === 'error-summary'")
        links = page.locator("#error-summary li a")
        hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
        assert hrefs == [f"#{name}" for name in REQUIRED]
        texts = [" ".join(links.nth(i).inner_text().split()) for i in range(links.count())]
        for name, text in zip(REQUIRED, texts, strict=True):
            label = " ".join(_(language, pages.SUMMARY_LABELS[name]).split())
            assert text.startswith(label), (name, text)
        assert len(set(texts)) == len(texts)
        # Each link takes the keyboard to its field.
        links.nth(1).click()
        assert page.evaluate("document.activeElement.id") == "country"
    page.close()


def test_the_form_says_which_wave_is_open_in_every_language_and_width(browser, intake_process):
    base, database = intake_process
    page = browser.new_page()
    page.set_default_timeout(20_000)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for language in LANGUAGES:
            page.goto(f"{base}/?lang={language}")
            assert page.locator("#wave-title").inner_text() == _(
                language, "No wave is open at the moment")
            _look(page, f"form-no-wave-{language}", width)
            _send_empty(page)
            _look(page, f"form-errors-{language}", width)

    with database.transaction() as session:
        intake_db.wave_opened(session, 4, WAVE_4, THEME_4, datetime(2026, 12, 31, 23, 59),
                              datetime(2026, 3, 1, 9, 0))
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for language in LANGUAGES:
            page.goto(f"{base}/?lang={language}")
            assert WAVE_4[language] in page.locator("#wave-title").inner_text()
            assert THEME_4[language] in page.locator("#wave").inner_text()
            _look(page, f"form-wave-4-{language}", width)
    page.close()


def test_the_privacy_notice_is_one_click_from_the_form_in_its_language(browser, intake_process):
    base, _database = intake_process
    page = browser.new_page()
    page.set_default_timeout(20_000)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for language in LANGUAGES:
            page.goto(f"{base}/?lang={language}")
            page.locator("#consent-help a").click(no_wait_after=True)
            page.wait_for_selector("#rights-title")
            assert page.locator("html").get_attribute("lang") == language
            assert page.locator("h1").inner_text() == _(language, "Privacy notice")
            assert "campaign@uclg.example" in page.locator("#rights-title + p + p").inner_text()
            _look(page, f"privacy-{language}", width)
    page.close()
