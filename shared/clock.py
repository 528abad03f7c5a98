"""Time in UTC, for every service: one reading of the clock and one conversion each way.

The tables store naive datetimes that mean UTC (SQLite keeps no zone, and a PostgreSQL
``timestamp without time zone`` neither); the rules and the events speak aware UTC. A naive
value is always taken as UTC, never as the machine's local time.
"""
from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """This moment, aware, in UTC."""
    return datetime.now(UTC)


def utcnow() -> datetime:
    """This moment as the tables store it: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def naive_utc(moment: datetime | None) -> datetime | None:
    """A moment as the tables store it (a naive one is already that)."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def aware_utc(moment: datetime | None) -> datetime | None:
    """A moment as the rules speak it: aware, in UTC (a naive one is taken as UTC)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_instant(value: str | datetime | None) -> datetime | None:
    """An ISO 8601 instant (or a datetime) as an aware UTC datetime; empty is None."""
    if value is None or value == "":
        return None
    return aware_utc(value if isinstance(value, datetime) else datetime.fromisoformat(value))
