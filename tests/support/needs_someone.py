"""What the console's "Needs someone" panel lists, made on purpose in a running system: an event
parked in a service's inbox and a mail refused for good, each written through the service's own
tables (shared.inbox, notify's log), as the inbox and the sender leave them."""
from __future__ import annotations

from sqlalchemy import select

from services.notify import db as notify_db
from shared import db as shared_db
from shared import inbox
from shared.events import Event
from shared.retry import utcnow


def park(db_url: str, event: Event, error: str = "OperationalError: database is locked") -> int:
    """``event`` stored in that inbox and parked after five attempts; its inbox id.

    Written parked at once: a row stored pending first is the running service's to take, and
    its handler's "done" could land after the test parked it (a slow machine widens that gap).
    """
    now = utcnow()
    row = inbox.InboxRow(event_id=event.event_id, type=event.type, payload=event.as_message(),
                         status=inbox.PARKED, attempts=5, last_error=error, received_at=now,
                         next_attempt_at=now)
    with shared_db.database_for(db_url).transaction() as session:
        session.add(row)
        session.flush()
        return row.id


def refuse(db_url: str, recipient: str, template: str = "acknowledgement",
           error: str = "550 5.1.1 <{to}>: mailbox unavailable") -> int:
    """The newest ``template`` mail sent to ``recipient`` as if the server had refused it for
    good (its composed message kept, so sending it again sends the same bytes); its id."""
    with shared_db.database_for(db_url).transaction() as session:
        row = session.scalars(select(notify_db.NotificationRow)
                              .where(notify_db.NotificationRow.recipient == recipient,
                                     notify_db.NotificationRow.template == template)
                              .order_by(notify_db.NotificationRow.id.desc())).first()
        row.status, row.sent_at, row.attempts = notify_db.FAILED, None, 1
        row.last_error, row.next_attempt_at = error.format(to=recipient), utcnow()
        return row.id
