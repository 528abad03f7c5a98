"""The one-click unsubscribe's links and pages, without a database."""
from __future__ import annotations

import re

import pytest

from services.notify import unsubscribe
from services.notify.unsubscribe import ASK, DONE, UNKNOWN, Pages, Signer
from shared.campaign import campaign_name

SIGNER = Signer("s3cret-for-tests")
PAGES = Pages()


def test_a_token_names_the_mail_and_opens_only_for_its_address():
    token = SIGNER.token(42, "zoe@grigny.example")
    assert re.fullmatch(r"42\.[A-Za-z0-9_-]{32}", token)
    assert "zoe" not in token and "grigny" not in token  # no address in the link
    assert unsubscribe.mail_id(token) == 42
    assert SIGNER.opens(token, 42, "zoe@grigny.example")
    assert SIGNER.opens(token, 42, "Zoe@Grigny.example ")  # the address, whatever its case
    assert not SIGNER.opens(token, 42, "spy@evil.example")
    assert not SIGNER.opens(token, 43, "zoe@grigny.example")
    assert not Signer("another-secret").opens(token, 42, "zoe@grigny.example")


@pytest.mark.parametrize("token", [
    "", "42", "42.", "abc.def", "0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "-1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "42.AAAA", "42.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    "99999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "4294967296.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "42.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\u00e9", "42.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
])
def test_anything_but_a_token_names_no_mail(token):
    assert unsubscribe.mail_id(token) is None
    assert not SIGNER.opens(token, 42, "zoe@grigny.example")


def test_a_forged_signature_does_not_open():
    real = SIGNER.token(42, "zoe@grigny.example")
    forged = real[:-1] + ("A" if real[-1] != "A" else "B")
    assert unsubscribe.mail_id(forged) == 42
    assert not SIGNER.opens(forged, 42, "zoe@grigny.example")


def test_the_link_is_notifys_public_address():
    assert unsubscribe.link("https://mail.uclg.example/", "42.x") == (
        "https://mail.uclg.example/unsubscribe/42.x")


@pytest.mark.parametrize(("requested", "accept", "language"), [
    ("fr", "es", "fr"), (None, "es-AR,es;q=0.9,en;q=0.5", "es"), (None, "de-DE, fr;q=0.5", "fr"),
    (None, None, "en"), ("xx", "de", "en"),
])
def test_a_bad_links_page_speaks_the_browsers_language(requested, accept, language):
    assert unsubscribe.page_language(requested, accept) == language


WORDS = {"en": "Unsubscribe", "fr": "Me désinscrire", "es": "Darme de baja"}


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_the_question_page_has_a_button_that_posts_to_the_same_link(language):
    html = PAGES.render(ASK, language, secretariat="sec@uclg.example",
                        privacy_url="https://join.uclg.example/privacy", token="42.abc")
    assert f'<html lang="{language}">' in html
    assert re.search(r'<form method="post" action="42\.abc">', html)
    assert f'<button type="submit">{WORDS[language]}</button>' in html
    assert campaign_name(language).uclg_campaign in html
    assert 'href="https://join.uclg.example/privacy"' in html


def test_the_pages_say_what_happened_and_offer_no_button_then():
    done = PAGES.render(DONE, "fr", secretariat="sec@uclg.example", privacy_url="p")
    assert "Vous êtes désinscrit·e des annonces" in done and "<form" not in done
    assert "sec@uclg.example" in done
    already = PAGES.render(ASK, "es", secretariat="s", privacy_url="p", token="t", already=True)
    assert "ya no recibe anuncios" in already and "<form" not in already
    unknown = PAGES.render(UNKNOWN, "en", secretariat="s", privacy_url="p")
    assert "This unsubscribe link does not work" in unknown
    assert "nothing has been changed" in unknown
    assert "<form" not in unknown


def test_a_token_is_escaped_in_the_page():
    html = PAGES.render(ASK, "en", secretariat="s", privacy_url="p", token='"><script>')
    assert "<script>" not in html
