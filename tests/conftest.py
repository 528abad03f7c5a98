"""Fixtures for every ring of tests.

The eventlet monkey patch comes first, as in every nameko process. Real infrastructure comes
from fixtures that make a fresh vhost / database / port each time; with ``CI`` set, a missing
RabbitMQ or PostgreSQL fails the test instead of skipping it.
"""
import eventlet

from tests.support import workers

workers.real_thread_primitives()
eventlet.monkey_patch()

import os

import pytest
from kombu import mixins

from tests.support import infra
from tests.support.proxy import ToggleProxy

# nameko's QueueConsumer sees a stop request only between two drain_events calls, and each waits
# up to kombu's safety_interval (1 s) on an idle queue: every container.stop() in a test paid
# about 2 s, hundreds of times a run. A shorter wait changes nothing else: messages are handled
# as they arrive either way.
_consume = mixins.ConsumerMixin.consume


def _consume_briskly(self, limit=None, timeout=None, safety_interval=0.05, **kwargs):
    return _consume(self, limit=limit, timeout=timeout, safety_interval=safety_interval, **kwargs)


mixins.ConsumerMixin.consume = _consume_briskly


# Whole systems: services as processes, browsers, the chaos run, the 2,000-mail fan-outs.
# With workers (make test PYTEST_WORKERS=2) one worker runs them all, one after another, in
# the order of their files (day one's and the directory's tests go on from the test before):
# two of them at once on two cores outlast their bounds; next to lighter tests they do not.
WHOLE_SYSTEMS = {
    "tests/chaos/test_faults.py",
    "tests/console/e2e/test_console_flow.py",
    "tests/e2e/test_applicant_page.py",
    "tests/e2e/test_day_one.py",
    "tests/e2e/test_walking_skeleton.py",
    "tests/intake/e2e/test_applicant_page_browser.py",
    "tests/intake/e2e/test_form_browser.py",
    "tests/notify/integration/test_wave_fanout.py",
    "tests/registry/e2e/test_replicas.py",
    "tests/reports/e2e/test_directory_system.py",
    "tests/reports/e2e/test_reports_service.py",
}


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.relative_to(config.rootpath).as_posix() in WHOLE_SYSTEMS:
            item.add_marker(pytest.mark.xdist_group("whole_systems"))


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


@pytest.fixture(scope="session")
def browser():
    """A headless Debian Chromium (Playwright); with ``CI`` set, a missing one is a failure."""
    from tests.support.browser import CHROMIUM_ARGS, chromium_path

    path = chromium_path()
    if path is None:
        message = "chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set: real components are required)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's stop() waits forever under eventlet's monkey patch (its asyncio child watcher
    # never hears of the driver's exit), so the browser is closed and the driver killed instead.
    manager = sync_playwright()
    playwright = manager.start()
    chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()
    driver = manager._client._transport._proc
    driver.kill()
