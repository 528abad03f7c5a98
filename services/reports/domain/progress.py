"""Progress toward 10, 100 and 1000 members by 2030, and the overview the reports show."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .readmodel import PENDING, STATUSES, ApplicationView, MemberView, ReadModelStore

GOAL = 1000
MILESTONES = (10, 100, 1000)
# "By 2030": the campaign counts the whole of 2030.
DEADLINE = datetime(2031, 1, 1, tzinfo=UTC)
YEAR = timedelta(days=365.2425)
# Below this much history, members per year is noise (three joins in a week are not 150 a year).
MIN_HISTORY = timedelta(days=30)

POPULATION_BANDS = (
    (10_000, "under_10k"),
    (100_000, "10k_100k"),
    (500_000, "100k_500k"),
    (1_000_000, "500k_1m"),
    (5_000_000, "1m_5m"),
)
TOP_POPULATION_BAND = "5m_and_more"
UNKNOWN = "unknown"


def population_band(population: int | None) -> str:
    if population is None:
        return UNKNOWN
    for bound, band in POPULATION_BANDS:
        if population < bound:
            return band
    return TOP_POPULATION_BAND


@dataclass(frozen=True)
class Milestone:
    target: int
    reached_at: datetime | None

    @property
    def reached(self) -> bool:
        return self.reached_at is not None


@dataclass(frozen=True)
class Progress:
    at: datetime
    members: int
    milestones: tuple[Milestone, ...]
    campaign_start: datetime | None
    pace_needed_per_year: float | None
    pace_so_far_per_year: float | None

    goal: int = GOAL
    deadline: datetime = DEADLINE

    @property
    def remaining(self) -> int:
        return max(self.goal - self.members, 0)

    @property
    def years_left(self) -> float:
        return max((self.deadline - self.at) / YEAR, 0.0)

    @property
    def next_milestone(self) -> int | None:
        return next((m.target for m in self.milestones if not m.reached), None)

    @property
    def projected_at_deadline(self) -> int | None:
        if self.pace_so_far_per_year is None:
            return None
        return round(self.members + self.pace_so_far_per_year * self.years_left)

    @property
    def on_track(self) -> bool | None:
        """None while there is too little history to tell."""
        if self.remaining == 0:
            return True
        if self.pace_needed_per_year is None:
            return False
        if self.pace_so_far_per_year is None:
            return None
        return self.pace_so_far_per_year >= self.pace_needed_per_year


def membership_changes(
    members: Iterable[MemberView], until: datetime
) -> list[tuple[datetime, int]]:
    """Every join (+1) and departure (-1) before ``until``, in time order."""
    return membership_changes_of(((m.joined_at, m.left_at) for m in members), until)


def membership_changes_of(
    stays: Iterable[tuple[datetime | None, datetime | None]], until: datetime
) -> list[tuple[datetime, int]]:
    """``membership_changes`` from each member's (joined_at, left_at) alone."""
    changes = []
    for joined_at, left_at in stays:
        if joined_at is None or joined_at >= until:
            continue
        changes.append((joined_at, 1))
        if left_at is not None and left_at < until:
            changes.append((left_at, -1))
    changes.sort()
    return changes


def membership_changes_merged(
    joins: list[datetime], departures: list[datetime]
) -> list[tuple[datetime, int]]:
    """``membership_changes`` from the instants of the joins and of the departures before
    ``until`` (of members who joined before it), merged in one pass instead of sorted as pairs:
    a departure at the instant of a join comes first, as (instant, -1) sorts before
    (instant, +1). Each list is sorted here, which costs next to nothing when a database
    handed it over in order."""
    joins.sort()
    departures.sort()
    if not departures:
        return [(joined_at, 1) for joined_at in joins]
    changes: list[tuple[datetime, int]] = []
    pending = iter(departures)
    departure = next(pending)
    for joined_at in joins:
        while departure is not None and departure <= joined_at:
            changes.append((departure, -1))
            departure = next(pending, None)
        changes.append((joined_at, 1))
    if departure is not None:
        changes.append((departure, -1))
        changes.extend((left_at, -1) for left_at in pending)
    return changes


def members_over_time(changes: list[tuple[datetime, int]]) -> list[tuple[date, int]]:
    """Members at the end of each day that saw a change."""
    series: list[tuple[date, int]] = []
    count = 0
    for moment, delta in changes:
        count += delta
        day = moment.date()
        if series and series[-1][0] == day:
            series[-1] = (day, count)
        else:
            series.append((day, count))
    return series


def progress(
    changes: list[tuple[datetime, int]], at: datetime, campaign_start: datetime | None
) -> Progress:
    reached: dict[int, datetime] = {}
    count = 0
    for moment, delta in changes:
        count += delta
        for target in MILESTONES:
            if count >= target and target not in reached:
                reached[target] = moment
    remaining = max(GOAL - count, 0)
    time_left = DEADLINE - at
    if remaining == 0:
        needed: float | None = 0.0
    elif time_left > timedelta(0):
        needed = remaining / (time_left / YEAR)
    else:
        needed = None
    so_far = None
    if campaign_start is not None and at - campaign_start >= MIN_HISTORY:
        so_far = count / ((at - campaign_start) / YEAR)
    return Progress(
        at=at,
        members=count,
        milestones=tuple(Milestone(t, reached.get(t)) for t in MILESTONES),
        campaign_start=campaign_start,
        pace_needed_per_year=needed,
        pace_so_far_per_year=so_far,
    )


@dataclass(frozen=True)
class StatusAge:
    count: int
    average_days: float
    oldest_days: float


@dataclass(frozen=True)
class Overview:
    """The campaign just before ``at``: what the progress report and a digest's totals show.

    Members and decisions are counted as they stood then; applications filed before ``at``
    appear in their latest known status (the read model keeps no status history).
    """

    at: datetime
    progress: Progress
    series: list[tuple[date, int]]
    members_by_wave: dict[str, int]
    members_by_region: dict[str, int]
    members_by_country: dict[str, int]
    members_by_jurisdiction_type: dict[str, int]
    members_by_population_band: dict[str, int]
    members_by_theme: dict[str, int]
    applications_by_status: dict[str, StatusAge]
    decisions_by_month: dict[str, dict[str, int]]
    waves: list[dict]


@dataclass(frozen=True)
class ActiveMembers:
    """The members active at an instant, counted by each breakdown's raw value (a wave number,
    a region, ... or None): what an overview is made of, counted wherever the model lives (in
    memory here, in SQL by the service's database, which reads no member row for it)."""

    by_wave: Counter
    by_region: Counter
    by_country: Counter
    by_jurisdiction_type: Counter
    by_population_band: Counter
    by_theme: Counter

    @classmethod
    def of(cls, active: list[MemberView]) -> ActiveMembers:
        return cls(
            by_wave=Counter(m.wave for m in active),
            by_region=Counter(m.region for m in active),
            by_country=Counter(m.country for m in active),
            by_jurisdiction_type=Counter(m.jurisdiction_type for m in active),
            by_population_band=Counter(population_band(m.population) for m in active),
            by_theme=Counter(theme for m in active for theme in m.themes),
        )


def overview(store: ReadModelStore, at: datetime) -> Overview:
    members = list(store.members())
    return overview_of(
        at,
        changes=membership_changes(members, at),
        campaign_start=campaign_start(members, store.waves()),
        active=ActiveMembers.of([m for m in members if m.active_at(at)]),
        applications_by_status=applications_by_status(store.applications(), at),
        decisions_by_month=decisions_by_month(store, at),
        waves=store.waves(),
    )


def overview_of(
    at: datetime,
    *,
    changes: list[tuple[datetime, int]],
    campaign_start: datetime | None,
    active: ActiveMembers,
    applications_by_status: dict[str, StatusAge],
    decisions_by_month: dict[str, dict[str, int]],
    waves: Iterable,
) -> Overview:
    """The overview from its counted parts (see ``overview`` for them counted in memory)."""
    return Overview(
        at=at,
        progress=progress(changes, at, campaign_start),
        series=members_over_time(changes),
        members_by_wave=_labelled(
            active.by_wave, lambda wave: str(wave) if wave is not None else UNKNOWN),
        members_by_region=_labelled(active.by_region, lambda key: key or UNKNOWN),
        members_by_country=_labelled(active.by_country, lambda key: key or UNKNOWN),
        members_by_jurisdiction_type=_labelled(active.by_jurisdiction_type,
                                               lambda key: key or UNKNOWN),
        members_by_population_band=_labelled(active.by_population_band, lambda key: key),
        members_by_theme=_labelled(active.by_theme, lambda key: key),
        applications_by_status=applications_by_status,
        decisions_by_month=decisions_by_month,
        waves=[
            {
                "number": w.number,
                "name": w.name,
                "theme": w.theme,
                "open": w.is_open,
                "members": active.by_wave.get(w.number, 0),
            }
            for w in sorted(waves, key=lambda w: w.number)
        ],
    )


def campaign_start(members: Iterable[MemberView], waves: Iterable) -> datetime | None:
    moments = [m.joined_at for m in members if m.joined_at is not None]
    moments += [w.opens_at for w in waves if w.opens_at is not None]
    return min(moments, default=None)


def applications_by_status(
    applications: Iterable[ApplicationView], at: datetime
) -> dict[str, StatusAge]:
    ages: dict[str, list[float]] = {}
    for application in applications:
        since = application.since
        if application.status is None or since is None or since >= at:
            continue
        ages.setdefault(application.status, []).append((at - since) / timedelta(days=1))
    return {
        status: StatusAge(len(days), sum(days) / len(days), max(days))
        for status in STATUSES
        if (days := ages.get(status))
    }


def pending_count(by_status: dict[str, StatusAge]) -> int:
    return sum(by_status[s].count for s in PENDING if s in by_status)


def decisions_by_month(store: ReadModelStore, at: datetime) -> dict[str, dict[str, int]]:
    return decisions_by_month_of(Counter(
        (d.decided_at.year, d.decided_at.month, d.outcome)
        for d in store.decisions()
        if d.decided_at < at
    ))


def decisions_by_month_of(months: Counter) -> dict[str, dict[str, int]]:
    """Decisions counted by (year, month, outcome), as the reports show them."""
    by_month: dict[str, dict[str, int]] = {}
    for (year, month, outcome), count in sorted(months.items()):
        by_month.setdefault(f"{year:04d}-{month:02d}", {"accepted": 0, "declined": 0})[
            outcome] = count
    return by_month


def _labelled(counts: Counter, label: Callable[[Any], str]) -> dict[str, int]:
    """Raw values' counts under their labels, most first (several values may share a label:
    None and "" are both unknown)."""
    labelled: Counter[str] = Counter()
    for key, count in counts.items():
        labelled[label(key)] += count
    return dict(sorted(labelled.items(), key=lambda item: (-item[1], item[0])))
