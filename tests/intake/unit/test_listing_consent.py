"""listing_consent: an optional box, never ticked by default, carried on application.received."""
import pytest
from werkzeug.datastructures import MultiDict

from services.intake import i18n, pages
from services.intake.schemas import form_payload, form_schema
from shared.events import new_event
from tests.intake.unit.test_pages import LANGUAGES, Page
from tests.intake.unit.test_schemas import VALID

RECEIVED = {"reference": "HRC-2026-7KQ4M", "submitted_at": "2026-05-01T12:00:00+00:00"}


def test_left_out_it_is_no():
    application = form_schema("en").load({k: v for k, v in VALID.items()
                                          if k != "listing_consent"})
    assert application["listing_consent"] is False
    event = new_event("application.received", {**application, **RECEIVED})
    assert event.data["listing_consent"] is False


@pytest.mark.parametrize("given, listed", [(True, True), ("yes", True), ("on", True),
                                           (False, False), ("no", False), ("", False)])
def test_a_ticked_box_or_true_gives_it(given, listed):
    application = form_schema("en").load({**VALID, "listing_consent": given})
    assert application["listing_consent"] is listed
    assert new_event("application.received",
                     {**application, **RECEIVED}).data["listing_consent"] is listed


def test_a_form_post_carries_the_ticked_box():
    post = MultiDict([(k, v) for k, v in VALID.items() if k not in ("themes", "consent")]
                     + [("themes", "peace"), ("consent", "yes"), ("listing_consent", "yes")])
    assert form_schema("en").load(form_payload(post))["listing_consent"] is True


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_box_is_in_the_form_unticked_and_explained_in_the_language(language):
    page = Page(pages.form_page(language))
    box = page.one("input", id="listing_consent")
    assert box.attrs["type"] == "checkbox"
    assert "checked" not in box.attrs and "required" not in box.attrs
    english = Page(pages.form_page("en")).one("label", for_="listing_consent").text
    sentence = page.one("label", for_="listing_consent").text
    assert sentence == i18n.gettext(language, english)
    assert (sentence != english) == (language != "en")
    assert {"en": "directory", "fr": "annuaire", "es": "directorio"}[language] in sentence


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_form_shown_again_keeps_the_tick(language):
    page = Page(pages.form_page(language, values={"listing_consent": "yes"}))
    assert "checked" in page.one("input", id="listing_consent").attrs

