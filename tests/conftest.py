"""Fixtures for every ring of tests.

The eventlet monkey patch comes first, as in every nameko process. Real infrastructure comes
from fixtures that make a fresh vhost / database / port each time; with ``CI`` set, a missing
RabbitMQ or PostgreSQL fails the test instead of skipping it.
"""
import eventlet

eventlet.monkey_patch()

import os

import pytest

from tests.support import infra
from tests.support.proxy import ToggleProxy


def _require(address: tuple[str, int], what: str) -> None:
    if infra.reachable(address):
        return
    message = f"{what} is not reachable at {address[0]}:{address[1]}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set: real services are required)")
    pytest.skip(message)


@pytest.fixture
def rabbitmq():
    """A fresh vhost on the real RabbitMQ; ``.uri()`` is its AMQP URI."""
    _require(infra.RABBIT, "RabbitMQ")
    vhost = infra.Vhost()
    yield vhost
    vhost.drop()


@pytest.fixture
def broker_proxy(rabbitmq):
    """A proxy to RabbitMQ that the test can take down; ``amqp_uri`` goes through it."""
    proxy = ToggleProxy(*infra.RABBIT)
    proxy.up()
    proxy.amqp_uri = rabbitmq.uri(proxy.port)
    yield proxy
    proxy.down()


@pytest.fixture
def postgres():
    """A factory of fresh PostgreSQL databases: ``postgres("registry").url``."""
    _require(infra.POSTGRES, "PostgreSQL")
    created = []

    def make(label: str = "db") -> infra.PostgresDatabase:
        database = infra.PostgresDatabase(label)
        created.append(database)
        return database

    yield make
    for database in created:
        database.drop()


@pytest.fixture
def smtp_server(tmp_path):
    """A real SMTP server (aiosmtpd) in its own process; see tests/support/smtp_sink.py."""
    sink = infra.SmtpSink(tmp_path / "smtp")
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def free_port():
    return infra.free_port
