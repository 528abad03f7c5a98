"""pytest-xdist workers under eventlet's monkey patch.

A worker's execnet gateway is up, its receiver in a real OS thread, before tests/conftest.py
patches the standard library. Every lock and event execnet and xdist make afterwards would come
from the patched ``threading``: the receiver thread sets a green Event that the main thread's hub
never hears of (the worker waits forever for its first test), and waits on one at shutdown.
``real_thread_primitives`` keeps the worker's execution model on real locks, and on an event that
the main thread waits for without stopping its green threads. Outside a worker it does nothing.
"""
from __future__ import annotations

import os

import eventlet


def real_thread_primitives() -> None:
    """In an xdist worker (before the monkey patch), keep execnet's primitives real."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return
    from eventlet import patcher
    from execnet import gateway_base

    threading = patcher.original("threading")
    thread = patcher.original("_thread")
    main = thread.get_ident()

    class CrossThreadEvent:
        """Set and waited on from the worker's main thread and execnet's receiver thread."""

        def __init__(self) -> None:
            self._event = threading.Event()

        def set(self) -> None:
            self._event.set()

        def clear(self) -> None:
            self._event.clear()

        def is_set(self) -> bool:
            return self._event.is_set()

        def wait(self, timeout: float | None = None) -> bool:
            if thread.get_ident() != main:
                return self._event.wait(timeout)
            # a real wait would stop the hub, and every green thread a fixture left running
            waited = 0.0
            while not self._event.is_set():
                if timeout is not None and waited >= timeout:
                    return False
                eventlet.sleep(0.01)
                waited += 0.01
            return True

    model = gateway_base.MainThreadOnlyExecModel
    model.Lock = model.RLock = lambda self: threading.RLock()
    model.Event = lambda self: CrossThreadEvent()
