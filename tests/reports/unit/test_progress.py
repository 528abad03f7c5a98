import random
from datetime import timedelta

import pytest

from services.reports.domain import InMemoryStore, overview
from services.reports.domain.progress import (
    membership_changes,
    membership_changes_merged,
    membership_changes_of,
    population_band,
    progress,
)
from services.reports.handlers import project
from tests.reports.streams import at, joined, seeded_stream, withdrawn


def changes(*joins: str):
    return [(at(day), 1) for day in joins]


def test_pace_needed_spreads_what_remains_over_the_years_left_to_the_end_of_2030():
    result = progress([(at("2024-01-01T00:00:00"), 1)] * 120, at("2026-01-01T00:00:00"), None)
    # 880 members in 1826 days: the whole of 2026 to 2030.
    assert result.remaining == 880
    assert result.years_left == pytest.approx(1826 / 365.2425)
    assert result.pace_needed_per_year == pytest.approx(880 / (1826 / 365.2425))
    assert result.pace_so_far_per_year is None and result.on_track is None


def test_pace_so_far_is_members_per_year_since_the_campaign_started():
    start = at("2022-01-01T00:00:00")
    result = progress([(start, 1)] * 120, at("2024-01-01T00:00:00"), start)
    assert result.pace_so_far_per_year == pytest.approx(120 / (730 / 365.2425))
    assert result.on_track is False
    assert result.projected_at_deadline == round(120 + result.pace_so_far_per_year
                                                 * result.years_left)


def test_a_few_days_of_history_give_no_pace():
    start = at("2024-01-01T00:00:00")
    assert progress(changes("2024-01-02"), at("2024-01-20T00:00:00"), start)\
        .pace_so_far_per_year is None


def test_milestones_are_dated_when_first_reached_even_if_members_leave_later():
    joins = [(at(f"2023-01-{d:02d}T00:00:00"), 1) for d in range(1, 12)]
    leave = [(at("2023-02-01T00:00:00"), -1), (at("2023-02-02T00:00:00"), -1)]
    result = progress(sorted(joins + leave), at("2024-01-01T00:00:00"), joins[0][0])
    assert result.members == 9
    assert [m.reached_at for m in result.milestones] == [at("2023-01-10T00:00:00"), None, None]
    assert result.next_milestone == 100


def test_after_the_deadline_nothing_can_be_needed_any_more():
    result = progress(changes("2024-01-01"), at("2031-01-01T00:00:00"), at("2024-01-01T00:00:00"))
    assert result.years_left == 0 and result.pace_needed_per_year is None
    assert result.on_track is False


def test_the_goal_reached_needs_no_more_pace():
    result = progress([(at("2029-01-01T00:00:00"), 1)] * 1000, at("2029-06-01T00:00:00"), None)
    assert result.pace_needed_per_year == 0 and result.on_track is True
    assert all(m.reached for m in result.milestones)


@pytest.mark.parametrize(
    ("population", "band"),
    [(None, "unknown"), (1, "under_10k"), (9_999, "under_10k"), (10_000, "10k_100k"),
     (499_999, "100k_500k"), (500_000, "500k_1m"), (1_000_000, "1m_5m"),
     (5_000_000, "5m_and_more")],
)
def test_population_bands(population, band):
    assert population_band(population) == band


def test_overview_of_the_seeded_campaign():
    store = InMemoryStore()
    for event in seeded_stream():
        project(event, store)
    picture = overview(store, at("2024-01-08T08:00:00"))
    assert picture.progress.members == 13
    assert picture.members_by_wave == {"2": 8, "1": 5}
    assert sum(picture.members_by_region.values()) == 13
    assert picture.members_by_country["SN"] == 4
    assert picture.members_by_jurisdiction_type == {"municipality": 13}
    assert sum(picture.members_by_population_band.values()) == 13
    assert picture.members_by_theme["housing"] == 13
    statuses = {s: a.count for s, a in picture.applications_by_status.items()}
    assert statuses == {"received": 3, "waitlisted": 1, "under_review": 1, "accepted": 3,
                        "declined": 1}
    assert picture.decisions_by_month == {"2024-01": {"accepted": 2, "declined": 1}}
    assert [w["open"] for w in picture.waves] == [False, True]
    assert picture.series[-1] == (at("2024-01-05T00:00:00").date(), 13)


def test_membership_changes_count_a_withdrawal_as_a_departure():
    store = InMemoryStore()
    for event in (joined(1, "2023-01-01T00:00:00"), withdrawn(1, "2023-03-01T00:00:00")):
        project(event, store)
    assert [d for _, d in membership_changes(store.members(), at("2024-01-01T00:00:00"))] == [
        1, -1
    ]


@pytest.mark.parametrize("seed", range(6))
def test_joins_and_departures_merged_are_the_changes_sorted_as_pairs(seed):
    # What the database hands over (joins, and departures before the instant, each in order)
    # merged: the same list as every member's pair sorted, a departure at the instant of a
    # join first, members who joined at the same instant, or left at it, all counted.
    rng = random.Random(seed)
    until = at("2024-01-01T00:00:00")
    moments = [at("2023-01-01T00:00:00") + timedelta(hours=rng.randrange(24 * 400))
               for _ in range(60)]
    stays = []
    for _ in range(rng.choice([0, 1, 300])):
        joined_at = rng.choice(moments + [None])
        left_at = rng.choice([None, None, *moments]) if joined_at else None
        stays.append((joined_at, left_at))
    joins = [j for j, _left in stays if j is not None and j < until]
    departures = [left for j, left in stays
                  if j is not None and j < until and left is not None and left < until]
    rng.shuffle(joins)
    rng.shuffle(departures)
    assert membership_changes_merged(joins, departures) == membership_changes_of(stays, until)
