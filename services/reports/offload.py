"""CPU work off the eventlet hub: in an OS thread (eventlet.tpool), one job at a time.

One at a time because monkey_patch turned the threading locks that matplotlib, jinja2 and
logging take into green locks, and two OS threads contending for a green lock hang the whole
process (two charts drawn at once in tpool did, every time). A green semaphore taken on the
hub, before the job leaves it, keeps the OS threads from ever meeting on such a lock.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from eventlet import tpool
from eventlet.semaphore import Semaphore

T = TypeVar("T")

_one_at_a_time = Semaphore(1)


def in_thread(function: Callable[..., T], *args: Any) -> T:
    with _one_at_a_time:
        return tpool.execute(function, *args)
