"""Scheduled digests: each period once, after downtime and with two processes racing."""
import base64
from datetime import timedelta

import eventlet
import pytest
from sqlalchemy import func, select

from services.reports import db
from services.reports.domain import DigestSchedule, Period
from services.reports.handlers import inbox_handlers
from services.reports.reporting import SCHEDULE_START, DigestDesk, DigestSettings
from services.reports.service import MIGRATIONS
from shared import inbox
from shared.db import Database, migrate
from shared.events import parse_event
from shared.inbox import InboxProcessor
from shared.outbox import OutboxRow
from tests.reports.integration.test_read_model import feed
from tests.reports.streams import PERIOD_END, PERIOD_START, at, seeded_stream

WEEKLY = DigestSettings(DigestSchedule("0 8 * * MON"), "fr", ("staff@example.org",))


def ready_events(database) -> list:
    with database.transaction() as session:
        rows = session.scalars(select(OutboxRow).where(OutboxRow.type == "digest.ready")
                               .order_by(OutboxRow.id))
        return [parse_event(row.payload) for row in rows]


def test_a_new_installation_starts_its_schedule_without_mailing_the_past(database):
    desk = DigestDesk(database, WEEKLY)
    assert desk.deliver_due(at("2024-01-10T09:00:00")) == []
    assert ready_events(database) == []
    with database.transaction() as session:
        assert db.deliveries(session, not_sent=SCHEDULE_START) == []  # nothing was mailed
        assert len(db.deliveries(session)) == 1  # the row that marks the past as past
    # The first digest is the first full period after the installation.
    assert desk.deliver_due(at("2024-01-15T09:00:00")) == [
        Period(at("2024-01-08T08:00:00"), at("2024-01-15T08:00:00"))
    ]
    assert len(ready_events(database)) == 1
    with database.transaction() as session:
        [sent] = db.deliveries(session, not_sent=SCHEDULE_START)
    assert sent["period"]["start"].startswith("2024-01-08")


def test_a_period_is_delivered_with_its_content(database):
    feed(database, seeded_stream())
    desk = DigestDesk(database, WEEKLY)
    assert desk.deliver_due(at(PERIOD_START) + timedelta(hours=1)) == []  # schedule starts
    assert desk.deliver_due(at("2024-01-08T09:00:00")) == [
        Period(at(PERIOD_START), at(PERIOD_END))
    ]
    (event,) = ready_events(database)
    assert event.data["recipients"] == ["staff@example.org"]
    assert event.data["language"] == "fr"
    assert "Nouvelles candidatures : 3" in event.data["text"]
    png = next(a for a in event.data["attachments"] if a["content_type"] == "image/png")
    assert base64.b64decode(png["content_base64"])[:4] == b"\x89PNG"
    assert desk.deliver_due(at("2024-01-08T10:00:00")) == []


def test_after_downtime_every_missed_period_is_delivered_once(database):
    desk = DigestDesk(database, WEEKLY)
    desk.deliver_due(at("2024-01-02T00:00:00"))
    # Down from 2 January to 30 January: three Mondays missed.
    caught_up = desk.deliver_due(at("2024-01-30T00:00:00"))
    assert [p.end for p in caught_up] == [at("2024-01-08T08:00:00"), at("2024-01-15T08:00:00"),
                                          at("2024-01-22T08:00:00"), at("2024-01-29T08:00:00")]
    # A restarted process (a new desk on the same database) has nothing left to do.
    assert DigestDesk(database, WEEKLY).deliver_due(at("2024-01-30T00:00:00")) == []
    periods = [(e.data["period"]["start"], e.data["period"]["end"]) for e in ready_events(database)]
    assert len(periods) == len(set(periods)) == 4
    assert all(a[1] == b[0] for a, b in zip(periods, periods[1:], strict=False))


def test_a_period_claimed_by_another_process_is_not_sent_again(database):
    desk = DigestDesk(database, WEEKLY)
    period = Period(at(PERIOD_START), at(PERIOD_END))
    with database.transaction() as session:
        assert db.claim_period(session, WEEKLY.digest, period, "elsewhere", at(PERIOD_END))
    with database.transaction() as session:
        assert not db.claim_period(session, WEEKLY.digest, period, "again", at(PERIOD_END))
    assert desk.deliver_due(at("2024-01-08T09:00:00")) == []
    assert ready_events(database) == []


def test_an_on_demand_digest_goes_out_whenever_asked(database):
    feed(database, seeded_stream())
    desk = DigestDesk(database, WEEKLY)
    period = Period(at(PERIOD_START), at(PERIOD_END))
    first, second = desk.send_now(period, "es"), desk.send_now(period, "en")
    assert first != second
    events = ready_events(database)
    assert [e.data["digest"] for e in events] == ["on-demand", "on-demand"]
    assert "Nuevas solicitudes: 3" in events[0].data["text"]
    with database.transaction() as session:
        assert db.deliveries(session) == []


@pytest.mark.real
def test_two_processes_racing_deliver_each_period_exactly_once(postgres):
    url = postgres("reports").url
    migrate(url, MIGRATIONS)
    feed(Database(url), seeded_stream())
    hourly = DigestSettings(DigestSchedule("0 * * * *"), "en", ("staff@example.org",))
    # Two engines, two connection pools: as two processes, they share nothing but PostgreSQL.
    desks = [DigestDesk(Database(url), hourly) for _ in range(2)]
    start = at("2024-01-08T00:00:00")
    with desks[0].database.transaction() as session:
        db.claim_period(session, hourly.digest, Period(at("2024-01-07T23:00:00"), start),
                        "seed", start)
    delivered: list[list[Period]] = [[], []]

    def run(index: int) -> None:
        # Both tick every "minute" of a simulated day, with downtime-sized jumps in between.
        for minutes in range(0, 24 * 60, 37):
            now = start.replace(hour=minutes // 60, minute=minutes % 60)
            delivered[index] += desks[index].deliver_due(now)
            eventlet.sleep(0)

    threads = [eventlet.spawn(run, i) for i in range(2)]
    for thread in threads:
        thread.wait()
    assert delivered[0] and delivered[1], "both processes should have won some periods"
    together = sorted(delivered[0] + delivered[1])
    assert len(together) == len(set(together))
    with desks[0].database.transaction() as session:
        claimed = session.scalar(select(func.count()).select_from(db.DigestDelivery))
    events = ready_events(desks[0].database)
    # The seeded claim, then 23 hourly periods ending 01:00 ... 23:00; one event each.
    assert claimed == 24 and len(events) == len(together) == 23
    assert len({e.data["period"]["start"] for e in events}) == 23


def test_nothing_is_delivered_while_the_read_model_is_behind(database):
    late = seeded_stream()
    feed(database, late[:-5])
    desk = DigestDesk(database, WEEKLY)
    assert desk.deliver_due(at("2024-01-01T09:00:00")) == []  # the schedule starts
    for event in late[-5:]:
        assert inbox.store(database, event.as_message())
    assert desk.deliver_due(at("2024-01-08T09:00:00")) == []
    while InboxProcessor(database, inbox_handlers({})).process_due():
        pass
    assert len(desk.deliver_due(at("2024-01-08T09:00:00"))) == 1


def test_a_period_is_delivered_once_it_has_settled(database):
    settling = DigestSettings(DigestSchedule("0 8 * * MON"), "en", ("staff@example.org",),
                              settle=timedelta(minutes=5))
    desk = DigestDesk(database, settling)
    assert desk.deliver_due(at("2024-01-08T08:04:59")) == []  # starts after 1 January's period
    assert desk.deliver_due(at("2024-01-08T08:04:59")) == []
    assert desk.deliver_due(at("2024-01-08T08:05:00")) == [
        Period(at("2024-01-01T08:00:00"), at("2024-01-08T08:00:00"))
    ]
