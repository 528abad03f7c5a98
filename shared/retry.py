"""Exponential backoff, for anything that waits on a broker, a mail server or a fix: how long to
wait after each failed attempt, and after how many to give up.

One policy type for every queue of work rows (the relay, the inbox, notify's mail) and every
loop; each keeps its own numbers: the relay and the inbox jitter their waits so replicas that
failed together do not retry together, notify's mail waits exactly (30 s, 1 min, 2 min ...).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.clock import utcnow


@dataclass(frozen=True)
class Backoff:
    """``base_seconds``, twice that, four times ... up to ``max_seconds``, each shortened by up
    to ``jitter`` (a fraction); ``max_attempts`` tries in all (None: never give up)."""

    base_seconds: float = 1.0
    max_seconds: float = 300.0
    jitter: float = 0.2
    max_attempts: int | None = None

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the ``attempt``-th failure (1-based)."""
        # 2**40 times any base is past any cap; a larger power would overflow a float.
        exponent = min(max(attempt - 1, 0), 40)
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** exponent)
        if not self.jitter:
            return ceiling
        return ceiling * (1.0 - self.jitter + self.jitter * random.random())

    def next_attempt(self, attempt: int, now: datetime | None = None) -> datetime:
        return (now or utcnow()) + timedelta(seconds=self.delay(attempt))

    def exhausted(self, attempts: int) -> bool:
        """True once ``attempts`` tries have failed and no more are allowed."""
        return self.max_attempts is not None and attempts >= self.max_attempts
