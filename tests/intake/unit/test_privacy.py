"""The privacy notice, and the links to it from the form and the applicant's page."""
from __future__ import annotations

import pytest

from services.intake import i18n, pages
from tests.intake.unit.test_pages import Page

LANGUAGES = ("en", "fr", "es")
CONTACT = "campaign@uclg.example"
SECTIONS = ("who-title", "what-title", "why-title", "how-long-title", "rights-title")


def _(language: str, message: str) -> str:
    return " ".join(i18n.gettext(language, message).split())


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_notice_says_what_is_kept_why_for_how_long_and_who_to_ask(language):
    page = Page(pages.privacy_page(language, CONTACT))
    assert page.one("html").attrs["lang"] == language
    assert page.one("h1").text == _(language, "Privacy notice")
    assert [page.one("h2", id=section).text for section in SECTIONS] == [
        _(language, text) for text in ("Who is responsible", "What is kept", "Why",
                                       "For how long",
                                       "Your rights: a copy, a correction, erasure")]
    text = page.one("main").text
    for rule in ("A member: while the government is a member of the campaign, and one year "
                 "after it leaves.",
                 "An application declined or withdrawn: one year after the decision or the "
                 "withdrawal.",
                 "The mails sent about the application and the membership: which message, to "
                 "which address, and when."):
        assert _(language, rule) in text
    mail_links = [e for e in page.find("a") if e.attrs.get("href") == f"mailto:{CONTACT}"]
    assert len(mail_links) == 2 and mail_links[0].text == CONTACT
    # The language links stay on the notice.
    others = [e.attrs["href"] for e in page.find("a") if e.attrs.get("hreflang")]
    assert others == [f"/privacy?lang={code}" for code in LANGUAGES if code != language]


def test_the_secretariats_address_is_escaped():
    html = pages.privacy_page("en", '"><script>x</script>@example.org')
    assert "<script>" not in html


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_form_links_the_notice_near_the_consent_and_in_its_footer(language):
    page = Page(pages.form_page(language))
    near_consent = page.one("p", id="consent-help")
    [link] = [e for e in page.all if e.tag == "a" and near_consent in e.ancestors()]
    assert link.attrs["href"] == f"/privacy?lang={language}"
    assert link.text == _(language, "the privacy notice")
    # A screen reader reads it with the consent box.
    assert page.one("input", id="consent").attrs["aria-describedby"] == "consent-help"
    footer = page.one("footer")
    assert [e.attrs["href"] for e in page.all if e.tag == "a" and footer in e.ancestors()] == [
        f"/privacy?lang={language}"]
