"""Where an application waits between its POST and its acknowledgement, hop by hop, read back
from the services' own tables after a pipeline run (``bench.pipeline --hops``).

Each hop is the time between two timestamps the services write anyway: the intake outbox row's
``created_at`` (the POST's commit) and ``sent_at`` (confirmed by the broker and marked), the
registry inbox row's ``received_at`` and ``processed_at``, the registry outbox row of the
answer (waitlisted / under_review), notify's inbox row of that answer, the acknowledgement's
row in notify's log, and the sink's file time. ``sent_at`` is written after a whole relay or
mail batch, so a hop that ends in it includes the rest of its batch.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg2

ANSWERS = ("application.waitlisted", "application.under_review")
HOPS = (
    ("POST due -> intake commit", "due", "intake_commit"),
    ("intake outbox -> published", "intake_commit", "intake_sent"),
    ("published -> registry inbox", "intake_sent", "registry_received"),
    ("registry inbox -> handled", "registry_received", "registry_processed"),
    ("registry outbox -> published", "registry_processed", "registry_sent"),
    ("published -> notify inbox", "registry_sent", "notify_received"),
    ("notify inbox -> handled", "notify_received", "notify_processed"),
    ("notify log -> marked sent", "notify_processed", "mail_sent"),
    ("notify log -> at the sink", "notify_processed", "sink"),
    ("POST due -> at the sink", "due", "sink"),
)


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg2://", "postgresql://")


def _rows(url: str, query: str, params: tuple = ()) -> list[tuple]:
    connection = psycopg2.connect(_dsn(url))
    try:
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall()
    finally:
        connection.close()


def _epoch(value: datetime | None) -> float | None:
    return None if value is None else value.replace(tzinfo=UTC).timestamp()


@dataclass
class Timeline:
    email: str
    due: float
    sink: float | None
    reference: str | None = None
    intake_commit: float | None = None
    intake_sent: float | None = None
    registry_received: float | None = None
    registry_processed: float | None = None
    registry_sent: float | None = None
    notify_received: float | None = None
    notify_processed: float | None = None
    mail_sent: float | None = None
    mail_state: str = ""  # the acknowledgement's row in notify's log: status, attempts, error


def timelines(urls: dict[str, str], due: dict[str, float],
              sink: dict[str, float]) -> list[Timeline]:
    """One timeline per contact address in ``due`` (address -> POST due time)."""
    lines = {e: Timeline(e, t, sink.get(e)) for e, t in due.items()}
    by_event: dict[str, Timeline] = {}
    by_reference: dict[str, Timeline] = {}
    for event_id, data, created, sent in _rows(
            urls["intake"], "SELECT event_id, payload->'data', created_at, sent_at FROM outbox "
                            "WHERE type = 'application.received'"):
        line = lines.get(data.get("contact_email"))
        if line is None:
            continue
        line.reference, line.intake_commit, line.intake_sent = (
            data["reference"], _epoch(created), _epoch(sent))
        by_event[event_id] = line
        by_reference[data["reference"]] = line
    for event_id, received, processed in _rows(
            urls["registry"], "SELECT event_id, received_at, processed_at FROM inbox"):
        if (line := by_event.get(event_id)) is not None:
            line.registry_received, line.registry_processed = _epoch(received), _epoch(processed)
    answers: dict[str, Timeline] = {}
    for event_id, data, sent in _rows(
            urls["registry"], "SELECT event_id, payload->'data', sent_at FROM outbox "
                              "WHERE type IN %s", (ANSWERS,)):
        line = by_reference.get(data.get("reference"))
        if line is not None and line.registry_sent is None:
            line.registry_sent = _epoch(sent)
            answers[event_id] = line
    for event_id, received, processed in _rows(
            urls["notify"], "SELECT event_id, received_at, processed_at FROM inbox"):
        if (line := answers.get(event_id)) is not None:
            line.notify_received, line.notify_processed = _epoch(received), _epoch(processed)
    for event_id, recipient, sent, status, attempts, error, claimed in _rows(
            urls["notify"], "SELECT event_id, recipient, sent_at, status, attempts, last_error, "
                            "claimed_until FROM notifications"):
        line = answers.get(event_id)
        if line is not None and recipient == line.email:
            line.mail_sent = _epoch(sent)
            line.mail_state = (f"{status}, {attempts} attempts, claimed until {claimed}, "
                               f"{(error or '')[:200]}")
    return list(lines.values())


def report(lines: list[Timeline]) -> list[str]:
    out = []
    for name, start, end in HOPS:
        spans = sorted(getattr(t, end) - getattr(t, start) for t in lines
                       if getattr(t, start) is not None and getattr(t, end) is not None)
        if not spans:
            out.append(f"    {name:32} n/a")
            continue
        p50, p95 = spans[len(spans) // 2], spans[min(len(spans) - 1, int(0.95 * len(spans)))]
        mean = sum(spans) / len(spans)
        out.append(f"    {name:32} p50 {p50 * 1000:8.0f} ms  p95 {p95 * 1000:8.0f} ms  "
                   f"mean {mean * 1000:8.0f} ms  (n {len(spans)})")
    for t in lines:
        if t.sink is None:  # not (yet) at the sink: how far it got
            reached = [name for name in ("intake_commit", "intake_sent", "registry_received",
                                         "registry_processed", "registry_sent",
                                         "notify_received", "notify_processed", "mail_sent")
                       if getattr(t, name) is not None]
            out.append(f"    not at the sink: {t.email} {t.reference}, reached "
                       f"{reached[-1] if reached else 'nothing'}; mail: {t.mail_state or 'none'}")
    return out
