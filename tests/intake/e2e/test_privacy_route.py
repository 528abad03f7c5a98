"""GET /privacy through intake's real entrypoint, and the applicant's page linking to it."""
from __future__ import annotations

import requests

from tests.intake.e2e.test_applicant_page import Applicant


def test_the_notice_follows_the_language_and_names_the_secretariats_address(make_intake):
    intake = make_intake(SECRETARIAT_EMAIL="privacy@uclg.example",
                         MAIL_FROM="campaign@uclg.example", INTAKE_URL="http://intake.example")
    french = requests.get(f"{intake.url}/privacy?lang=fr", timeout=10)
    assert french.status_code == 200
    assert french.headers["Content-Language"] == "fr"
    assert "<h1>Politique de confidentialité</h1>" in french.text
    assert 'href="mailto:privacy@uclg.example"' in french.text
    assert "campaign@uclg.example" not in french.text
    spanish = requests.get(f"{intake.url}/privacy", headers={"Accept-Language": "es-AR,es"},
                           timeout=10)
    assert "<h1>Aviso de privacidad</h1>" in spanish.text

    applicant = Applicant(intake)
    page = applicant.page(lang="es").text
    assert '<a href="/privacy?lang=es">el aviso de privacidad</a>' in page


def test_without_a_secretariat_address_the_notice_gives_the_senders(make_intake):
    intake = make_intake(MAIL_FROM="campaign@uclg.example")
    page = requests.get(f"{intake.url}/privacy", timeout=10).text
    assert 'href="mailto:campaign@uclg.example"' in page


def test_a_notice_published_elsewhere_is_where_privacy_sends_people(make_intake):
    intake = make_intake(PRIVACY_URL="https://www.uclg-cisdp.org/privacy",
                         INTAKE_URL="http://intake.example")
    response = requests.get(f"{intake.url}/privacy?lang=fr", allow_redirects=False, timeout=10)
    assert response.status_code == 303
    assert response.headers["Location"] == "https://www.uclg-cisdp.org/privacy"
    # Set to intake's own page, it is intake's own page (no loop).
    own = make_intake(PRIVACY_URL="http://intake.example/privacy",
                      INTAKE_URL="http://intake.example")
    assert requests.get(f"{own.url}/privacy", allow_redirects=False,
                        timeout=10).status_code == 200
