"""How the registry copes with a busy call: N applications arriving (each checked for possible
duplicates against every application and member of its country), a wave opening on all of them,
and staff paging through the list.

    .venv/bin/python -m bench.registry_review [--applications 2000] [--postgresql URL]

Half the applications come from one country (the worst case for duplicate detection), and one
in ten repeats an earlier name with a prefix ("Ville de ..."), so that the flags are checked too.
"""
import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

from services.registry import actions  # noqa: E402
from services.registry.db import registry  # noqa: E402
from services.registry.service import MIGRATIONS  # noqa: E402
from shared import db as shared_db  # noqa: E402
from shared.events import ApplicationReceived  # noqa: E402
from tests.registry.unit.fakes import received_data  # noqa: E402

COUNTRIES = ("FR", "BR", "KR", "ES", "MX", "ZA", "TR", "CA", "KZ")
WAVE = {
    "number": 4,
    "name": {"en": "Fourth wave", "fr": "Quatrième vague", "es": "Cuarta ola"},
    "theme": {"en": "Care", "fr": "Soins", "es": "Cuidados"},
    "opens_at": datetime(2026, 1, 1, tzinfo=UTC),
    "closes_at": None,
}


SYLLABLES = ("ba", "ri", "lo", "ne", "ta", "mu", "vi", "so", "ke", "da")


def town(index: int) -> str:
    """A made-up town name per index ("Riloneta"), far enough from its neighbours."""
    return "".join(SYLLABLES[int(digit)] for digit in f"{index:04d}").capitalize()


def application(index: int) -> dict:
    # Odd indexes are French; one in ten repeats a French name from two places back.
    country = "FR" if index % 2 else COUNTRIES[index % len(COUNTRIES)]
    if index % 10 == 1 and index > 10:
        return received_data(government_name=f"Ville de {town(index - 2)}", country=country)
    return received_data(government_name=town(index), country=country)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=2000)
    parser.add_argument("--postgresql", help="an empty PostgreSQL database URL (default SQLite)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgresql or f"sqlite:///{tmp}/registry.db"
        shared_db.migrate(url, MIGRATIONS)
        database = shared_db.database_for(url)
        now = datetime.now(UTC)

        receive_times = []
        cpu_started = time.process_time()
        for index in range(args.applications):
            data = application(index)
            started = time.perf_counter()
            with registry(database) as store:
                actions.receive_application(store, ApplicationReceived.from_data(data))
            receive_times.append(time.perf_counter() - started)
        receive_cpu = (time.process_time() - cpu_started) / args.applications

        with registry(database) as store:
            actions.create_wave(store, "bench", WAVE, now)
        started = time.perf_counter()
        with registry(database) as store:
            _, moved = actions.open_wave(store, "bench", 4, now)
        opened = time.perf_counter() - started

        page_times = []
        for page in range(1, 21):
            started = time.perf_counter()
            with registry(database) as store:
                store.applications(country="FR", page=page, per_page=50)
            page_times.append(time.perf_counter() - started)
        with registry(database) as store:
            flagged = store.applications(possible_duplicate=True, per_page=1).total
        shared_db.dispose_all()

    assert moved == args.applications
    backend = "PostgreSQL" if args.postgresql else "SQLite"
    receive_times.sort()
    print(f"registry, {args.applications} applications ({backend}):")
    print(f"  receive + duplicate check: median {statistics.median(receive_times) * 1000:.1f} ms,"
          f" p95 {receive_times[int(len(receive_times) * 0.95)] * 1000:.1f} ms,"
          f" max {receive_times[-1] * 1000:.1f} ms, CPU {receive_cpu * 1000:.2f} ms each"
          f" (this process); {flagged} flagged as possible duplicates")
    print(f"  open wave moving {moved} waitlisted applications under review: {opened:.2f} s")
    print(f"  list page of 50 (country filter): median "
          f"{statistics.median(page_times) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
