"""How fast reports projects events and builds digests.

    .venv/bin/python -m bench.reports_bench [--events 1000000] [--members 100000]
        [--inbox-events 1000000] [--incremental-events 20000] [--postgresql URL]
        [--skip-rebuild] [--only projection|incremental|rebuild|digest]

Targets (issue 6): at least 5,000 events/s of projection, and a digest over 100,000 members
in under 3 s. Measured:
1. the projection itself (the domain, in memory) over --events synthetic events;
2. the live path: events stored in the inbox, then processed by the shared inbox processor
   (a batch per transaction, bookkeeping), as the service runs it (``INBOX_OPTIONS``);
3. a rebuild: --inbox-events stored in the inbox, replayed into fresh read-model tables;
4. a digest (content, HTML, text, CSV, chart PNG) over --members members, from memory and
   from the database (the read model copied out first, as the service does).
"""
import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import gc  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

from sqlalchemy import insert  # noqa: E402

from services.reports import db  # noqa: E402
from services.reports.domain import (  # noqa: E402
    DigestSchedule,  # noqa: E402
    InMemoryStore,
    Period,
)
from services.reports.handlers import INBOX_OPTIONS, inbox_handlers, project  # noqa: E402
from services.reports.reporting import (  # noqa: E402
    DigestDesk,
    DigestSettings,
    compose_digest,
    rebuild,
)
from services.reports.service import MIGRATIONS  # noqa: E402
from shared import db as shared_db  # noqa: E402
from shared import inbox  # noqa: E402
from shared.events import JURISDICTION_TYPES, THEMES, Event  # noqa: E402
from shared.inbox import DONE, InboxProcessor, InboxRow  # noqa: E402

START = datetime(2022, 3, 1, tzinfo=UTC)
REGIONS = ("Africa", "Asia-Pacific", "Eurasia", "Europe", "Latin America",
           "Middle East and West Asia", "North America")
COUNTRIES = ("FR", "ES", "BR", "SN", "KR", "MX", "ZA", "IN", "TR", "CA", "AR", "MA")


def synthetic_events(count: int, seed: int = 1) -> Iterator[Event]:
    """A campaign's stream: each application is received, reviewed, mostly decided, and an
    accepted one joins; a few members withdraw. About 4 events per application."""
    rng = random.Random(seed)
    produced = 0
    number = 0
    span = (datetime(2026, 11, 1, tzinfo=UTC) - START).total_seconds()
    while produced < count:
        number += 1
        reference = f"HRC-{number:08d}"
        at = START + timedelta(seconds=rng.random() * span)
        steps = [_received(reference, at, rng)]
        at += timedelta(days=rng.randint(1, 20))
        steps.append(_event("application.under_review", at, {
            "application_id": number, "reference": reference, "wave": 1 + number % 4,
            "possible_duplicates": []}))
        fate = rng.random()
        at += timedelta(days=rng.randint(1, 30))
        if fate < 0.6:
            steps.append(_event("application.accepted", at, {
                "application_id": number, "reference": reference, "member_id": number,
                "wave": 1 + number % 4}))
            steps.append(_joined(number, reference, at, rng))
            if fate < 0.03:
                steps.append(_event("member.withdrawn", at + timedelta(days=200),
                                    {"member_id": number, "reason": None}))
        elif fate < 0.8:
            steps.append(_event("application.declined", at, {
                "application_id": number, "reference": reference, "reason": "out of scope"}))
        yield from steps[: count - produced]
        produced += min(len(steps), count - produced)


def _event(type_: str, at: datetime, data: dict) -> Event:
    return Event(str(uuid.uuid4()), type_, at.isoformat(), 1, data)


def _received(reference: str, at: datetime, rng: random.Random) -> Event:
    return _event("application.received", at, {
        "reference": reference, "language": "fr", "submitted_at": at.isoformat(),
        "government_name": f"Ville {reference}", "country": rng.choice(COUNTRIES),
        "jurisdiction_type": rng.choice(JURISDICTION_TYPES),
        "population": rng.randint(1_000, 10_000_000), "website": None,
        "authority_name": "Maire", "authority_title": "Maire", "contact_name": "Contact",
        "contact_position": "Chargée de mission", "contact_email": "contact@example.org",
        "contact_phone": None, "themes": rng.sample(THEMES, 2),
        "commitment": "Nous nous engageons pour les droits humains.", "frameworks": None,
        "consent": True})


def _joined(member_id: int, reference: str, at: datetime, rng: random.Random) -> Event:
    return _event("member.joined", at, {
        "member_id": member_id, "wave": 1 + member_id % 4, "government_name": f"Ville {reference}",
        "country": rng.choice(COUNTRIES), "region": rng.choice(REGIONS), "application_id": None,
        "reference": reference, "jurisdiction_type": rng.choice(JURISDICTION_TYPES),
        "population": rng.randint(1_000, 10_000_000), "themes": rng.sample(THEMES, 3),
        "joined_at": at.isoformat(), "contact_name": None, "contact_email": None,
        "language": "fr"})


def bench_projection(count: int) -> InMemoryStore:
    model = InMemoryStore()
    chunk: list[Event] = []
    elapsed = 0.0

    def run(events: list[Event]) -> float:
        began = time.perf_counter()
        for event in events:
            project(event, model)
        return time.perf_counter() - began

    for event in synthetic_events(count):
        chunk.append(event)
        if len(chunk) == 100_000:
            elapsed += run(chunk)
            chunk = []
    elapsed += run(chunk)
    members = sum(1 for _ in model.members())
    print(f"projection (domain, in memory): {count:,} events in {elapsed:.2f} s = "
          f"{count / elapsed:,.0f} events/s ({members:,} members)")
    return model


def bench_incremental(url: str, count: int) -> None:
    database = shared_db.database_for(url)
    # Stored a thousand to a transaction, as a burst arrives (GroupStore): the same rows as
    # one by one, in a fraction of the time.
    messages = [event.as_message() for event in synthetic_events(count, seed=2)]
    for start in range(0, len(messages), 1000):
        inbox.store_many(database, messages[start:start + 1000])
    processor = InboxProcessor(database, inbox_handlers({}), **INBOX_OPTIONS)
    began, cpu = time.perf_counter(), time.process_time()
    handled = 0
    while done := processor.process_due():
        handled += done
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    print(f"projection (live path: the shared inbox processor, "
          f"{_kind(url)}): {handled:,} events in {elapsed:.2f} s = {handled / elapsed:,.0f} "
          f"events/s ({cpu / max(handled, 1) * 1000:.3f} ms of this process's CPU each)")


def bench_rebuild(url: str, count: int) -> None:
    database = shared_db.database_for(url)
    now = datetime.now(UTC).replace(tzinfo=None)
    began = time.perf_counter()
    batch: list[dict] = []
    with database.transaction() as session:
        for event in synthetic_events(count, seed=3):
            batch.append({"event_id": event.event_id, "type": event.type,
                          "payload": event.as_message(), "status": DONE, "attempts": 1,
                          "received_at": now, "next_attempt_at": now})
            if len(batch) == 10_000:
                session.execute(insert(InboxRow), batch)
                batch = []
        if batch:
            session.execute(insert(InboxRow), batch)
    print(f"  (storing {count:,} events in the inbox took {time.perf_counter() - began:.1f} s)")
    began = time.perf_counter()
    replayed = rebuild(database)
    elapsed = time.perf_counter() - began
    print(f"rebuild from the inbox ({_kind(url)}): {replayed:,} events in {elapsed:.2f} s = "
          f"{replayed / elapsed:,.0f} events/s (read, projection, bulk insert)")


def bench_digest(url: str, members: int) -> None:
    model = InMemoryStore()
    count = 0
    for event in synthetic_events(members * 10, seed=4):
        project(event, model)
        count += event.type == "member.joined"
        if count >= members:
            break
    period = Period(datetime(2026, 10, 26, 8, tzinfo=UTC), datetime(2026, 11, 2, 8, tzinfo=UTC))
    began = time.perf_counter()
    data = compose_digest(model, period, "fr", ("staff@example.org",), "campaign")
    memory = time.perf_counter() - began
    sizes = f"html {len(data['html']) // 1024} KiB, {len(data['attachments'])} attachments"
    print(f"digest over {count:,} members (from memory): {memory:.2f} s ({sizes})")

    database = shared_db.database_for(url)
    with database.transaction() as session:
        db.clear_read_model(session)
        db.insert_model(session, model)
    # As in the service, whose process holds no model between two digests.
    del model, data
    gc.collect()
    desk = DigestDesk(database, DigestSettings(DigestSchedule("0 8 * * MON"), "fr",
                                               ("staff@example.org",)))
    began = time.perf_counter()
    desk.send_now(period)
    total = time.perf_counter() - began
    print(f"digest over {count:,} members (from {_kind(url)}, the service's path: read the "
          f"model, compose, validate, write to the outbox): {total:.2f} s")


def _kind(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--incremental-events", type=int, default=20_000)
    parser.add_argument("--inbox-events", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--postgresql", help="an empty PostgreSQL database URL (default SQLite)")
    parser.add_argument("--skip-rebuild", action="store_true")
    parser.add_argument("--only", choices=("projection", "incremental", "rebuild", "digest"),
                        help="run this part alone")
    args = parser.parse_args()
    parts = {args.only} if args.only else {"projection", "incremental", "digest"} | (
        set() if args.skip_rebuild else {"rebuild"})

    with tempfile.TemporaryDirectory() as tmp:
        def fresh(name: str) -> str:
            url = args.postgresql or f"sqlite:///{tmp}/{name}.db"
            shared_db.migrate(url, MIGRATIONS)
            with shared_db.database_for(url).transaction() as session:
                db.clear_read_model(session)
            return url

        if "projection" in parts:
            bench_projection(args.events)
        if "incremental" in parts:
            bench_incremental(fresh("incremental"), args.incremental_events)
        if "rebuild" in parts:
            bench_rebuild(fresh("rebuild"), args.inbox_events)
        if "digest" in parts:
            bench_digest(fresh("digest"), args.members)


if __name__ == "__main__":
    main()
