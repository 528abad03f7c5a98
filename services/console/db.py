"""The console's tables (staff accounts, sessions, password links, failed sign-ins, the staff
tokens the registry announced) and the store that reads and writes them as domain objects."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Boolean, DateTime, Integer, String, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from services.console.domain import (
    Account,
    DomainError,
    LinkInvalid,
    LinkPurpose,
    PasswordLink,
    Role,
    StaffSession,
)
from shared import db as shared_db
from shared.staff_access import AnnouncedTokens, IssuedTokenColumns


class Base(DeclarativeBase):
    pass


class AccountRow(Base):
    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(2))
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class SessionRow(Base):
    __tablename__ = "staff_sessions"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)


class LinkRow(Base):
    __tablename__ = "password_links"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class FailureRow(Base):
    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)


class IssuedTokenRow(Base, IssuedTokenColumns):
    __tablename__ = "staff_tokens"


# The tokens the registry announced (staff.token_issued): remembered, and read by StaffAccess.
announced_tokens = AnnouncedTokens(IssuedTokenRow)


metadata = [Base.metadata, shared_db.Base.metadata]


class AccountExists(DomainError):
    def __init__(self, email: str):
        super().__init__(f"{email} has an account already", "email")


class ConsoleStore:
    """The console's tables within one transaction (the caller's session)."""

    def __init__(self, session: Session):
        self.session = session

    # --- accounts ---

    def has_accounts(self) -> bool:
        return self.session.scalar(select(func.count()).select_from(AccountRow)) > 0

    def add_account(self, account: Account, now: datetime) -> Account:
        row = AccountRow(email=account.email.lower(), role=account.role.value,
                         language=account.language, password_hash=account.password_hash,
                         disabled=account.disabled, failed_sign_ins=0, created_at=now)
        try:
            with self.session.begin_nested():
                self.session.add(row)
                self.session.flush()
        except IntegrityError as exc:
            raise AccountExists(account.email) from exc
        return _account(row)

    def account(self, account_id: int) -> Account | None:
        row = self.session.get(AccountRow, account_id)
        return _account(row) if row is not None else None

    def account_by_email(self, email: str) -> Account | None:
        row = self.session.scalar(select(AccountRow).where(AccountRow.email == email.lower()))
        return _account(row) if row is not None else None

    def accounts(self) -> list[tuple[Account, datetime]]:
        rows = self.session.scalars(select(AccountRow).order_by(AccountRow.email))
        return [(_account(row), row.created_at) for row in rows]

    def save_account(self, account: Account) -> None:
        self.session.execute(update(AccountRow).where(AccountRow.id == account.id).values(
            role=account.role.value, language=account.language,
            password_hash=account.password_hash, disabled=account.disabled,
            failed_sign_ins=account.failed_sign_ins, locked_until=account.locked_until))

    # --- sessions ---

    def add_session(self, staff_session: StaffSession) -> None:
        self.session.add(SessionRow(**staff_session.__dict__))

    def staff_session(self, session_digest: str) -> StaffSession | None:
        row = self.session.get(SessionRow, session_digest)
        if row is None:
            return None
        return StaffSession(row.digest, row.account_id, row.csrf, row.created_at,
                            row.last_seen_at)

    def touch_session(self, session_digest: str, now: datetime) -> None:
        self.session.execute(update(SessionRow).where(SessionRow.digest == session_digest)
                             .values(last_seen_at=now))

    def end_session(self, session_digest: str) -> None:
        self.session.execute(delete(SessionRow).where(SessionRow.digest == session_digest))

    def end_sessions_of(self, account_id: int) -> None:
        self.session.execute(delete(SessionRow).where(SessionRow.account_id == account_id))

    def forget_sessions_before(self, moment: datetime) -> None:
        self.session.execute(delete(SessionRow).where(SessionRow.last_seen_at < moment))

    # --- password links ---

    def add_link(self, link: PasswordLink) -> None:
        self.session.add(LinkRow(digest=link.digest, account_id=link.account_id,
                                 purpose=link.purpose.value, expires_at=link.expires_at))

    def use_link(self, link_digest: str, now: datetime) -> PasswordLink:
        """Mark a link used, exactly once even if two requests race for it."""
        link = self.link(link_digest)
        if link is None:
            raise LinkInvalid("this link is not valid")
        link.check(now)
        used = self.session.execute(
            update(LinkRow).where(LinkRow.digest == link_digest, LinkRow.used_at.is_(None))
            .values(used_at=now))
        if used.rowcount != 1:
            raise LinkInvalid("this link has been used already")
        return link

    def link(self, link_digest: str) -> PasswordLink | None:
        row = self.session.get(LinkRow, link_digest)
        if row is None:
            return None
        return PasswordLink(row.digest, row.account_id, LinkPurpose(row.purpose),
                            row.expires_at, row.used_at)

    # --- failed sign-ins per address ---

    def record_failure(self, address: str, now: datetime) -> None:
        self.session.add(FailureRow(address=address[:64], at=now))

    def recent_failures(self, address: str, since: datetime) -> int:
        return self.session.scalar(select(func.count()).select_from(FailureRow).where(
            FailureRow.address == address[:64], FailureRow.at >= since))

    def forget_failures_before(self, moment: datetime) -> None:
        self.session.execute(delete(FailureRow).where(FailureRow.at < moment))

    def housekeeping(self, now: datetime, keep: timedelta) -> None:
        """Forget sessions and failures older than ``keep``: they can no longer matter."""
        self.forget_sessions_before(now - keep)
        self.forget_failures_before(now - keep)


def _account(row: AccountRow) -> Account:
    return Account(id=row.id, email=row.email, role=Role(row.role), language=row.language,
                   password_hash=row.password_hash, disabled=row.disabled,
                   failed_sign_ins=row.failed_sign_ins, locked_until=row.locked_until)
