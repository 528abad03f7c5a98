import itertools
from datetime import timedelta

import pytest

from services.reports.domain import DigestSchedule, InvalidPeriod, InvalidSchedule, Period
from tests.reports.streams import at

WEEKLY = DigestSchedule("0 8 * * MON")


def test_a_period_that_ends_exactly_now_is_due():
    now = at("2024-01-08T08:00:00")
    assert WEEKLY.due(at("2024-01-01T08:00:00"), now) == [
        Period(at("2024-01-01T08:00:00"), now)
    ]


def test_a_period_that_ends_a_second_from_now_is_not_due_yet():
    assert WEEKLY.due(at("2024-01-01T08:00:00"), at("2024-01-08T07:59:59")) == []


def test_the_first_run_delivers_only_the_latest_ended_period():
    assert WEEKLY.due(None, at("2024-01-10T12:00:00")) == [
        Period(at("2024-01-01T08:00:00"), at("2024-01-08T08:00:00"))
    ]
    assert WEEKLY.due(None, at("2024-01-08T08:00:00")) == [
        Period(at("2024-01-01T08:00:00"), at("2024-01-08T08:00:00"))
    ]


def test_after_downtime_each_missed_period_is_due_once_in_order():
    last_end = at("2024-01-01T08:00:00")
    now = at("2024-01-25T09:00:00")
    periods = WEEKLY.due(last_end, now)
    assert [p.end for p in periods] == [
        at("2024-01-08T08:00:00"), at("2024-01-15T08:00:00"), at("2024-01-22T08:00:00")
    ]
    assert periods[0].start == last_end
    assert all(a.end == b.start for a, b in itertools.pairwise(periods))
    assert WEEKLY.due(periods[-1].end, now) == []


def test_a_scheduler_catching_up_delivers_every_period_once_and_leaves_no_gap():
    delivered: list[Period] = []
    last_end = None
    # Ticks every six hours for eight weeks, with a fortnight of downtime in the middle.
    now = at("2024-01-01T00:00:00")
    while now < at("2024-02-26T00:00:00"):
        if not at("2024-01-20T00:00:00") <= now < at("2024-02-03T00:00:00"):
            for period in WEEKLY.due(last_end, now):
                delivered.append(period)
                last_end = period.end
        now += timedelta(hours=6)
    assert len(delivered) == len(set(delivered)) == 9
    assert all(a.end == b.start for a, b in itertools.pairwise(delivered))
    assert delivered[-1].end == at("2024-02-19T08:00:00")


def test_monthly_periods_follow_month_ends_through_a_leap_february():
    monthly = DigestSchedule("0 0 1 * *")
    periods = monthly.due(at("2024-01-01T00:00:00"), at("2024-04-01T00:00:00"))
    assert [(p.start.date().isoformat(), p.end.date().isoformat()) for p in periods] == [
        ("2024-01-01", "2024-02-01"), ("2024-02-01", "2024-03-01"), ("2024-03-01", "2024-04-01")
    ]
    assert periods[1].end - periods[1].start == timedelta(days=29)


def test_last_day_of_month_schedule():
    last_day = DigestSchedule("0 0 L * *")
    periods = last_day.due(at("2023-12-31T00:00:00"), at("2024-03-31T00:00:00"))
    assert [p.end.date().isoformat() for p in periods] == ["2024-01-31", "2024-02-29", "2024-03-31"]


def test_a_schedule_on_the_twenty_ninth_of_february_spans_four_years():
    leap = DigestSchedule("0 0 29 2 *")
    assert leap.latest_period(at("2025-06-01T00:00:00")) == Period(
        at("2020-02-29T00:00:00"), at("2024-02-29T00:00:00")
    )


def test_a_new_schedule_continues_from_the_last_delivered_end():
    daily = DigestSchedule("0 6 * * *")
    periods = daily.due(at("2024-01-01T08:00:00"), at("2024-01-03T06:00:00"))
    assert periods == [
        Period(at("2024-01-01T08:00:00"), at("2024-01-02T06:00:00")),
        Period(at("2024-01-02T06:00:00"), at("2024-01-03T06:00:00")),
    ]


def test_one_call_catches_up_at_most_limit_periods_and_the_next_call_the_rest():
    hourly = DigestSchedule("0 * * * *")
    first = hourly.due(at("2024-01-01T00:00:00"), at("2024-01-02T00:00:00"), limit=10)
    assert len(first) == 10
    rest = hourly.due(first[-1].end, at("2024-01-02T00:00:00"), limit=100)
    assert len(rest) == 14 and rest[0].start == first[-1].end


def test_the_schedule_is_read_in_utc_whatever_the_offset_of_now():
    from datetime import timezone

    paris_winter = timezone(timedelta(hours=1))
    now = at("2024-01-08T08:30:00").astimezone(paris_winter)
    assert WEEKLY.latest_period(now).end == at("2024-01-08T08:00:00")


@pytest.mark.parametrize("expression", ["", "every monday", "61 8 * * MON", None])
def test_a_malformed_schedule_is_refused(expression):
    with pytest.raises(InvalidSchedule):
        DigestSchedule(expression)


def test_a_period_ends_after_it_starts():
    with pytest.raises(InvalidPeriod):
        Period(at("2024-01-08T00:00:00"), at("2024-01-08T00:00:00"))
    with pytest.raises(InvalidPeriod):
        Period.parse("2024-01-08", "yesterday")
    assert Period.parse("2024-01-01", "2024-01-08").start == at("2024-01-01T00:00:00")
