"""How long notify takes to announce a wave to N members, through its inbox, its log and a real
SMTP server (aiosmtpd in its own process, writing each mail to a file).

    .venv/bin/python -m bench.notify_wave [--members 2000] [--postgresql URL] [--sink-on-disk]

Prints the time to handle the event (projection read, 2,000 rows into the log) and the time to
compose and send every mail, and checks each member got exactly one. Beside the rate, the CPU
each process spent per mail while sending: notify's (this process), the SMTP sink's and, with
--postgresql, the database server's: on a machine of two cores the three share them, so the
rate alone says little about notify.

The sink writes its files on tmpfs (/dev/shm) when there is one: on the disk's filesystem,
creating, writing and renaming two files per mail cost the sink 3-4 ms of CPU per mail (the
kernel's journal), as much as notify spent composing and sending it, and a plain smtplib loop
against that sink managed 74-183 mails/s: the bench measured the sink. ``--sink-on-disk`` keeps
them on the disk, as the bench did before.
"""
import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

from sqlalchemy import text  # noqa: E402

from services.notify.delivery import SmtpServer, SmtpTransport  # noqa: E402
from services.notify.service import MIGRATIONS  # noqa: E402
from shared import db as shared_db  # noqa: E402
from shared.events import LANGUAGES  # noqa: E402
from tests.notify import samples  # noqa: E402
from tests.notify.integration.conftest import make_notify  # noqa: E402
from tests.notify.integration.test_wave_fanout import seed_members  # noqa: E402
from tests.support.infra import SmtpSink  # noqa: E402

TMPFS = Path("/dev/shm")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--postgresql", help="an empty PostgreSQL database URL (default SQLite)")
    parser.add_argument("--sink-on-disk", action="store_true",
                        help="the sink's files on the disk, not on tmpfs")
    args = parser.parse_args()
    sink_base = None if args.sink_on_disk or not TMPFS.is_dir() else TMPFS

    with tempfile.TemporaryDirectory() as tmp, \
            tempfile.TemporaryDirectory(dir=sink_base) as sink_dir:
        url = args.postgresql or f"sqlite:///{tmp}/notify.db"
        shared_db.migrate(url, MIGRATIONS)
        database = shared_db.database_for(url)
        sink = SmtpSink(Path(sink_dir) / "smtp")
        sink.start()
        try:
            notify = make_notify(database, SmtpTransport(SmtpServer("127.0.0.1", sink.port)))
            seed_members(database, args.members)
            wave = samples.wave_opened(4)

            started = time.perf_counter()
            notify.receive(wave)
            handled = time.perf_counter()
            before = _cpu_seconds(database, sink.process.pid)
            notify.send(timeout=3600)
            after = _cpu_seconds(database, sink.process.pid)
            sent = time.perf_counter()

            recipients = Counter(r for rs, _ in sink.messages() for r in rs)
        finally:
            sink.stop()
            shared_db.dispose_all()

    assert len(recipients) == args.members and max(recipients.values()) == 1, recipients
    backend = "PostgreSQL" if args.postgresql else "SQLite"
    print(f"wave.opened to {args.members} members ({backend}, aiosmtpd, {len(LANGUAGES)} "
          f"languages): handled in {handled - started:.2f} s, "
          f"{args.members} mails composed and sent in {sent - handled:.2f} s "
          f"({args.members / (sent - handled):.0f} mails/s), each member exactly once")
    spent = {who: (after[who] - before[who]) * 1000 / args.members
             for who in after if before.get(who) is not None and after[who] is not None}
    print("CPU per mail while sending: " + ", ".join(f"{who} {ms:.2f} ms"
                                                      for who, ms in spent.items())
          + f"; sink's files on {'tmpfs' if sink_base else 'the disk'}; "
            f"load average {os.getloadavg()[0]:.2f}")


def _cpu_seconds(database: shared_db.Database, sink_pid: int) -> dict[str, float | None]:
    """User + system CPU so far of notify (this process), the sink and, on PostgreSQL, the
    server processes serving this database (Linux: /proc)."""
    times = os.times()
    spent = {"notify": times.user + times.system, "sink": _process_seconds(sink_pid)}
    if database.is_postgresql:
        with database.engine.connect() as connection:
            pids = connection.scalars(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).all()
        seconds = [_process_seconds(pid) for pid in pids]
        spent["PostgreSQL"] = sum(s for s in seconds if s is not None)
    return spent


def _process_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
