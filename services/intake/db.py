"""Intake's own database: the submissions as received (and the shared outbox/inbox)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from shared import db as shared_db


class Base(DeclarativeBase):
    pass


class Submission(Base):
    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    payload: Mapped[dict] = mapped_column(JSON)


metadata = [Base.metadata, shared_db.Base.metadata]


def add_submission(session: Session, reference: str, received_at: datetime, payload: dict) -> None:
    session.add(Submission(reference=reference, received_at=received_at, payload=payload))


def forget_references(session: Session, references: list[str]) -> int:
    erased = 0
    for submission in session.query(Submission).filter(Submission.reference.in_(references)):
        submission.payload = {"erased": True}
        erased += 1
    return erased
