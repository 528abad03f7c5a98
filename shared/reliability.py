"""The reliability rules as nameko dependencies, the same in every service.

- ``Outbox``: a relay loop per container that publishes the service's outbox; a commit that
  recorded events wakes it, to publish at once instead of at the next poll.
- ``Inbox``: ``store(message)`` from an event handler, and a loop that processes stored events.
- ``BackgroundLoop``: the base of every such loop (the relay, the inbox, notify's mail, reports'
  digests): a step run when woken or at each poll, from the container's start to its stop.
- ``subscribed``: adds to a service class the event handlers of its catalogue subscriptions;
  each stores the message, and is requeued (not acked) if even storing fails, e.g. while the
  database is down.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import eventlet
from eventlet.event import Event as Signal
from nameko.events import EventHandler
from nameko.extensions import DependencyProvider

from shared import inbox as inbox_store
from shared import leases, outbox
from shared.broker import EventPublisher
from shared.config import Knobs
from shared.db import Database, database_for
from shared.events import CATALOGUE, subscriptions
from shared.inbox import Handler, InboxProcessor
from shared.outbox import Relay
from shared.retry import Backoff

log = logging.getLogger(__name__)


class _StoringEventHandler(EventHandler):
    """nameko's event handler, surviving a broker connection lost under an ack.

    nameko catches only amqp's own ConnectionError there; the socket's BrokenPipeError or
    ConnectionResetError escapes, the worker dies and takes the container (and ``hrc run``)
    down with it. The message is in the inbox by then, and the broker redelivers what was not
    acked: the copy is dropped by event_id.
    """

    def handle_message_processed(self, message, result=None, exc_info=None):
        try:
            super().handle_message_processed(message, result, exc_info)
        except OSError as exc:
            log.warning("%s: ack or requeue lost with the broker connection (%r); the broker "
                        "redelivers it and the inbox drops the copy", self.method_name, exc)


def receives(event_type: str):
    """The nameko entrypoint for one catalogue event on a method named ``on_<type>``."""
    source = CATALOGUE[event_type].source
    return _StoringEventHandler.decorator(source, event_type, requeue_on_error=True)


def subscribed(service_class: type) -> type:
    """Give a service one receiving method per event it subscribes to in the catalogue.

    The catalogue (shared.events) names each subscriber, and shared.topology declares a queue
    for each; generating the methods from the same list keeps the two from drifting apart.
    Each method only stores the message in the service's ``inbox``.
    """
    for event_type in subscriptions(service_class.name):
        def receive(self, message):
            self.inbox.store(message)

        receive.__name__ = receive.__qualname__ = event_type.handler_name
        setattr(service_class, event_type.handler_name, receives(event_type.name)(receive))
    return service_class


class Loop:
    """A managed greenthread that runs ``step`` when woken, or every ``interval`` seconds."""

    def __init__(self, name: str, step: Callable[[], bool], interval: float, idle_backoff: Backoff):
        self.name = name
        self.step = step
        self.interval = interval
        self.idle_backoff = idle_backoff
        self._signal = Signal()
        self._running = False

    def wake(self) -> None:
        if not self._signal.ready():
            self._signal.send(True)

    def run(self) -> None:
        self._running = True
        failures = 0
        while self._running:
            try:
                ok = self.step()
                failures = 0 if ok else failures + 1
            except Exception:
                failures += 1
                log.exception("%s: step failed", self.name)
            wait = self.interval if failures == 0 else self.idle_backoff.delay(failures)
            with eventlet.Timeout(wait, False):
                self._signal.wait()
            self._signal = Signal()

    def stop(self) -> None:
        self._running = False
        self.wake()


class BackgroundLoop(DependencyProvider):
    """A service's background loop as a nameko dependency: ``step()`` runs in a managed
    greenthread from ``start`` to ``stop``, when ``wake()`` is called or every ``interval``
    seconds; after a step that fails (or returns False) the loop waits ``idle_backoff``.

    A subclass's ``setup`` builds what its step works with, then calls ``self.runs(...)``.
    """

    def runs(self, name: str, interval: float, idle_backoff: Backoff) -> None:
        self.loop = Loop(name, self.step, interval, idle_backoff)

    def step(self) -> bool:
        raise NotImplementedError

    def start(self) -> None:
        self.container.spawn_managed_thread(self.run)

    def run(self) -> None:
        self.loop.run()

    def stop(self) -> None:
        self.loop.stop()

    def kill(self) -> None:
        self.stop()

    def wake(self) -> None:
        self.loop.wake()

    def get_dependency(self, worker_ctx) -> Any:
        return self


def _settings_number(config: Mapping[str, Any], key: str, default: float) -> float:
    return Knobs(config).number(key, default)


def lease_duration(config: Mapping[str, Any]) -> timedelta:
    """How long a claimed row stays ours without a heartbeat (``LEASE_SECONDS``)."""
    return timedelta(seconds=_settings_number(config, "LEASE_SECONDS",
                                              leases.LEASE.total_seconds()))


class Outbox(BackgroundLoop):
    """The service's relay loop. Every commit on the service's database that recorded events
    wakes it (``shared.outbox.wake_on_commit``), and it polls besides.

    ``wake_delay(config)``: seconds the wakes of a moment are gathered into one pass (0: at
    once). Intake's submissions each commit an event, and a pass per submission published one
    row at a time, with three transactions around each; gathered, a pass publishes a batch.
    """

    def __init__(self, wake_delay: Callable[[Mapping[str, Any]], float] = lambda config: 0.0):
        self.wake_delay = wake_delay

    def setup(self) -> None:
        config = self.container.config
        self.database: Database = database_for(config["DB_URL"])
        self.publisher = EventPublisher(config["AMQP_URI"])
        self.relay = Relay(
            self.database,
            self.publisher.publish_all,
            backoff=Backoff(_settings_number(config, "RELAY_RETRY_BASE_SECONDS", 0.5),
                            _settings_number(config, "RELAY_RETRY_MAX_SECONDS", 30.0)),
            lease=lease_duration(config),
        )
        self.runs(f"{self.container.service_name} outbox relay",
                  _settings_number(config, "RELAY_POLL_SECONDS", 1.0), self.relay.backoff)
        self.delay = self.wake_delay(config)
        self._gathering: Any = None
        self._stop_waking: Callable[[], None] | None = None

    def step(self) -> bool:
        sent, failure = self.relay.relay_due()
        while failure is None and sent == self.relay.batch_size:
            sent, failure = self.relay.relay_due()
        return failure is None

    def start(self) -> None:
        self._stop_waking = outbox.wake_on_commit(self.database, self.wake)
        super().start()

    def stop(self) -> None:
        if self._stop_waking is not None:
            self._stop_waking()
            self._stop_waking = None
        gathering, self._gathering = self._gathering, None
        if gathering is not None:
            gathering.cancel()
        super().stop()
        self.publisher.close()

    def wake(self) -> None:
        """Publish now, or once the wakes of ``wake_delay`` are gathered."""
        if self.delay <= 0:
            super().wake()
        elif self._gathering is None:
            self._gathering = eventlet.spawn_after(self.delay, self._gathered)

    def _gathered(self) -> None:
        self._gathering = None
        super().wake()


class Inbox(BackgroundLoop):
    """``handlers(config)`` returns the service's handler per event type; ``options`` go to
    its InboxProcessor (``group_size``, ``read_event``)."""

    def __init__(self, handlers: Callable[[Mapping[str, Any]], Mapping[str, Handler]],
                 **options: Any):
        self.handlers_factory = handlers
        self.options = options

    def setup(self) -> None:
        config = self.container.config
        self.database: Database = database_for(config["DB_URL"])
        self.stored = inbox_store.GroupStore(self.database)
        self.processor = InboxProcessor(
            self.database,
            self.handlers_factory(config),
            backoff=Backoff(_settings_number(config, "INBOX_RETRY_BASE_SECONDS", 1.0),
                            _settings_number(config, "INBOX_RETRY_MAX_SECONDS", 300.0),
                            max_attempts=int(_settings_number(config, "INBOX_MAX_ATTEMPTS", 5))),
            lease=lease_duration(config),
            wait_seconds=_settings_number(config, "INBOX_WAIT_SECONDS", 2.0),
            wait_limit=timedelta(seconds=_settings_number(config, "INBOX_WAIT_LIMIT_SECONDS",
                                                          86400.0)),
            **self.options,
        )
        self.runs(f"{self.container.service_name} inbox",
                  _settings_number(config, "INBOX_POLL_SECONDS", 0.5), Backoff(0.5, 10.0))

    def step(self) -> bool:
        while True:
            if self.processor.process_due():
                # Handlers write notify's mail to its log: have it sent now, not at the next
                # poll (the events they record wake the relay with their commit).
                for follower in self._followers():
                    follower.wake()
            if not self.processor.more_due:
                return True
            eventlet.sleep(0)

    def _followers(self) -> list[Any]:
        """Any loop that says it works on what handlers write (``follows_inbox = True`` and a
        ``wake()``)."""
        return [d for d in self.container.dependencies if getattr(d, "follows_inbox", False)]

    def store(self, message: object) -> None:
        try:
            if self.stored.store(message):
                self.wake()
        except Exception:
            # The message goes back to the broker (requeue_on_error); pause so a database
            # outage does not become a tight redelivery loop.
            log.exception("inbox: could not store an event; it will be redelivered")
            eventlet.sleep(1.0)
            raise
