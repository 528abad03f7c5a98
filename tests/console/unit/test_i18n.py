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
