"""Intake's typed settings, loaded through the one shared function."""
from services.intake import settings as intake_settings
from shared.config import load, service_settings


def test_a_service_loads_its_typed_settings_through_one_function():
    loaded = service_settings({"SETTINGS": load({}), "INTAKE_URL": "https://apply.example/"},
                              intake_settings.load)
    assert loaded.url == "https://apply.example"
    assert loaded.rate_limit is not None and loaded.relay_nudge_seconds == 0.2
