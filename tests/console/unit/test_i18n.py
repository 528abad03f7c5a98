"""Every message of the console's pages and rules is translated in French and Spanish."""
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from services.console import i18n

CONSOLE = Path(i18n.__file__).parent
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")


def _msgids() -> set:
    found = set()
    for method, pattern in (("python", "**.py"), ("jinja2", "**/templates/**.html")):
        for _, _, message, _, _ in extract_from_dir(
                CONSOLE, method_map=[(pattern, method)], keywords={"_": None, "N_": None,
                                                                   "gettext": None,
                                                                   "ngettext": (1, 2)},
                options_map={pattern: {"trimmed": "true"}}):
            found.add(message)
    return found


@pytest.mark.parametrize("language", ["fr", "es"])
def test_every_message_is_translated(language):
    msgids = _msgids()
    assert len(msgids) > 200
    with (CONSOLE / "translations" / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po)
    for msgid in msgids:
        entry = catalog.get(msgid)
        assert entry is not None and entry.string and not entry.fuzzy, f"{language}: {msgid!r}"
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        for string in strings:
            assert sorted(PLACEHOLDER.findall(string)) == sorted(PLACEHOLDER.findall(ids[-1]))


def test_codes_are_named_in_each_language():
    assert i18n.translations("fr").gettext(i18n.STATUSES["under_review"]) == "En examen"
    assert i18n.translations("es").gettext(i18n.THEMES["housing"]) == "Vivienda"
    assert i18n.country_name("AR", "fr") == "Argentine"
    assert i18n.translations("fr").gettext(i18n.action("review_in_wave_4")).startswith("l’a")


def test_every_mail_notify_sends_is_named_not_coded():
    # The timeline showed mail “info_provided”: notify's template names are codes, not words.
    from services.notify import domain as notify
    from services.notify.mail import TEMPLATES_DIR

    sent = {value for name, value in vars(notify).items() if name.isupper()
            and isinstance(value, str) and (TEMPLATES_DIR / "mail" / f"{value}.html").exists()}
    assert len(sent) > 10
    assert sent <= set(i18n.MAILS)


def test_every_step_of_an_application_is_named_and_so_is_the_applicant():
    # The timeline read "applicant info_provided": the registry's codes for who and what.
    from services.registry import actions
    from services.registry import domain as registry

    audited = set(registry._APPLICATION_STEPS) - {"waitlist", "review"} | {"erase",
                                                                          "info_provided"}
    assert {name for name in audited if i18n.action(name) == name} == set()
    fr = i18n.translations("fr").gettext
    assert fr(i18n.ACTORS[actions.APPLICANT]) == "la candidate ou le candidat"
    assert fr(i18n.action("info_provided")) == "a envoyé les informations demandées"


def test_the_scheduled_digest_is_named_as_reports_names_it():
    from services.reports.domain.digest import DIGEST

    assert i18n.translations("es").gettext(i18n.DIGESTS[DIGEST]) == "resumen programado"


def test_french_puts_its_space_before_the_colon_of_a_duplicate():
    fr = i18n.translations("fr").gettext
    assert fr("Resembles: %(government)s") % {"government": "Grigny"} == "Ressemble à : Grigny"
    # the timeline's "mail “welcome” to …: sent" and "admin accepted: Accepted"
    assert fr("%(what)s: %(outcome)s") % {"what": "a", "outcome": "b"} == "a : b"
    assert fr("the applicant answered:").endswith(" :")


@pytest.mark.parametrize(("language", "word"), [("fr", "Peu importe"), ("es", "Cualquiera")])
def test_a_filter_s_blank_choice_agrees_with_every_field(language, word):
    # "Tous" sat under Région and Vague (feminine): the blank choice of every filter needs a word
    # without gender.
    assert i18n.translations(language).gettext("Any") == word


def test_every_problem_the_registry_s_import_names_is_said_in_the_reader_s_language():
    # The upload page's report spoke French around the registry's English ("there is no wave 9").
    import inspect

    from services.registry import member_csv

    source = inspect.getsource(member_csv)
    said = re.findall(r'raise ValueError\(f?"([^"]+)"\)', source)
    said += re.findall(r'errors\["[a-z_]+"\] = \["([^"]+)"\]', source)
    said.append(re.search(r'f"(the same government as line [^"]+)"', source).group(1))
    assert len(said) >= 15
    fr = i18n.translations("fr").gettext
    samples = {"{value!r}": "'XX'", "{value}": "9",
               "{', '.join(JURISDICTION_TYPES)}": "region, other",
               "{', '.join(LANGUAGES)}": "en, fr, es", "{first_line_of[row.key]}": "4"}
    for text in said:
        for placeholder, value in samples.items():
            text = text.replace(placeholder, value)
        assert i18n.import_problem(text, fr) != text, text
    french = "« XX » n’est pas un code de pays"
    assert i18n.import_problem("'XX' is not a country code", fr) == french
    assert i18n.import_problem("something new", fr) == "something new"
