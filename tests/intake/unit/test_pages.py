"""The pages in each language, read as a browser would (html.parser), not as substrings."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from html.parser import HTMLParser

import pytest

from services.intake import domain, i18n, pages, waves
from services.intake.waves import Wave
from shared.campaign import campaign_name
from shared.events import THEMES

LANGUAGES = ("en", "fr", "es")
VOID = {"meta", "input", "br", "link", "img", "hr"}
CONSENT = (
    "I consent to the UCLG Committee on Social Inclusion, Participatory Democracy and Human "
    "Rights processing the data in this form to review this application and to keep in touch "
    "about the campaign. The data is used for the campaign only, and the contact person can ask "
    "at any time for it to be erased."
)


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    parent: Element | None = None
    children: list[Element] = field(default_factory=list)
    content: list[Element | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        parts = [part if isinstance(part, str) else part.text for part in self.content]
        return " ".join(" ".join(parts).split())

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class Page(HTMLParser):
    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.current = self.root
        self.all: list[Element] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs), parent=self.current)
        self._add(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self._add(Element(tag, dict(attrs), parent=self.current))

    def _add(self, element):
        self.current.children.append(element)
        self.current.content.append(element)
        self.all.append(element)

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.content.append(data)

    def find(self, tag=None, **attrs) -> list[Element]:
        return [
            e for e in self.all
            if (tag is None or e.tag == tag)
            and all(e.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]

    def one(self, tag=None, **attrs) -> Element:
        found = self.find(tag, **attrs)
        assert len(found) == 1, (tag, attrs, len(found))
        return found[0]


def _(language: str, message: str) -> str:
    return i18n.gettext(language, message)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_form_page_is_in_its_language(language):
    page = Page(pages.form_page(language, csrf_token="token-1"))
    assert page.one("html").attrs["lang"] == language
    title = _(language, "Join the %(campaign)s") % {"campaign": campaign_name(language).campaign}
    assert page.one("h1").text == " ".join(title.split())  # the page's text folds spaces
    assert page.one("label", for_="country").text == _(language, "Country")
    assert page.one("button", class_="send").text == _(language, "Send the application")


WAVE_4 = Wave(4, {"en": "Fourth wave (2026)", "fr": "Quatrième vague (2026)",
                  "es": "Cuarta ola (2026)"},
              {"en": "Care", "fr": "Le soin", "es": "Los cuidados"},
              closes_at=datetime(2026, 12, 31))
WAVE_3 = Wave(3, {"en": "Third wave (2024)", "fr": "Troisième vague (2024)",
                  "es": "Tercera ola (2024)"},
              {"en": "Dignity for all", "fr": "La dignité pour tous", "es": "Dignidad"})


@pytest.mark.parametrize("language", LANGUAGES)
def test_with_no_wave_open_the_form_says_applications_go_to_the_waiting_list(language):
    page = Page(pages.form_page(language))
    wave = page.one("section", id="wave")
    assert page.one("h2", id="wave-title").text == _(language, "No wave is open at the moment")
    assert _(language, "You can apply now: your application goes to the waiting list, and the "
                       "secretariat considers it when the next wave of the campaign opens.") in (
        wave.text)
    assert "2024" not in wave.text
    intro = page.one("div", class_="intro")
    assert "2030" in intro.text and "120" in intro.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_form_names_the_open_wave_in_its_language(language):
    page = Page(pages.form_page(language, wave=WAVE_4, today=date(2026, 12, 1)))
    wave = page.one("section", id="wave")
    assert page.one("h2", id="wave-title").text == " ".join(
        (_(language, "Open now: %(name)s") % {"name": WAVE_4.named(language)}).split())
    assert WAVE_4.theme_in(language) in wave.text
    assert " 4" in wave.text and "2026" in wave.text  # reviewed in wave 4, closes 31 Dec 2026
    assert _(language, "No wave is open at the moment") not in wave.text
    assert _(language, waves.DESCRIPTIONS[3])[:30] not in wave.text


def test_a_closing_date_already_past_is_not_announced():
    page = Page(pages.form_page("en", wave=WAVE_4, today=date(2027, 1, 2)))
    assert "close" not in page.one("section", id="wave").text


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_campaigns_own_text_about_a_wave_is_shown_when_there_is_one(language):
    page = Page(pages.form_page(language, wave=WAVE_3))
    text = page.one("section", id="wave").text
    assert " ".join(_(language, waves.DESCRIPTIONS[3]).split()) in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_field_of_the_application_is_in_the_form_with_a_label(language):
    page = Page(pages.form_page(language))
    form = page.one("form", id="application")
    assert form.attrs["method"] == "post"
    assert form.attrs["action"] == f"/applications?lang={language}"
    names = {e.attrs.get("name") for e in page.all if e.tag in ("input", "select", "textarea")}
    assert set(domain.RULES) <= names
    for control in page.all:
        if control.tag not in ("input", "select", "textarea"):
            continue
        if control.attrs.get("type") == "hidden":
            continue
        labels = page.find("label", for_=control.attrs["id"])
        assert len(labels) == 1 and labels[0].text, control.attrs


@pytest.mark.parametrize("language", LANGUAGES)
def test_fields_are_grouped_in_fieldsets_with_legends(language):
    page = Page(pages.form_page(language))
    fieldsets = page.find("fieldset")
    assert len(fieldsets) >= 5
    for fieldset in fieldsets:
        legend = fieldset.children[0]
        assert legend.tag == "legend" and legend.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_themes_are_checkboxes_named_in_the_language(language):
    page = Page(pages.form_page(language, values={"themes": ["food", "peace"]}))
    boxes = page.find("input", name="themes")
    assert [b.attrs["value"] for b in boxes] == list(THEMES)
    assert all(b.attrs["type"] == "checkbox" for b in boxes)
    assert {b.attrs["value"] for b in boxes if "checked" in b.attrs} == {"food", "peace"}
    food = next(b for b in boxes if b.attrs["value"] == "food")
    assert page.one("label", for_=food.attrs["id"]).text == _(language, "Food")


@pytest.mark.parametrize(("language", "germany"), [("en", "Germany"), ("fr", "Allemagne"),
                                                   ("es", "Alemania")])
def test_countries_are_listed_by_name_in_the_language(language, germany):
    page = Page(pages.form_page(language, values={"country": "de"}))
    options = page.one("select", id="country").children
    assert options[0].attrs["value"] == ""
    assert len(options) == len(i18n.countries(language)) + 1
    chosen = [o for o in options if "selected" in o.attrs]
    assert [(o.attrs["value"], o.text) for o in chosen] == [("DE", germany)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_consent_sentence_is_there_in_full(language):
    page = Page(pages.form_page(language))
    consent = page.one("input", id="consent")
    assert consent.attrs["type"] == "checkbox" and "checked" not in consent.attrs
    sentence = page.one("label", for_="consent").text
    assert sentence == _(language, CONSENT)
    assert len(sentence) > 150


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_language_switcher_posts_the_typed_values_to_the_other_languages(language):
    page = Page(pages.form_page(language))
    nav = page.one("nav", class_="languages")
    switches = [e for e in page.all if e.tag == "button" and nav in e.ancestors()]
    assert {b.attrs["formaction"] for b in switches} == {
        f"/?lang={other}" for other in LANGUAGES if other != language
    }
    assert all("formnovalidate" in b.attrs for b in switches)
    form = page.one("form", id="application")
    assert all(form in b.ancestors() for b in switches)
    current = [e for e in nav.children if e.attrs.get("aria-current") == "true"]
    assert [e.attrs["lang"] for e in current] == [language]


def test_enter_sends_the_application_rather_than_switching_language():
    page = Page(pages.form_page("en"))
    buttons = [e for e in page.all if e.tag == "button"]
    first = buttons[0]
    assert "formaction" not in first.attrs and first.attrs.get("type") == "submit"


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_problem_in_the_summary_names_its_field_as_the_form_labels_it(language):
    required = _(language, "This field is required.")
    errors = {name: [required] for name in ("consent", "country", "themes", "government_name")}
    page = Page(pages.form_page(language, errors=errors))
    summary = page.one("div", class_="summary")
    assert summary.attrs["tabindex"] == "-1" and "autofocus" in summary.attrs
    links = [e for e in page.all if e.tag == "a" and summary in e.ancestors()]
    assert [a.attrs["href"] for a in links] == [
        "#government_name", "#country", "#themes", "#consent"]
    labels = [page.one("label", for_="government_name").text,
              page.one("label", for_="country").text,
              _(language, "Themes of your human rights work"), _(language, "Consent")]
    for link, label in zip(links, labels, strict=True):
        assert link.text == " ".join(
            (_(language, "%(field)s: %(problem)s") % {"field": label, "problem": required}).split())
    assert len({link.text for link in links}) == 4  # no longer the same words four times


def test_a_problem_with_no_field_of_its_own_is_listed_without_a_link():
    page = Page(pages.form_page("en", errors={"_schema": ["Send a form."]}))
    summary = page.one("div", class_="summary")
    assert "Send a form." in summary.text
    assert [e for e in page.all if e.tag == "a" and summary in e.ancestors()] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_invalid_form_comes_back_with_values_and_an_error_by_each_field(language):
    values = {
        "government_name": "G",
        "contact_email": "nobody",
        "commitment": "short <b>text</b>",
        "themes": ["gender"],
        "language": "es",
    }
    errors = {
        "contact_email": [_(language, "Enter an e-mail address like name@example.org.")],
        "government_name": [_(language, "Enter at least %(min)d characters.") % {"min": 2}],
        "commitment": ["too short"],
        "themes": ["pick"],
    }
    page = Page(pages.form_page(language, values=values, errors=errors))
    assert page.one("title").text.startswith(_(language, "Error:"))
    summary = page.one("div", class_="summary")
    links = [e for e in page.all if e.tag == "a" and summary in e.ancestors()]
    # In the order of the form, each linking to a field that exists.
    assert [a.attrs["href"] for a in links] == [
        "#government_name", "#contact_email", "#themes", "#commitment"
    ]
    for link in links:
        assert len(page.find(id=link.attrs["href"][1:])) == 1
    name = page.one("input", id="government_name")
    assert name.attrs["value"] == "G"
    assert name.attrs["aria-invalid"] == "true"
    assert "government_name-error" in name.attrs["aria-describedby"].split()
    assert page.one("p", id="government_name-error").text.endswith(errors["government_name"][0])
    assert page.one("textarea", id="commitment").text == "short <b>text</b>"
    assert page.find("b") == []
    assert [o.attrs["value"] for o in page.one("select", id="language").children
            if "selected" in o.attrs] == ["es"]
    assert "aria-invalid" not in page.one("input", id="authority_name").attrs


def test_the_mail_language_defaults_to_the_page_language():
    page = Page(pages.form_page("fr"))
    assert [o.attrs["value"] for o in page.one("select", id="language").children
            if "selected" in o.attrs] == ["fr"]


def test_the_honeypot_is_hidden_from_people_and_the_csrf_token_is_carried():
    page = Page(pages.form_page("en", csrf_token="abc.def"))
    trap = page.one("input", name=domain.HONEYPOT_FIELD)
    assert trap.attrs["tabindex"] == "-1" and trap.attrs["value"] == ""
    assert any(a.attrs.get("aria-hidden") == "true" for a in trap.ancestors())
    assert page.one("input", name="csrf_token").attrs == {
        "type": "hidden", "name": "csrf_token", "value": "abc.def"
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_pages_use_nothing_from_outside(language):
    for html in (pages.form_page(language), pages.thanks_page(language, "HRC-2026-7KQ4M")):
        page = Page(html)
        assert page.find("link") == [] and page.find("script") == [] and page.find("img") == []
        assert page.one("meta", name="viewport")
        assert page.one("style")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_thank_you_page_shows_the_reference(language):
    page = Page(pages.thanks_page(language, "HRC-2026-7KQ4M"))
    assert page.one("html").attrs["lang"] == language
    assert page.one("h1").text == _(language, "Thank you: your application has been received")
    assert page.one("p", id="reference").text == "HRC-2026-7KQ4M"
    links = {a.attrs["href"] for a in page.find("a")}
    others = {f"/applications/HRC-2026-7KQ4M?lang={o}" for o in LANGUAGES if o != language}
    assert others <= links


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_refusal_page_is_translated(language):
    page = Page(pages.problem_page(language, "Country", "This field is required."))
    assert page.one("h1").text == _(language, "Country")
    assert page.one("title").text.startswith(_(language, "Country"))


DESCRIBED = Wave(3, WAVE_3.name, WAVE_3.theme,
                 texts={"fr": "La troisième vague.\n\nElle invite   les gouvernements.",
                        "es": "La <b>tercera</b> ola."})


def test_the_registry_s_description_is_shown_in_the_page_s_language_as_paragraphs():
    page = Page(pages.form_page("fr", wave=DESCRIBED))
    wave = page.one("section", id="wave")
    paragraphs = [p.text for p in page.find("p") if wave in p.ancestors()]
    assert "La troisième vague." in paragraphs
    assert "Elle invite les gouvernements." in paragraphs
    assert " ".join(_("fr", waves.DESCRIPTIONS[3]).split())[:30] not in " ".join(paragraphs)
    spanish = pages.form_page("es", wave=DESCRIBED)
    assert "La &lt;b&gt;tercera&lt;/b&gt; ola." in spanish  # text, never markup


def test_without_a_description_in_the_page_s_language_the_campaign_s_text_or_nothing():
    english = Page(pages.form_page("en", wave=DESCRIBED)).one("section", id="wave").text
    assert "troisième" not in english
    assert " ".join(waves.DESCRIPTIONS[3].split())[:40] in " ".join(english.split())
    fourth = Wave(4, WAVE_4.name, WAVE_4.theme, texts={"fr": "La quatrième vague."})
    assert "quatrième vague." not in Page(pages.form_page("es", wave=fourth)).one(
        "section", id="wave").text
