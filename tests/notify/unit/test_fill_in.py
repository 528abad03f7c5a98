"""An announcement is rendered once per template, language and shared context, and each
recipient's values are filled in: every mail is the one a rendering of its own would give."""
import pytest

from services.notify.mail import TRANSLATIONS_DIR, Renderer
from shared.events import LANGUAGES

PEOPLE = [
    {"recipient_name": "Zoé Martin", "government_name": "Ville de Grigny"},
    {"recipient_name": 'Ana "Ani" <b>Ruiz</b> & co', "government_name": "Saint-Denis & <Co>"},
    {"recipient_name": "", "government_name": "Rosario %(name)s {{ x }}"},
    {"recipient_name": "Kim", "government_name": ""},
]


def context(audience: str, person: dict, link: str) -> dict:
    return {"audience": audience, "wave": 3, "wave_name": "Vague 3", "wave_theme": "Dignité",
            "opens_at": "2026-11-24", "closes_at": "2027-03-31", **person,
            "links": {"intake": "https://apply.example", "registry": "https://api.example",
                      "console": "https://console.example",
                      "privacy": "https://apply.example/privacy"},
            "secretariat": "staff@uclg.example", "unsubscribe_url": link}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_filled_in_announcement_is_the_one_rendered_for_its_recipient(language):
    renderer = Renderer()
    mails = 0
    for audience in ("member", "waitlisted"):
        for number, person in enumerate(PEOPLE * 6):
            link = f"https://notify.example/unsubscribe/{number}.s&ig=x" if number % 3 else ""
            values = context(audience, person, link)
            assert renderer.render_filled("wave_opened", language, values) == renderer.render(
                "wave_opened", language, values)
            mails += 1
    # Rendered once per kind (audience, and which values were there to fill in), not per mail.
    assert len(renderer._filled) <= 2 * 2 ** 3 < mails / 2


def test_a_template_that_does_more_than_print_a_value_is_rendered_for_each_recipient(tmp_path):
    (tmp_path / "mail").mkdir()
    for suffix in ("subject.txt", "txt", "html"):
        (tmp_path / "mail" / f"shout.{suffix}").write_text(
            "{{ government_name|upper }} {{ recipient_name[:3] }}")
    renderer = Renderer(tmp_path, TRANSLATIONS_DIR)
    first = renderer.render_filled("shout", "en", {"government_name": "Grigny",
                                                   "recipient_name": "Zoé"})
    second = renderer.render_filled("shout", "en", {"government_name": "Dakar",
                                                    "recipient_name": "Awa"})
    assert (first.text, second.text) == ("GRIGNY Zoé\n", "DAKAR Awa\n")
