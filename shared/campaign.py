"""The campaign's name, one per language: every page, mail, badge and chart says it from here.

The name is the campaign's own, not a translation each catalog makes on its own: before this
module the form said "Ciudades y Territorios por los Derechos Humanos" while the mails said
"de Derechos Humanos". UCLG's Spanish is "Ciudades y Territorios de Derechos Humanos"; the French
is the one of the campaign's texts (../shared/seeds/): "1 000" and guillemets, with no-break
spaces so the figure and the quotation marks never wrap away from their words.

Catalogs (.po) keep the sentences around the name, with a placeholder: ``_("Join the
%(campaign)s", campaign=name.campaign)``; they never carry the name itself.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

# The campaign's working languages: every page and mail exists in each, English first.
LANGUAGES = ("en", "fr", "es")

NBSP = "\u00a0"


def N_(message: str) -> str:
    """Marks a message id for extraction (``pybabel extract -k N_``); services translate it."""
    return message


# The form's words for its codes (shared.events.THEMES, JURISDICTION_TYPES), in English: the
# message ids each service's catalog translates, so a staff mail reads what the applicant ticked.
THEME_LABELS: Mapping[str, str] = MappingProxyType({
    "right_to_the_city": N_("Right to the city"),
    "food": N_("Food"),
    "housing": N_("Housing"),
    "culture": N_("Culture"),
    "health": N_("Health"),
    "informality": N_("Informality"),
    "gender": N_("Gender"),
    "non_discrimination": N_("Fighting discrimination"),
    "climate_justice": N_("Climate justice"),
    "participatory_democracy": N_("Participatory democracy"),
    "migration": N_("Migration"),
    "peace": N_("Peace"),
})
JURISDICTION_LABELS: Mapping[str, str] = MappingProxyType({
    "municipality": N_("Municipality"),
    "intermediary_city": N_("Intermediary city"),
    "metropolitan_area": N_("Metropolitan area"),
    "province": N_("Province"),
    "region": N_("Region"),
    "association": N_("Association of local or regional governments"),
    "other": N_("Other"),
})


@dataclass(frozen=True)
class CampaignName:
    """The forms of the name a sentence needs, in one language."""

    # "10, 100, 1000 Human Rights Cities and Territories": page titles, the badge's alt text.
    short: str
    # "... by 2030": the name in full, without the word "campaign".
    long: str
    # "Human Rights Cities and Territories": the movement and its members, with no figures.
    cities: str
    # "Global Campaign “... by 2030”": the campaign as it is named in running text.
    campaign: str
    # "UCLG Global Campaign “... by 2030”": the same, signed by UCLG (mail and page headers).
    uclg_campaign: str


CAMPAIGN_NAMES: Mapping[str, CampaignName] = MappingProxyType({
    "en": CampaignName(
        short="10, 100, 1000 Human Rights Cities and Territories",
        long="10, 100, 1000 Human Rights Cities and Territories by 2030",
        cities="Human Rights Cities and Territories",
        campaign="Global Campaign “10, 100, 1000 Human Rights Cities and Territories by 2030”",
        uclg_campaign="UCLG Global Campaign “10, 100, 1000 Human Rights Cities and Territories "
                      "by 2030”",
    ),
    "fr": CampaignName(
        short=f"10, 100, 1{NBSP}000 Villes et Territoires des Droits Humains",
        long=f"10, 100, 1{NBSP}000 Villes et Territoires des Droits Humains pour 2030",
        cities="Villes et Territoires des Droits Humains",
        campaign=f"Campagne mondiale «{NBSP}10, 100, 1{NBSP}000 Villes et Territoires des Droits "
                 f"Humains pour 2030{NBSP}»",
        uclg_campaign=f"Campagne mondiale de CGLU «{NBSP}10, 100, 1{NBSP}000 Villes et Territoires "
                      f"des Droits Humains pour 2030{NBSP}»",
    ),
    "es": CampaignName(
        short="10, 100, 1000 Ciudades y Territorios de Derechos Humanos",
        long="10, 100, 1000 Ciudades y Territorios de Derechos Humanos para 2030",
        cities="Ciudades y Territorios de Derechos Humanos",
        campaign="Campaña Mundial «10, 100, 1000 Ciudades y Territorios de Derechos Humanos "
                 "para 2030»",
        uclg_campaign="Campaña Mundial de CGLU «10, 100, 1000 Ciudades y Territorios de Derechos "
                      "Humanos para 2030»",
    ),
})


def campaign_name(language: str | None) -> CampaignName:
    """The name in ``language`` (en, fr, es); any other language gets the English name."""
    return CAMPAIGN_NAMES.get((language or "").strip().lower()[:2], CAMPAIGN_NAMES["en"])
