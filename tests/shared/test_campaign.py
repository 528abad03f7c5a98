"""The campaign's name, one per language, and the privacy notice's address."""
from __future__ import annotations

from pathlib import Path

import pytest

from shared import config
from shared.campaign import CAMPAIGN_NAMES, campaign_name

ROOT = Path(__file__).resolve().parents[2]
# The services that say the name from shared/campaign.py.
CATALOGS = [
    *sorted((ROOT / "services/notify/translations").glob("*/LC_MESSAGES/*.po")),
    *sorted((ROOT / "services/intake/translations").glob("*/LC_MESSAGES/*.po")),
    *sorted((ROOT / "services/console/translations").glob("*/LC_MESSAGES/*.po")),
    *sorted((ROOT / "services/reports/translations").glob("*.po")),
]


def test_one_spanish_name_the_one_uclg_uses():
    for form in vars(CAMPAIGN_NAMES["es"]).values():
        assert "Ciudades y Territorios de Derechos Humanos" in form
        assert "por los Derechos" not in form


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_every_form_names_the_cities_and_the_long_forms_the_year(language):
    name = campaign_name(language)
    assert name.cities in name.short and name.cities in name.long
    assert name.long in name.campaign and name.long in name.uclg_campaign
    assert "2030" in name.long and "2030" not in name.short


def test_an_unknown_language_gets_the_english_name():
    assert campaign_name("de") is CAMPAIGN_NAMES["en"]
    assert campaign_name(None) is CAMPAIGN_NAMES["en"]
    assert campaign_name("fr-CA") is CAMPAIGN_NAMES["fr"]


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_catalog_translates_the_name_on_its_own(catalog):
    text = catalog.read_text(encoding="utf-8")
    for words in ("Human Rights Cities and Territories", "Villes et Territoires des Droits",
                  "Ciudades y Territorios"):
        assert words not in text


def test_the_privacy_notice_is_intakes_page_unless_told_otherwise():
    settings = config.load({"INTAKE_URL": "https://join.uclg.example/"})
    assert settings.privacy_url == "https://join.uclg.example/privacy"
    assert settings.privacy_url_in("es") == "https://join.uclg.example/privacy?lang=es"
    assert config.load({}).privacy_url == "http://localhost:8000/privacy"

    elsewhere = config.load({"PRIVACY_URL": "https://uclg-cisdp.org/privacy"})
    assert elsewhere.privacy_url == "https://uclg-cisdp.org/privacy"
    assert elsewhere.privacy_url_in("fr") == "https://uclg-cisdp.org/privacy"


def test_the_secretariats_address_defaults_to_the_sender():
    assert config.load({"MAIL_FROM": "campaign@uclg.example"}).secretariat_email == (
        "campaign@uclg.example")
    assert config.load({"MAIL_FROM": "campaign@uclg.example",
                        "SECRETARIAT_EMAIL": "privacy@uclg.example"}).secretariat_email == (
        "privacy@uclg.example")
