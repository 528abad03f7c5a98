"""How long notify takes to announce a wave to N members, through its inbox, its log and a real
SMTP server (aiosmtpd in its own process, writing each mail to a file).

    .venv/bin/python -m bench.notify_wave [--members 2000] [--postgresql URL]

Prints the time to handle the event (projection read, 2,000 rows into the log) and the time to
compose and send every mail, and checks each member got exactly one.
"""
import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

from services.notify.delivery import SmtpServer, SmtpTransport  # noqa: E402
from services.notify.service import MIGRATIONS  # noqa: E402
from shared import db as shared_db  # noqa: E402
from shared.events import LANGUAGES  # noqa: E402
from tests.notify import samples  # noqa: E402
from tests.notify.integration.conftest import make_notify  # noqa: E402
from tests.notify.integration.test_wave_fanout import seed_members  # noqa: E402
from tests.support.infra import SmtpSink  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--postgresql", help="an empty PostgreSQL database URL (default SQLite)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgresql or f"sqlite:///{tmp}/notify.db"
        shared_db.migrate(url, MIGRATIONS)
        database = shared_db.database_for(url)
        sink = SmtpSink(Path(tmp) / "smtp")
        sink.start()
        try:
            notify = make_notify(database, SmtpTransport(SmtpServer("127.0.0.1", sink.port)))
            seed_members(database, args.members)
            wave = samples.wave_opened(4)

            started = time.perf_counter()
            notify.receive(wave)
            handled = time.perf_counter()
            notify.send(timeout=3600)
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


if __name__ == "__main__":
    main()
