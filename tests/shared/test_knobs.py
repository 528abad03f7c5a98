"""One way to read a service's knobs (shared.config.Knobs, service_settings)."""
from shared.config import Knobs, load


def test_the_containers_key_then_the_environment_then_the_default():
    settings = load({"INBOX_POLL_SECONDS": "0.2", "DIGEST_LANGUAGE": "fr"})
    knobs = Knobs({"SETTINGS": settings, "INBOX_POLL_SECONDS": 0.05})
    assert knobs.number("INBOX_POLL_SECONDS", 0.5) == 0.05
    assert knobs.text("DIGEST_LANGUAGE", "en") == "fr"
    assert knobs.text("NOT_SET", "default") == "default"


def test_a_container_without_settings_reads_the_process_environment(monkeypatch):
    monkeypatch.setenv("INTAKE_RATE_LIMIT", "7/minute")
    assert Knobs({}).text("INTAKE_RATE_LIMIT") == "7/minute"

