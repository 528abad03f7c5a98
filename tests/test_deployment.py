"""The deployment files: docker-compose.yml parses (no Docker engine here, only the client)."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.support.infra import PROJECT


def _compose_command() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_docker_compose_config_parses():
    command = _compose_command()
    if command is None:
        if os.environ.get("CI"):
            pytest.fail("neither `docker compose` nor `docker-compose` is installed (.ci/run "
                        "installs docker-compose)")
        pytest.skip("no docker compose client")
    result = subprocess.run([*command, "-f", "docker-compose.yml", "config"], cwd=PROJECT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for service in ("rabbitmq", "postgres", "mailpit", "intake", "registry", "notify", "reports",
                    "console"):
        assert f"\n  {service}:" in result.stdout
    assert result.stdout.count("healthcheck:") >= 7
