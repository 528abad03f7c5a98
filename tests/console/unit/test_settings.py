"""The console reads its knobs once, through the shared Settings' own address rules."""
from services.console.settings import SERVICES, load
from shared import config as shared_config
from shared.config import Knobs


def console_settings(environ: dict[str, str], **config):
    return load(Knobs({"SETTINGS": shared_config.load(environ), **config}))


def test_it_reaches_each_service_where_its_url_says_and_localhost_otherwise():
    settings = console_settings({"REGISTRY_URL": "http://registry.internal:8000/",
                                 "REPORTS_PORT": "9123"})
    assert settings.service_urls["registry"] == "http://registry.internal:8000"
    assert settings.service_urls["reports"] == "http://127.0.0.1:9123"
    assert set(settings.service_urls) == set(SERVICES)


def test_cookies_are_secure_only_behind_https():
    assert console_settings({"CONSOLE_URL": "https://console.uclg.example/"}).secure
    assert console_settings({"CONSOLE_URL": "https://console.uclg.example/"}).url == (
        "https://console.uclg.example")
    assert not console_settings({}).secure


def test_the_first_admin_comes_from_the_environment_or_the_container_config():
    settings = console_settings({"CONSOLE_ADMIN_EMAIL": "sg@uclg.example"})
    assert (settings.admin_email, settings.admin_password) == ("sg@uclg.example", None)
    overridden = console_settings({"CONSOLE_ADMIN_EMAIL": "sg@uclg.example"},
                                  CONSOLE_ADMIN_EMAIL="admin@uclg.example",
                                  CONSOLE_ADMIN_PASSWORD="correct horse")
    assert (overridden.admin_email, overridden.admin_password) == (
        "admin@uclg.example", "correct horse")
