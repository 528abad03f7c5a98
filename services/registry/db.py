"""The registry's database: applications as the campaign's source of truth."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from shared import db as shared_db


class Base(DeclarativeBase):
    pass


class ApplicationRow(Base):
    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(32))
    government_name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    received_at: Mapped[datetime] = mapped_column(DateTime)
    form: Mapped[dict] = mapped_column(JSON)


metadata = [Base.metadata, shared_db.Base.metadata]


def application_by_reference(session: Session, reference: str) -> ApplicationRow | None:
    return session.scalar(select(ApplicationRow).where(ApplicationRow.reference == reference))
