"""Claiming due work rows (outbox, inbox, mail) so that replicas never take the same row.

A claim is a lease: ``claimed_until`` in the future hides the row from other workers; if the
worker dies, the lease runs out and the row is due again. On PostgreSQL, ``FOR UPDATE SKIP
LOCKED`` lets replicas claim side by side without waiting on each other.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from shared.db import Database


def claim(
    database: Database,
    model: Any,
    due: list[Any],
    *,
    now: datetime,
    limit: int,
    lease: timedelta,
) -> list[Any]:
    """Lease up to ``limit`` rows of ``model`` matching ``due``, oldest first."""
    with database.transaction() as session:
        query = (
            select(model)
            .where(*due, or_(model.claimed_until.is_(None), model.claimed_until < now))
            .order_by(model.id)
            .limit(limit)
        )
        if database.is_postgresql:
            query = query.with_for_update(skip_locked=True)
        rows = list(session.scalars(query))
        if rows:
            session.execute(
                update(model)
                .where(model.id.in_([row.id for row in rows]))
                .values(claimed_until=now + lease)
            )
        return rows
