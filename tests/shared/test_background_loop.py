"""The one base of every service's background loop (relay, inbox, notify's mail, reports'
digests): it steps at start, when woken, and stops with its container."""
from __future__ import annotations

import eventlet
from nameko.containers import ServiceContainer

from shared.reliability import BackgroundLoop
from shared.retry import Backoff


class Counting(BackgroundLoop):
    def setup(self) -> None:
        self.steps = 0
        # A poll far away: a step after the first is a wake's.
        self.runs("counting", 3600.0, Backoff(3600.0, 3600.0))

    def step(self) -> bool:
        self.steps += 1
        return True


class Counted:
    name = "counted"
    counting = Counting()


def _wait_for(condition) -> None:
    while not condition():
        eventlet.sleep(0.001)


def test_a_background_loop_steps_at_start_and_when_woken_until_its_container_stops():
    container = ServiceContainer(Counted, {})
    container.start()
    (loop,) = container.dependencies
    try:
        _wait_for(lambda: loop.steps == 1)
        loop.wake()
        _wait_for(lambda: loop.steps == 2)
    finally:
        container.stop()
    assert not loop.loop._running
