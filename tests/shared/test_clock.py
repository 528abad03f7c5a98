"""One reading of the clock and one conversion each way between the tables' naive UTC and the
rules' aware UTC (shared.clock)."""
from datetime import UTC, datetime, timedelta, timezone

from shared import clock

PARIS_SUMMER = timezone(timedelta(hours=2))


def test_the_tables_store_naive_utc():
    noon_in_paris = datetime(2024, 6, 1, 12, tzinfo=PARIS_SUMMER)
    assert clock.naive_utc(noon_in_paris) == datetime(2024, 6, 1, 10)
    assert clock.naive_utc(datetime(2024, 6, 1, 10)) == datetime(2024, 6, 1, 10)
    assert clock.naive_utc(None) is None
    assert clock.utcnow().tzinfo is None and clock.now().tzinfo is UTC


def test_the_rules_speak_aware_utc_and_a_naive_moment_is_utc():
    assert clock.aware_utc(datetime(2024, 6, 1, 10)) == datetime(2024, 6, 1, 10, tzinfo=UTC)
    moved = clock.aware_utc(datetime(2024, 6, 1, 12, tzinfo=PARIS_SUMMER))
    assert moved.tzinfo is UTC and moved.hour == 10
    assert clock.aware_utc(None) is None


def test_an_instant_is_parsed_into_aware_utc():
    assert clock.parse_instant("2024-06-01T12:00:00+02:00") == datetime(2024, 6, 1, 10,
                                                                       tzinfo=UTC)
    assert clock.parse_instant("2024-06-01T10:00:00").tzinfo is UTC
    assert clock.parse_instant("") is None and clock.parse_instant(None) is None
