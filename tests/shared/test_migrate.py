"""Replicas that start together on a fresh PostgreSQL database migrate it once, without error."""
from __future__ import annotations

import subprocess
import sys

from sqlalchemy import create_engine, text

from tests.support.infra import PROJECT

MIGRATE = "from hrc.run import setup; from shared.config import load; " \
          "setup(load(), ['registry'])"


def test_concurrent_first_migrations_do_not_collide(postgres, rabbitmq):
    database = postgres("registry")
    env = {"REGISTRY_DB_URL": database.url, "AMQP_URI": rabbitmq.uri(), "PATH": "/usr/bin:/bin"}
    processes = [subprocess.Popen([sys.executable, "-c", MIGRATE], cwd=PROJECT, env=env,
                                  stderr=subprocess.PIPE, text=True) for _ in range(3)]
    errors = [p.communicate(timeout=120)[1] for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], errors
    engine = create_engine(database.url)
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    engine.dispose()
    assert len(versions) == 1
