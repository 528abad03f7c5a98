from services.registry.domain import LANGUAGES, WaveStatus
from services.registry.historic_waves import HISTORIC_WAVES
from shared.events import new_event


def test_three_closed_waves_2022_2023_2024():
    assert [(w.number, w.opens_at.year, w.status) for w in HISTORIC_WAVES] == [
        (1, 2022, WaveStatus.CLOSED),
        (2, 2023, WaveStatus.CLOSED),
        (3, 2024, WaveStatus.CLOSED),
    ]


def test_names_and_themes_in_the_three_languages():
    for wave in HISTORIC_WAVES:
        assert set(wave.name) == set(wave.theme) == set(LANGUAGES)
        new_event("wave.opened", wave.opened_event_data())
    third = HISTORIC_WAVES[2]
    assert third.theme["en"] == (
        "Promoting pioneering local public policies to defend dignity for all"
    )
    assert third.theme["fr"].startswith("Promouvoir des Politiques Publiques Locales Pionnières")
