"""Exponential backoff with jitter, for anything that waits on a broker, a mail server or a fix."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.clock import utcnow


@dataclass(frozen=True)
class Backoff:
    base_seconds: float = 1.0
    max_seconds: float = 300.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the ``attempt``-th failure (1-based), with up to 20 % jitter."""
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** max(attempt - 1, 0))
        return ceiling * (0.8 + 0.2 * random.random())

    def next_attempt(self, attempt: int, now: datetime | None = None) -> datetime:
        return (now or utcnow()) + timedelta(seconds=self.delay(attempt))
