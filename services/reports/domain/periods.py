"""Digest periods: the cron schedule cut into [start, end) periods, in UTC."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from croniter import croniter

from shared.clock import parse_instant

from .errors import InvalidPeriod, InvalidSchedule


@dataclass(frozen=True, order=True)
class Period:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise InvalidPeriod("a period's bounds are UTC instants with a time zone")
        if self.start >= self.end:
            raise InvalidPeriod("a period ends after it starts")

    @classmethod
    def parse(cls, start: str, end: str) -> Period:
        try:
            return cls(parse_instant(start), parse_instant(end))
        except (TypeError, ValueError) as exc:
            raise InvalidPeriod(f"not an ISO 8601 instant: {exc}") from exc

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


class DigestSchedule:
    """A cron expression read in UTC; each fire time closes one period and opens the next."""

    def __init__(self, expression: str):
        if not isinstance(expression, str) or not croniter.is_valid(expression):
            raise InvalidSchedule(f"not a cron expression: {expression!r}")
        self.expression = expression

    def fire_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after ``moment``."""
        return croniter(self.expression, moment.astimezone(UTC)).get_next(datetime)

    def last_fire(self, now: datetime) -> datetime:
        """The latest fire time at or before ``now``."""
        fire = croniter(self.expression, now.astimezone(UTC)).get_prev(datetime)
        following = self.fire_after(fire)
        return following if following <= now else fire

    def latest_period(self, now: datetime) -> Period:
        """The last period that has ended by ``now`` (a period ending exactly at now has)."""
        end = self.last_fire(now)
        start = croniter(self.expression, end).get_prev(datetime)
        return Period(start, end)

    def due(self, last_end: datetime | None, now: datetime, limit: int = 100) -> list[Period]:
        """The periods to deliver, oldest first: each period since ``last_end`` that has ended.

        With nothing delivered yet, only the latest ended period is due (the service logs it
        as its starting point instead of sending it: see DigestDesk). Periods chain from
        ``last_end`` even when the schedule has changed since, so no instant falls between two
        digests. ``limit`` bounds
        one call after a long downtime; the rest are due on the next call.
        """
        if last_end is None:
            return [self.latest_period(now)]
        periods: list[Period] = []
        start = last_end
        while len(periods) < limit:
            end = self.fire_after(start)
            if end > now:
                break
            periods.append(Period(start, end))
            start = end
        return periods
