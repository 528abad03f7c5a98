"""The digest and the overview as the service makes them, counted by the database (GROUP BY,
only the rows a digest lists), equal the same made from the whole model in memory."""
import random
from dataclasses import replace

import pytest

from services.reports import db
from services.reports.domain import InMemoryStore, Period, build_digest, overview
from services.reports.domain.digest import digest_of
from services.reports.domain.progress import overview_of
from services.reports.handlers import project
from services.reports.reporting import campaign_overview
from tests.reports.integration.test_read_model import feed
from tests.reports.streams import (
    PERIOD_END,
    PERIOD_START,
    at,
    joined,
    received,
    seeded_stream,
    step,
    withdrawn,
)


def campaign() -> list:
    """The seeded week, and members and applications whose breakdowns are unknown or odd."""
    rng = random.Random(11)
    events = seeded_stream()
    for n in range(200, 240):
        day = f"2023-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:00:00"
        events.append(joined(n, day, wave=1 + n % 3, region=rng.choice(["Europe", "Africa", ""]),
                             country=rng.choice(["FR", "MX"]),
                             population=rng.choice([9_999, 10_000, 700_000, 6_000_000]),
                             themes=rng.sample(["housing", "culture", "food", "peace"], 2)))
        if n % 7 == 0:
            events.append(withdrawn(n, f"2023-12-{1 + n % 28:02d}T00:00:00"))
        reference = f"R-{n:04d}"
        events.append(received(reference, day))
        if n % 3 == 0:
            events.append(step("application.under_review", reference, n, day))
        if n % 5 == 0:
            events.append(step("application.declined", reference, n, "2024-01-02T00:00:00"))
    rng.shuffle(events)
    return events


def comparable(picture):
    # The database averages instants in floating point: the same ages to the microsecond.
    return replace(picture, applications_by_status={
        status: replace(age, average_days=round(age.average_days, 6),
                        oldest_days=round(age.oldest_days, 6))
        for status, age in picture.applications_by_status.items()})


@pytest.fixture
def fed(database):
    events = campaign()
    feed(database, events)
    pure = InMemoryStore()
    for event in events:
        project(event, pure)
    return database, pure


@pytest.mark.parametrize("moment", [PERIOD_END, "2023-06-01T10:00:00", "2021-01-01T00:00:00",
                                    "2023-12-07T00:00:00"])
def test_the_overview_counted_by_the_database_is_the_one_counted_in_memory(fed, moment):
    database, pure = fed
    assert comparable(campaign_overview(database, at=at(moment))) == comparable(
        overview(pure, at(moment)))


@pytest.mark.parametrize(("start", "end", "sent"), [
    (PERIOD_START, PERIOD_END, PERIOD_END),
    # Sent before its end: ages and totals at the sending.
    (PERIOD_START, PERIOD_END, "2024-01-04T12:00:00"),
    ("2023-11-27T08:00:00", "2023-12-04T08:00:00", "2023-12-04T08:00:00"),
])
def test_the_digest_from_the_rows_the_database_chose_is_the_one_from_the_whole_model(
        fed, start, end, sent):
    database, pure = fed
    period, moment = Period(at(start), at(end)), at(sent)
    with database.transaction() as session:
        candidates = db.digest_candidates(session, period, moment)
        parts = db.overview_parts(session, moment)
    counted = digest_of(period, moment, "campaign", **candidates,
                        overview=overview_of(moment, **parts))
    whole = build_digest(pure, period, "campaign", sent_at=moment)
    assert comparable(counted.overview) == comparable(whole.overview)
    assert replace(counted, overview=None) == replace(whole, overview=None)
    assert whole.waiting and (whole.decisions or start != PERIOD_START)


def test_an_empty_read_model_counts_nothing(database):
    picture = campaign_overview(database, at=at(PERIOD_END))
    assert picture.progress.members == 0 and picture.series == []
    assert picture.members_by_theme == {} and picture.applications_by_status == {}
    assert picture == overview(InMemoryStore(), at(PERIOD_END))
