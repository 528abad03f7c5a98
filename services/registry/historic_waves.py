"""The campaign's first three waves (2022, 2023, 2024), as the first migration stores them.

Source: ../shared/seeds/ (French). The campaign was launched in 2022 by six pioneering cities;
the first wave (2022) and the second (2023) brought together close to 120 local and regional
governments; the third (2024) is "Promouvoir des Politiques Publiques Locales Pionnières pour
Défendre la Dignité pour Tous". The seeds give no theme of their own to the first two waves and
no exact dates: the themes below summarise what the seeds say each wave did, and the dates are the
calendar years. All three are closed.
"""
from __future__ import annotations

from datetime import UTC, datetime

from services.registry.domain import Wave, WaveStatus


def _year(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year, 12, 31, 23, 59, 59, tzinfo=UTC)


HISTORIC_WAVES: tuple[Wave, ...] = (
    Wave(
        number=1,
        name={"en": "First wave (2022)", "fr": "Première vague (2022)", "es": "Primera ola (2022)"},
        theme={
            "en": "Launching the Global Campaign with six pioneering cities: Barcelona, Grigny,"
            " Gwangju, Mexico City, Utrecht and Vienna",
            "fr": "Lancement de la Campagne mondiale par six villes pionnières : Barcelone,"
            " Grigny, Gwangju, Mexico, Utrecht et Vienne",
            "es": "Lanzamiento de la Campaña Mundial por seis ciudades pioneras: Barcelona,"
            " Grigny, Gwangju, Ciudad de México, Utrecht y Viena",
        },
        opens_at=_year(2022)[0],
        closes_at=_year(2022)[1],
        status=WaveStatus.CLOSED,
    ),
    Wave(
        number=2,
        name={
            "en": "Second wave (2023)", "fr": "Deuxième vague (2023)", "es": "Segunda ola (2023)"
        },
        theme={
            "en": "Growing the community of Human Rights Cities and Territories",
            "fr": "Élargir la communauté des Villes et Territoires des Droits Humains",
            "es": "Ampliar la comunidad de Ciudades y Territorios de Derechos Humanos",
        },
        opens_at=_year(2023)[0],
        closes_at=_year(2023)[1],
        status=WaveStatus.CLOSED,
    ),
    Wave(
        number=3,
        name={
            "en": "Third wave (2024)", "fr": "Troisième vague (2024)", "es": "Tercera ola (2024)"
        },
        theme={
            "en": "Promoting pioneering local public policies to defend dignity for all",
            "fr": "Promouvoir des Politiques Publiques Locales Pionnières pour Défendre la Dignité"
            " pour Tous",
            "es": "Promover políticas públicas locales pioneras para defender la dignidad de todas"
            " las personas",
        },
        opens_at=_year(2024)[0],
        closes_at=_year(2024)[1],
        status=WaveStatus.CLOSED,
    ),
)
