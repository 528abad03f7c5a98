import re
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from services.notify import domain
from services.notify.domain import Contact, Notification
from services.notify.mail import (
    SUBJECT_LIMIT,
    TEMPLATES_DIR,
    TRANSLATIONS_DIR,
    InvalidRecipient,
    MailSettings,
    Renderer,
    compose,
    header_safe,
)
from shared.campaign import campaign_name
from shared.events import LANGUAGES
from tests.notify import samples

SETTINGS = MailSettings(
    mail_from="campaign@uclg.example",
    from_name="CGLU – Villes des droits humains",
    reply_to="secretariat@uclg.example",
    intake_url="https://join.uclg.example",
    registry_url="https://staff.uclg.example",
    console_url="https://console.uclg.example",
    privacy_urls={language: f"https://join.uclg.example/privacy?lang={language}"
                  for language in LANGUAGES},
)
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
RENDERER = Renderer()
UNRENDERED = re.compile(r"\{\{|\{%|%\}|\}\}|%\([a-z_]+\)s")


UNSUBSCRIBE = "https://mail.uclg.example/unsubscribe/7.AbCdEfGhIjKlMnOpQrStUvWxYz012345"


def parsed(notification: Notification):
    # Delivery passes the link for every mail; only an announcement may use it.
    raw = compose(notification, RENDERER, SETTINGS, NOW, UNSUBSCRIBE).as_bytes()
    return message_from_bytes(raw, policy=policy.default), raw


def parts(message):
    return (message.get_body(("plain",)).get_content(),
            message.get_body(("html",)).get_content())


ALL = [(lang, n) for lang in LANGUAGES for n in samples.every_notification(lang)]


@pytest.mark.parametrize(("language", "notification"), ALL,
                         ids=[f"{lang}-{n.template}" for lang, n in ALL])
def test_every_mail_in_every_language_is_a_proper_message(language, notification):
    message, raw = parsed(notification)
    assert message["From"].addresses[0].addr_spec == "campaign@uclg.example"
    assert message["From"].addresses[0].display_name == "CGLU – Villes des droits humains"
    assert message["Reply-To"].addresses[0].addr_spec == "secretariat@uclg.example"
    assert message["To"].addresses[0].addr_spec == notification.recipient
    assert re.fullmatch(r"<[0-9a-f]{32}\.[a-z_]+@uclg\.example>", message["Message-ID"])
    assert message["Date"].datetime == NOW
    assert message["Content-Language"] == language
    assert message["Subject"].strip()
    assert all(b < 128 for b in raw), "headers and bodies are 7-bit on the wire"
    assert message.get_content_type() in ("multipart/alternative", "multipart/mixed")
    text, html = parts(message)
    for body in (message["Subject"], text, html):
        assert not UNRENDERED.search(body), body
    assert html.lstrip().lower().startswith(("<!doctype html>", "<html"))
    if notification.template == domain.WAVE_OPENED:
        assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    else:
        assert "List-Unsubscribe" not in message and "List-Unsubscribe-Post" not in message


@pytest.mark.parametrize("template", [t for t in domain.TEMPLATES if t != domain.DIGEST])
def test_each_language_reads_differently(template):
    bodies = {}
    for language in LANGUAGES:
        [notification] = [n for n in samples.every_notification(language)
                          if n.template == template]
        message, _ = parsed(notification)
        bodies[language] = (str(message["Subject"]), parts(message)[0])
    assert len({subject for subject, _ in bodies.values()}) == 3
    assert len({text for _, text in bodies.values()}) == 3


def test_the_acknowledgement_carries_the_reference_and_its_link():
    [ack] = [n for n in samples.every_notification("fr") if n.template == domain.ACKNOWLEDGEMENT]
    message, _ = parsed(ack)
    text, html = parts(message)
    assert "HRC-2026-7KQ2M" in message["Subject"]
    assert "Votre référence est HRC-2026-7KQ2M" in text and "vague 3" in text
    assert 'href="https://join.uclg.example/applications/HRC-2026-7KQ2M"' in html
    assert str(message["To"]) == "zoe.martin@grigny.example"
    assert text.startswith("Chère, cher Zoé Martin,")


def test_the_staff_alert_says_how_to_review_and_warns_of_duplicates():
    [alert] = [n for n in samples.every_notification("en")
               if n.template == domain.NEW_APPLICATION]
    text, html = parts(parsed(alert)[0])
    assert "https://console.uclg.example/applications/42" in text  # the console's page
    assert 'href="https://console.uclg.example/applications/42"' in html
    assert "possible duplicate" in text and "HRC-2025-AAAAA" in html


def test_the_welcome_explains_membership():
    [welcome] = [n for n in samples.every_notification("fr") if n.template == domain.WELCOME]
    text, _ = parts(parsed(welcome)[0])
    assert "vague 3" in text and "Ce que signifie être membre" in text
    assert "Gwangju" in text


def test_the_password_reset_mail_carries_its_link_in_the_account_language():
    [reset] = [n for n in samples.every_notification("es") if n.template == domain.PASSWORD_RESET]
    message, _ = parsed(reset)
    text, html = parts(message)
    assert "https://staff.uclg.example/password/s3cr3t" in text
    assert 'href="https://staff.uclg.example/password/s3cr3t"' in html
    assert message["Content-Language"] == "es" and "30 minutos" in text


def test_staff_mails_link_to_the_console():
    mails = {n.template: parts(parsed(n)[0]) for n in samples.every_notification("en")}
    assert "https://console.uclg.example/" in mails[domain.DELIVERY_FAILED][0]
    text, html = mails[domain.DIGEST]
    assert "https://console.uclg.example/digests" in text
    assert 'href="https://console.uclg.example/digests"' in html
    assert html.rstrip().endswith("</html>")


def test_a_hostile_government_name_cannot_add_headers_or_markup():
    hostile = samples.HOSTILE_NAME
    assert len(hostile) > 10_000
    for notification in samples.every_notification("en", government_name=hostile,
                                                     name=hostile):
        message, raw = parsed(notification)
        headers = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
        names = [line.split(":", 1)[0] for line in headers.split("\r\n")
                 if line and not line[0].isspace()]
        assert "Bcc" not in names and "X-Injected" not in names
        assert len(names) == len(set(names))
        assert len(str(message["Subject"])) <= SUBJECT_LIMIT
        text, html = parts(message)
        text = text.replace("\r\n", "\n")
        if notification.template != domain.DIGEST:
            assert "<script>" not in html and "<b>Evil" not in html
        assert "\r" not in text and "\x00" not in text and "\x1b" not in text


def test_header_safe_removes_line_breaks_and_controls_and_caps_length():
    assert header_safe("a\r\nBcc: x\u2028y\x00\tz", 100) == "a Bcc: x y z"
    assert header_safe("x" * 500, 50) == "x" * 49 + "…"


def test_an_address_with_a_line_break_is_refused():
    person = Contact("victim@example.org\r\nBcc: spy@example.net", "V", "en", "Ville")
    with pytest.raises(InvalidRecipient):
        compose(Notification("e", domain.ERASURE, person, {"government_name": "Ville"}),
                RENDERER, SETTINGS, NOW)


def test_the_message_id_is_stable_per_event_recipient_and_template():
    [ack] = samples.every_notification("en")[:1]
    first, _ = parsed(ack)
    again, _ = parsed(ack)
    other, _ = parsed(Notification("another-event", ack.template, ack.to, ack.context))
    assert first["Message-ID"] == again["Message-ID"] != other["Message-ID"]


def test_the_digest_carries_inline_images_and_attachments():
    [digest] = [n for n in samples.every_notification("en") if n.template == domain.DIGEST]
    message, _ = parsed(digest)
    assert message.get_content_type() == "multipart/mixed"
    assert str(message["Subject"]) == "Weekly digest 16–23 Nov 2026"
    related = next(p for p in message.walk() if p.get_content_type() == "multipart/related")
    image = next(p for p in related.walk() if p.get_content_type() == "image/png")
    assert image["Content-ID"] == "<chart-1@hrc>"
    assert image.get_content() == samples.PNG
    assert 'src="cid:chart-1@hrc"' in parts(message)[1]
    [csv] = [p for p in message.iter_attachments() if p.get_filename() == "members.csv"]
    assert csv.get_content() == "name;country\nGrigny;FR\n"


def test_every_message_in_the_templates_is_translated_in_french_and_spanish():
    options = {"**.html": {"trimmed": "true"}, "**.txt": {"trimmed": "true"}}
    msgids = {
        message
        for _, _, message, _, _ in extract_from_dir(
            TEMPLATES_DIR, method_map=[("**.html", "jinja2"), ("**.txt", "jinja2")],
            options_map=options)
    }
    assert len(msgids) > 50
    placeholder = re.compile(r"%\([a-z_]+\)s")
    for language in ("fr", "es"):
        path = Path(TRANSLATIONS_DIR, language, "LC_MESSAGES", "messages.po")
        with path.open("rb") as handle:
            catalog = read_po(handle)
        for msgid in msgids:
            entry = catalog.get(msgid)
            assert entry is not None and entry.string, f"{language}: untranslated {msgid!r}"
            assert not entry.fuzzy, f"{language}: fuzzy {msgid!r}"
            assert sorted(placeholder.findall(entry.string)) == sorted(
                placeholder.findall(msgid)), f"{language}: placeholders differ in {msgid!r}"


def test_every_template_exists_in_its_three_parts():
    for template in domain.TEMPLATES:
        for suffix in ("subject.txt", "txt", "html"):
            assert (TEMPLATES_DIR / "mail" / f"{template}.{suffix}").is_file()


ISO_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


@pytest.mark.parametrize(("language", "words"), [
    ("en", ["Country: France", "Themes: Right to the city, Housing", "Type: Municipality",
            "Population: 28,000", "Submitted: November 24, 2026, 10:00 AM UTC"]),
    ("fr", ["Pays : France", "Thèmes : Droit à la ville, Logement", "Type : Municipalité",
            "24 novembre 2026, 10:00 UTC"]),
    ("es", ["País: Francia", "Temas: Derecho a la ciudad, Vivienda", "Tipo: Municipio",
            "24 de noviembre de 2026, 10:00 UTC"]),
])
def test_the_staff_alert_names_things_instead_of_codes(language, words):
    [alert] = [n for n in samples.every_notification(language)
               if n.template == domain.NEW_APPLICATION]
    text, html = parts(parsed(alert)[0])
    text = text.replace("\u202f", " ").replace("\xa0", " ")
    for word in words:
        assert word in text
    for body in (text, html):
        assert "right_to_the_city" not in body and "municipality" not in body
        assert not ISO_TIMESTAMP.search(body)
    assert f">{words[0].split(':')[1].strip()}</td>" in html


def test_every_mail_shows_dates_as_words():
    for language in LANGUAGES:
        for notification in samples.every_notification(language):
            if notification.template == domain.DIGEST:
                continue  # the reports' own text
            text, html = parts(parsed(notification)[0])
            assert not ISO_TIMESTAMP.search(text) and not ISO_TIMESTAMP.search(html)
            assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text), (language, text)


def test_the_wave_announcement_dates_are_in_the_readers_words():
    [wave] = [n for n in samples.every_notification("es") if n.template == domain.WAVE_OPENED]
    text, _ = parts(parsed(wave)[0])
    assert "desde el 24 de noviembre de 2026 hasta el 31 de marzo de 2027" in text


def test_a_delivery_failure_names_the_mail_in_words():
    [failed] = [n for n in samples.every_notification("en")
                if n.template == domain.DELIVERY_FAILED]
    text, _ = parts(parsed(failed)[0])
    assert "Mail: acknowledgement of an application" in text


@pytest.mark.parametrize(("language", "notification"), ALL,
                         ids=[f"{lang}-{n.template}" for lang, n in ALL])
def test_every_mail_links_to_the_privacy_notice_in_its_language(language, notification):
    text, html = parts(parsed(notification)[0])
    url = f"https://join.uclg.example/privacy?lang={language}"
    last = text.rstrip().splitlines()[-1]
    assert url in last and "@" not in last, last  # a line of its own, after the reply address
    assert f'href="{url}"' in html
    assert html.rfind(f'href="{url}"') > html.rfind("<hr") or notification.template == "digest"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_campaign_is_named_as_everywhere_else(language):
    name = campaign_name(language)
    for notification in samples.every_notification(language):
        if notification.template == domain.DIGEST:
            continue
        text, html = parts(parsed(notification)[0])
        assert name.uclg_campaign in text and name.uclg_campaign in html
    [ack] = [n for n in samples.every_notification(language)
             if n.template == domain.ACKNOWLEDGEMENT]
    assert name.campaign in parts(parsed(ack)[0])[0]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_announcement_links_its_one_click_unsubscribe_and_says_no_reply(language):
    [wave] = [n for n in samples.every_notification(language)
              if n.template == domain.WAVE_OPENED]
    message, _ = parsed(wave)
    text, html = parts(message)
    assert UNSUBSCRIBE in text and f'href="{UNSUBSCRIBE}"' in html
    assert "unsubscribe”" not in text and "«unsubscribe»" not in text.replace("\xa0", "")
    assert "“unsubscribe" not in text and "« unsubscribe" not in text.replace("\xa0", " ")


def test_an_announcement_without_a_link_has_no_unsubscribe_header():
    [wave] = [n for n in samples.every_notification("en") if n.template == domain.WAVE_OPENED]
    message = message_from_bytes(compose(wave, RENDERER, SETTINGS, NOW).as_bytes(),
                                 policy=policy.default)
    assert "List-Unsubscribe" not in message


def test_an_announcement_to_an_international_domain_keeps_its_link_readable():
    [wave] = [n for n in samples.every_notification("en") if n.template == domain.WAVE_OPENED]
    idn = Notification(wave.event_id, wave.template, Contact("zoe@grïgny.example", "Zoé", "en",
                                                             "Grigny"), wave.context)
    raw = compose(idn, RENDERER, SETTINGS, NOW, UNSUBSCRIBE).as_bytes()
    assert f"\r\nList-Unsubscribe: <{UNSUBSCRIBE}>\r\n".encode() in raw
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw


def test_the_answer_s_attachments_link_to_the_console_where_staff_are_signed_in():
    # They linked intake's staff API: a person clicking got a 401 in JSON.
    [answer] = [n for n in samples.every_notification("es") if n.template == domain.INFO_PROVIDED]
    text, html = parts(parsed(answer)[0])
    console = f"{SETTINGS.console_url}/applications/{answer.context['application_id']}/attachments/"
    assert f'href="{console}' in html and console in text
    assert "/api/attachments" not in html + text
    assert "se descargan en la consola" in html


def test_the_announcement_gives_the_wave_s_description_as_paragraphs_when_there_is_one():
    [wave] = [n for n in samples.every_notification("fr") if n.template == domain.WAVE_OPENED]
    described = Notification(wave.event_id, wave.template, wave.to, {
        **wave.context, "wave_description": ["La vague du <soin>.", "Elle rassemble les villes."]})
    text, html = parts(parsed(described)[0])
    assert "Thème\r\n\r\nLa vague du <soin>.\r\n\r\nElle rassemble les villes.\r\n\r\n" in text
    assert "<p>La vague du &lt;soin&gt;.</p>\r\n<p>Elle rassemble les villes.</p>" in html
    plain, _ = parts(parsed(wave)[0])
    assert "Elle rassemble" not in plain
