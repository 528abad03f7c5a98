"""A queue of leased work rows: what the outbox relay, the inbox processor and notify's mail
sender have in common.

A work row has an ``id``, ``attempts``, ``last_error``, ``next_attempt_at`` and ``claimed_until``
column, and a condition that says it still waits (``waiting``: not sent, or pending). A batch of
due rows is claimed under a lease (shared.leases: replicas never take the same row, a killed
holder's rows come back within the lease); each row is then done, or failed: due again after
the backoff, or, once the backoff gives up (or the failure is final), never again.

What each queue does with a row is its own: the relay publishes, the inbox runs handlers (and
lets an event wait for another), notify sends mail and tells a transient failure from a
permanent one.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from shared import leases
from shared.clock import utcnow
from shared.db import Database
from shared.retry import Backoff


class WorkQueue:
    """Claim, finish and fail the rows of one work table. A subclass names its ``model``, the
    ``waiting`` condition, and the values a row takes when given up (``given_up``)."""

    model: ClassVar[Any]
    waiting: ClassVar[Any]
    # What a row given up becomes (a status never due again); empty: the queue never gives up.
    given_up: ClassVar[dict[str, Any]] = {}
    # The claim's order, an index's order walked to the limit; empty: oldest row first.
    order: ClassVar[tuple] = ()
    # The columns a claim reads, as plain rows (``id``, ``attempts`` among them); empty: ORM
    # objects of ``model``.
    columns: ClassVar[tuple] = ()
    # How much of an error a row keeps.
    error_length: ClassVar[int] = 2000

    def __init__(self, database: Database, *, backoff: Backoff, batch_size: int,
                 lease: timedelta = leases.LEASE):
        self.database = database
        self.backoff = backoff
        self.batch_size = batch_size
        self.lease = lease
        self._claim: Any = None

    @contextmanager
    def claimed(self) -> Iterator[leases.Lease]:
        """Lease up to ``batch_size`` due rows for the block, renewed by a heartbeat; what the
        block did not finish is released when it ends."""
        model = self.model
        if self.columns:
            if self._claim is None:  # built once: a claim per wake, per lone event at times
                self._claim = leases.claim_statement(
                    self.database, model,
                    [self.waiting, model.next_attempt_at <= bindparam(leases.NOW)],
                    limit=self.batch_size, order=self.order, columns=self.columns)
            lease = leases.claim_prepared(self.database, model, self._claim,
                                          duration=self.lease, order=self.order)
            with leases.held(lease) as lease:
                yield lease
            return
        due = [self.waiting, model.next_attempt_at <= utcnow()]
        with leases.hold(self.database, model, due, limit=self.batch_size,
                         duration=self.lease, order=self.order) as lease:
            yield lease

    def finish(self, session: Session, rows: list[Any], **values: Any) -> None:
        """Mark rows done in the caller's transaction (``values``: what done means for this
        queue), their claim cleared with it: once committed, ``lease.finished(rows)``."""
        # The table's, not the model's: the rows are the lease's, not the session's, and the
        # ORM's bulk update cost more than the statement.
        table = self.model.__table__
        session.execute(update(table).where(table.c.id.in_([row.id for row in rows]))
                        .values(claimed_until=None, **values))

    def failed(self, row: Any, error: str, *, give_up: bool = False,
               **values: Any) -> bool:
        """Count a failed attempt: the row is due again after the backoff, or never again if
        ``give_up`` or the backoff's attempts have run out. True if the row was given up.

        ``values`` are the queue's own columns to write with it; ``gave_up(session, row,
        error)`` runs in the same transaction when a row is given up."""
        attempts = row.attempts + 1
        give_up = give_up or self.backoff.exhausted(attempts)
        values.update(attempts=attempts, last_error=error[:self.error_length],
                      claimed_until=None)
        if give_up:
            # Never due again: next_attempt_at keeps the moment it was given up.
            values.update(self.given_up, next_attempt_at=utcnow())
        else:
            values["next_attempt_at"] = self.backoff.next_attempt(attempts)
        with self.database.transaction() as session:
            updated = self._update(session, row, values)
            if give_up and updated:
                self.gave_up(session, row, error)
        return give_up

    def put_back(self, row: Any, until: datetime, **values: Any) -> None:
        """Let a row go until ``until`` without counting an attempt."""
        with self.database.transaction() as session:
            self._update(session, row, {**values, "claimed_until": None,
                                        "next_attempt_at": until})

    def gave_up(self, session: Session, row: Any, error: str) -> None:
        """What else a given-up row means, in the transaction that gives it up."""

    def _update(self, session: Session, row: Any, values: dict[str, Any]) -> bool:
        # Only while the row still waits: a row another holder finished meanwhile stays done.
        model = self.model
        result = session.execute(update(model).where(model.id == row.id, self.waiting)
                                 .values(**values))
        return result.rowcount == 1
