"""Reports' read model, fed by events only."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from shared import db as shared_db


class Base(DeclarativeBase):
    pass


class ApplicationSeen(Base):
    __tablename__ = "applications_seen"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    country: Mapped[str] = mapped_column(String(2))
    received_at: Mapped[datetime] = mapped_column(DateTime)


metadata = [Base.metadata, shared_db.Base.metadata]


def count_applications(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ApplicationSeen)) or 0
