"""A worker that claims rows and then hangs on them, for tests that SIGKILL it.

    python -m tests.support.lease_holder --url URL --what outbox|inbox|mail --lease 2

It runs the real relay, inbox processor or mail sender (with its heartbeat) against ``URL``;
the publish, handler or SMTP send it calls never returns. It prints ``holding <id>`` once it is
inside the work for row ``id``, and stays there until killed.
"""
from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import sys  # noqa: E402
from datetime import timedelta  # noqa: E402


def hang(what: object) -> None:
    print(f"holding {what}", flush=True)
    while True:
        eventlet.sleep(3600)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--what", choices=("outbox", "inbox", "mail"), required=True)
    parser.add_argument("--lease", type=float, required=True)
    args = parser.parse_args()
    lease = timedelta(seconds=args.lease)

    from shared.db import database_for

    database = database_for(args.url)
    if args.what == "outbox":
        from shared.outbox import Relay

        Relay(database, lambda envelopes: hang(envelopes[0].event_id), lease=lease).relay_due()
    elif args.what == "inbox":
        from shared.inbox import InboxProcessor

        def handler(event, session):
            hang(event.event_id)

        InboxProcessor(database, {"wave.closed": handler}, lease=lease).process_due()
    else:
        from services.notify.delivery import MailDelivery
        from services.notify.domain import Secretariat
        from services.notify.mail import MailSettings, Renderer

        class Hanging:
            def send(self, sender, recipient, message, name):
                hang(recipient)

            def close(self):
                pass

        MailDelivery(database, Hanging(), Renderer(), MailSettings(),
                     Secretariat(("staff@localhost",)), lease=lease).deliver_due()
    sys.exit("the hanging call returned")


if __name__ == "__main__":
    main()
