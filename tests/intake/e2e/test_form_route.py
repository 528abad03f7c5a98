"""The HTML form through the real entrypoints, read with html.parser (SQLite, in-memory broker)."""
from __future__ import annotations

import requests
from sqlalchemy import select

from services.intake import db as intake_db
from services.intake import domain, i18n
from services.intake.web import BROWSER_COOKIE
from tests.intake.conftest import as_form, example
from tests.intake.unit.test_pages import Page


def test_the_form_page_is_served_in_the_requested_language(intake):
    for params, headers, expected in [
        ({"lang": "es"}, {"Accept-Language": "fr"}, "es"),
        ({}, {"Accept-Language": "fr-BE,fr;q=0.9"}, "fr"),
        ({}, {"Accept-Language": "de"}, "en"),
    ]:
        response = requests.get(f"{intake.url}/", params=params, headers=headers, timeout=10)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/html")
        assert response.headers["Content-Language"] == expected
        page = Page(response.text)
        assert page.one("html").attrs["lang"] == expected
        assert page.one("label", for_="country").text == i18n.gettext(expected, "Country")


def test_the_form_page_sets_the_browser_cookie_and_a_matching_token(intake):
    browser = intake.browser()
    token = intake.form_token(browser)
    assert browser.cookies.get(BROWSER_COOKIE)
    assert token == intake.form_token(browser)  # the same browser keeps its token


def test_a_form_post_is_stored_and_redirected_to_the_thank_you_page(intake):
    browser = intake.browser()
    token = intake.form_token(browser, "fr")
    response = intake.post_form(browser, [*as_form(example()), ("csrf_token", token),
                                          (domain.HONEYPOT_FIELD, "")], "fr")
    assert response.status_code == 303
    [submission] = intake.submissions()
    location = response.headers["Location"]
    assert location == f"/applications/{submission.reference}?lang=fr"
    assert submission.payload["themes"] == example()["themes"]
    assert submission.payload["population"] == 28000
    thanks = browser.get(intake.url + location, timeout=10)
    assert thanks.status_code == 200
    page = Page(thanks.text)
    assert page.one("p", id="reference").text == submission.reference
    assert page.one("html").attrs["lang"] == "fr"
    assert len(intake.outbox()) == 1


def test_a_double_click_makes_one_submission(intake):
    browser = intake.browser()
    fields = [*as_form(example()), ("csrf_token", intake.form_token(browser))]
    first = intake.post_form(browser, fields)
    second = intake.post_form(browser, fields)
    assert first.headers["Location"] == second.headers["Location"]
    assert len(intake.submissions()) == 1 and len(intake.outbox()) == 1


def test_an_invalid_form_comes_back_422_with_values_and_errors_in_its_language(intake):
    browser = intake.browser()
    fields = [*as_form(example(population="beaucoup", contact_email="amina@", themes=[])),
              ("csrf_token", intake.form_token(browser, "fr"))]
    response = intake.post_form(browser, fields, "fr")
    assert response.status_code == 422
    page = Page(response.text)
    assert page.one("html").attrs["lang"] == "fr"
    summary = page.one("div", class_="summary")
    hrefs = [a.attrs["href"] for a in page.all if a.tag == "a" and summary in a.ancestors()]
    assert hrefs == ["#population", "#contact_email", "#themes"]
    assert page.one("p", id="population-error").text.endswith(
        "Saisissez un nombre entier, par exemple 25000.")
    assert page.one("input", id="population").attrs["value"] == "beaucoup"
    assert page.one("input", id="government_name").attrs["value"] == "Ville de Grigny"
    assert page.one("textarea", id="commitment").text == example()["commitment"]
    assert "checked" in page.one("input", id="consent").attrs
    assert intake.submissions() == []


def test_a_form_post_without_the_browser_cookie_or_token_is_refused(intake):
    browser = intake.browser()
    token = intake.form_token(browser)
    stranger = requests.Session()  # another site's page posting in the user's name: no cookie
    refused = intake.post_form(stranger, [*as_form(example()), ("csrf_token", token)])
    assert refused.status_code == 403
    page = Page(refused.text)
    assert page.one("div", class_="summary").text
    assert page.one("input", id="government_name").attrs["value"] == "Ville de Grigny"
    forged = intake.post_form(browser, [*as_form(example()), ("csrf_token", "0" * 64)])
    assert forged.status_code == 403
    missing = intake.post_form(browser, as_form(example()))
    assert missing.status_code == 403
    assert intake.submissions() == []
    # The refused page carries a fresh token: sending it again works.
    retry_token = Page(refused.text).one("input", name="csrf_token").attrs["value"]
    again = intake.post_form(stranger, [*as_form(example()), ("csrf_token", retry_token)])
    assert again.status_code == 303


def test_replicas_accept_each_others_tokens(make_intake, sqlite_url):
    one = make_intake()
    two = make_intake(sqlite_url)
    browser = one.browser()
    token = one.form_token(browser)
    response = two.post_form(browser, [*as_form(example()), ("csrf_token", token)])
    assert response.status_code == 303


def test_intake_secret_from_the_environment_is_used(make_intake, sqlite_url, tmp_path):
    one = make_intake(INTAKE_SECRET="from-the-environment")
    browser = one.browser()
    token = one.form_token(browser)
    other_db = make_intake(f"sqlite:///{tmp_path}/other.db", INTAKE_SECRET="from-the-environment")
    assert other_db.post_form(browser, [*as_form(example()), ("csrf_token", token)]
                              ).status_code == 303
    with one.database.transaction() as session:
        assert session.scalar(select(intake_db.Setting.value)) is None


def test_a_filled_honeypot_is_redirected_as_usual_and_dropped(intake):
    browser = intake.browser()
    fields = [*as_form(example()), ("csrf_token", intake.form_token(browser)),
              (domain.HONEYPOT_FIELD, "http://spam.example")]
    response = intake.post_form(browser, fields)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/applications/HRC-")
    assert intake.submissions() == [] and intake.outbox() == []


def test_switching_language_keeps_what_was_typed(intake):
    browser = intake.browser()
    fields = [*as_form(example(population="12 000", themes=["food", "peace"])),
              ("csrf_token", intake.form_token(browser, "en"))]
    response = browser.post(f"{intake.url}/?lang=es", data=fields, timeout=10)
    assert response.status_code == 200
    page = Page(response.text)
    assert page.one("html").attrs["lang"] == "es"
    assert page.one("input", id="population").attrs["value"] == "12 000"
    assert {b.attrs["value"] for b in page.find("input", name="themes") if "checked" in b.attrs
            } == {"food", "peace"}
    assert page.find("div", class_="summary") == []
    assert intake.submissions() == []


def test_a_form_over_64_kib_is_refused_with_413(intake):
    browser = intake.browser()
    fields = [*as_form(example(frameworks="x" * (65 * 1024))),
              ("csrf_token", intake.form_token(browser))]
    response = intake.post_form(browser, fields)
    assert response.status_code == 413
    assert Page(response.text).one("h1").text == "The form is too large"
    assert intake.submissions() == []


def test_the_rate_limit_on_form_posts_is_a_page_with_retry_after(make_intake):
    intake = make_intake(INTAKE_RATE_LIMIT="1/minute")
    browser = intake.browser()
    token = intake.form_token(browser, "es")
    assert intake.post_form(browser, [*as_form(example()), ("csrf_token", token)],
                            "es").status_code == 303
    refused = intake.post_form(browser, [*as_form(example(population=2)), ("csrf_token", token)],
                               "es")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert Page(refused.text).one("h1").text == "Demasiados intentos"


def test_the_thank_you_page_of_an_unknown_reference_is_404(intake):
    for reference in ("HRC-2026-ZZZZZ", "nothing", "HRC-2026-7KQ4U"):
        response = requests.get(f"{intake.url}/applications/{reference}", timeout=10)
        assert response.status_code == 404
        assert Page(response.text).one("h1").text == "Application not found"


def test_the_thank_you_page_reads_the_reference_as_typed(intake):
    reference = intake.post_json(example()).json()["reference"]
    typed = reference.lower().replace("-", " ")
    response = requests.get(f"{intake.url}/applications/{typed}?lang=es", timeout=10)
    assert response.status_code == 200
    assert Page(response.text).one("p", id="reference").text == reference


def test_pages_forbid_outside_resources_and_framing(intake):
    response = requests.get(f"{intake.url}/", timeout=10)
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["Cache-Control"] == "no-store"
