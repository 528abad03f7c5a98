"""The deployment files: docker-compose.yml parses (no Docker engine here, only the client),
takes every secret and public address from the environment or .env, and checks every container's
health; .env.example documents each variable the compose file reads."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.infra import PROJECT

SERVICES = ("rabbitmq", "postgres", "mailpit", "intake", "registry", "notify", "reports",
            "console")
APPS = ("intake", "registry", "notify", "reports", "console")
SECRETS = {"POSTGRES_PASSWORD": "pg0secret1", "RABBITMQ_PASSWORD": "mq0secret2",
           "CONSOLE_STAFF_TOKEN": "console0token3"}
COMPOSE_FILE = PROJECT / "docker-compose.yml"
EXAMPLE = PROJECT / ".env.example"


def _compose_command() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


@pytest.fixture
def compose(tmp_path):
    """``compose(env_file_text, **environment)``: `config` as the client resolves it."""
    command = _compose_command()
    if command is None:
        if os.environ.get("CI"):
            pytest.fail("neither `docker compose` nor `docker-compose` is installed (.ci/run "
                        "installs docker-compose)")
        pytest.skip("no docker compose client")
    # Nothing of this machine's own settings (nor a developer's .env) may leak into the answer.
    read = set(_variables_read())
    clean = {k: v for k, v in os.environ.items() if k not in read}

    def run(env_file: str = "", **environment: str) -> subprocess.CompletedProcess:
        path = tmp_path / "test.env"
        path.write_text(env_file, encoding="utf-8")
        return subprocess.run(
            [*command, "--env-file", str(path), "-f", str(COMPOSE_FILE), "config"],
            cwd=PROJECT, env={**clean, **environment}, capture_output=True, text=True,
            timeout=120)

    return run


def _example_filled() -> str:
    text = EXAMPLE.read_text(encoding="utf-8")
    for name, value in SECRETS.items():
        text = re.sub(rf"^{name}=$", f"{name}={value}", text, flags=re.M)
    return text


def _variables_read() -> list[str]:
    return sorted(set(re.findall(r"\$\{([A-Z_]+)", COMPOSE_FILE.read_text(encoding="utf-8"))))


def test_the_compose_file_parses_with_the_example_filled_in(compose):
    result = compose(_example_filled())
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    assert set(config["services"]) == set(SERVICES)
    for name in SERVICES:
        assert "healthcheck" in config["services"][name], f"{name} has no health check"
    assert config["services"]["mailpit"]["healthcheck"]["test"] == ["CMD", "/mailpit", "readyz"]
    for app in APPS:
        service = config["services"][app]
        env = service["environment"]
        assert env["AMQP_URI"] == "amqp://campaign:mq0secret2@rabbitmq:5672/"
        assert env[f"{app.upper()}_DB_URL"] == (
            f"postgresql+psycopg2://campaign:pg0secret1@postgres:5432/{app}")
        assert env["CONSOLE_STAFF_TOKEN"] == "console0token3"
        assert env["SMTP_HOST"] == "mailpit" and str(env["SMTP_PORT"]) == "1025"
        assert service["depends_on"]["mailpit"]["condition"] == "service_healthy"
    assert config["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] == "pg0secret1"
    assert config["services"]["rabbitmq"]["environment"]["RABBITMQ_DEFAULT_PASS"] == "mq0secret2"


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_a_missing_secret_stops_compose_with_a_message_naming_it(compose, missing):
    result = compose("\n".join(f"{k}={v}" for k, v in SECRETS.items() if k != missing))
    assert result.returncode != 0
    assert f"set {missing}" in result.stderr and ".env.example" in result.stderr


def test_the_example_as_shipped_starts_nothing_until_its_secrets_are_set(compose):
    result = compose(EXAMPLE.read_text(encoding="utf-8"))
    assert result.returncode != 0 and "set " in result.stderr


def test_public_addresses_and_mail_settings_come_from_the_environment(compose):
    result = compose(_example_filled(), INTAKE_URL="https://apply.uclg.example",
                     CONSOLE_URL="https://console.uclg.example",
                     REGISTRY_PUBLIC_URL="https://staff-api.uclg.example",
                     PRIVACY_URL="https://uclg.example/privacy", SMTP_HOST="smtp.uclg.example",
                     SMTP_PORT="587", SMTP_STARTTLS="true", MAIL_FROM="campaign@uclg.example")
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    for app in APPS:
        env = config["services"][app]["environment"]
        assert env["INTAKE_URL"] == "https://apply.uclg.example"
        assert env["CONSOLE_URL"] == "https://console.uclg.example"
        assert env["REGISTRY_PUBLIC_URL"] == "https://staff-api.uclg.example"
        assert env["PRIVACY_URL"] == "https://uclg.example/privacy"
        assert (env["SMTP_HOST"], str(env["SMTP_PORT"]), env["SMTP_STARTTLS"]) == (
            "smtp.uclg.example", "587", "true")
        assert env["MAIL_FROM"] == "campaign@uclg.example"


def test_no_secret_is_written_in_the_compose_file():
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert "guest:guest" not in text and "campaign:campaign" not in text
    assert not re.search(r"(PASSWORD|PASS|TOKEN|TOKENS):\s+[^$\s]", text), \
        "a password or token given a literal value"


def test_every_variable_the_compose_file_reads_is_documented_in_the_example():
    documented = set(re.findall(r"^([A-Z_]+)=", EXAMPLE.read_text(encoding="utf-8"), re.M))
    assert set(_variables_read()) - documented == set()
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    assert ".env.example" in readme


def test_the_databases_made_at_first_start_are_the_services_own():
    init = (Path(PROJECT) / "deploy" / "postgres-init.sql").read_text(encoding="utf-8")
    assert sorted(re.findall(r"CREATE DATABASE (\w+);", init)) == sorted(APPS)
