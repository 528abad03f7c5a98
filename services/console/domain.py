"""The console's rules: who may do what, how sessions age, when sign-ins are refused.

Pure Python: the clock is an argument, storage is the caller's. Passwords are hashed with
argon2id (argon2-cffi); links and sessions are random secrets of which only SHA-256 digests
are kept, so a copy of the database opens nothing.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 1024
# What a person choosing a password is told (message ids of the console's catalogs).
TOO_SHORT = "Use at least 12 characters."
TOO_LONG = "Use at most 1024 characters."
IS_THE_ADDRESS = "Choose something other than your e-mail address."
DIFFERENT = "The two passwords differ: type the same one twice."


class DomainError(Exception):
    """A console rule was broken; ``field`` names the form field it is about, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class Forbidden(DomainError):
    """The signed-in person's role does not allow this."""


class LinkInvalid(DomainError):
    """A password link that is unknown, used already or out of date."""


class Role(StrEnum):
    REVIEWER = "reviewer"
    ADMIN = "admin"


class Permission(StrEnum):
    REVIEW = "review"              # the queue, applications and their decisions, members
    MANAGE_WAVES = "manage_waves"
    DIGESTS = "digests"
    ERASE = "erase"
    IMPORT_MEMBERS = "import_members"  # the campaign's existing members, from a CSV file
    # An address that unsubscribed from the announcements back on them, when the person asks.
    RESUBSCRIBE = "resubscribe"
    MANAGE_STAFF = "manage_staff"
    # Run a parked event again, send a failed mail again: once the cause is fixed.
    REPLAY = "replay"


_GRANTS = {
    Role.REVIEWER: frozenset({Permission.REVIEW}),
    Role.ADMIN: frozenset(Permission),
}


def may(role: Role | str, permission: Permission) -> bool:
    try:
        return permission in _GRANTS[Role(role)]
    except ValueError:
        return False


def require(role: Role | str, permission: Permission) -> None:
    if not may(role, permission):
        raise Forbidden(f"the {role} role may not {permission.value.replace('_', ' ')}")


# --- secrets --------------------------------------------------------------------------------

def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class Passwords:
    """argon2id hashes (argon2-cffi's defaults, RFC 9106's second recommended profile)."""

    def __init__(self, hasher: PasswordHasher | None = None):
        self.hasher = hasher or PasswordHasher()
        # Verified against when the account is unknown, so timing does not say it exists.
        self._decoy = self.hasher.hash(new_secret())

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        try:
            return self.hasher.verify(stored or self._decoy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self.hasher.check_needs_rehash(stored)


def check_new_password(password: str, confirmation: str, email: str) -> None:
    """A password someone chooses: long enough, typed twice alike, not the address itself."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise DomainError(TOO_SHORT, "password")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise DomainError(TOO_LONG, "password")
    if password.strip().lower() == email.strip().lower():
        raise DomainError(IS_THE_ADDRESS, "password")
    if password != confirmation:
        raise DomainError(DIFFERENT, "confirmation")


# --- accounts and sign-in -------------------------------------------------------------------

@dataclass(frozen=True)
class Account:
    id: int | None
    email: str
    role: Role
    language: str = "en"
    password_hash: str | None = None
    disabled: bool = False
    failed_sign_ins: int = 0
    locked_until: datetime | None = None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def may_sign_in(self) -> bool:
        return not self.disabled and self.password_hash is not None


@dataclass(frozen=True)
class SignInPolicy:
    """Ten wrong passwords in a row lock an account for a while; an address that keeps failing
    (on any accounts) is refused for a while too, so guessing across accounts is slow."""

    max_failures: int = 10
    lock_for: timedelta = timedelta(minutes=15)
    address_failures: int = 30
    address_window: timedelta = timedelta(minutes=15)

    def after_failure(self, account: Account, now: datetime) -> Account:
        failures = account.failed_sign_ins + 1
        if failures >= self.max_failures:
            return replace(account, failed_sign_ins=0, locked_until=now + self.lock_for)
        return replace(account, failed_sign_ins=failures)

    def after_success(self, account: Account) -> Account:
        return replace(account, failed_sign_ins=0, locked_until=None)

    def address_blocked(self, recent_failures: int) -> bool:
        return recent_failures >= self.address_failures


class SignInRefused(DomainError):
    """Wrong e-mail or password, or a locked account or address: one message says which,
    without telling whether the account exists."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "invalid" or "throttled"


def decide_sign_in(account: Account | None, password_ok: bool, address_failures: int,
                   policy: SignInPolicy, now: datetime) -> Account | None:
    """The account after a sign-in attempt; raises SignInRefused when it does not sign in.

    Returns the account as it must be stored (failure counters updated), or None when there
    is no account to update."""
    if policy.address_blocked(address_failures):
        raise SignInRefused("throttled")
    if account is None:
        raise SignInRefused("invalid")
    if account.locked(now):
        raise SignInRefused("throttled")
    if not password_ok or not account.may_sign_in():
        raise FailedSignIn(policy.after_failure(account, now))
    return policy.after_success(account)


class FailedSignIn(SignInRefused):
    """A wrong password for a known account: the caller stores ``account`` (its new count)."""

    def __init__(self, account: Account):
        super().__init__("throttled" if account.locked_until else "invalid")
        self.account = account


# --- sessions and links ---------------------------------------------------------------------

@dataclass(frozen=True)
class StaffSession:
    digest: str
    account_id: int
    csrf: str
    created_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class SessionPolicy:
    """A session ends after ``idle`` without a request, and after ``absolute`` in any case."""

    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)
    # Writing last_seen on every request would make every page view a write.
    touch_every: timedelta = timedelta(minutes=1)

    def expired(self, session: StaffSession, now: datetime) -> bool:
        return (now - session.last_seen_at >= self.idle
                or now - session.created_at >= self.absolute)

    def needs_touch(self, session: StaffSession, now: datetime) -> bool:
        return now - session.last_seen_at >= self.touch_every


def open_session(account_id: int, now: datetime) -> tuple[str, StaffSession]:
    """A new session: the secret for the cookie, and what is stored (its digest)."""
    secret = new_secret()
    return secret, StaffSession(digest(secret), account_id, new_secret(), now, now)


class LinkPurpose(StrEnum):
    RESET = "reset"    # forgotten password, mailed
    INVITE = "invite"  # a new account's first password, printed by ``hrc staff add``


LINK_LIFETIME = {LinkPurpose.RESET: timedelta(minutes=30), LinkPurpose.INVITE: timedelta(days=7)}


@dataclass(frozen=True)
class PasswordLink:
    digest: str
    account_id: int
    purpose: LinkPurpose
    expires_at: datetime
    used_at: datetime | None = None

    def check(self, now: datetime) -> None:
        if self.used_at is not None:
            raise LinkInvalid("this link has been used already")
        if now >= self.expires_at:
            raise LinkInvalid("this link has expired")


def issue_link(account_id: int, purpose: LinkPurpose, now: datetime) -> tuple[str, PasswordLink]:
    secret = new_secret()
    return secret, PasswordLink(digest(secret), account_id, purpose,
                                now + LINK_LIFETIME[purpose])


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (never //host or a URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def digest_period(first_day: date, last_day: date, now: datetime) -> tuple[datetime, datetime]:
    """The period a digest asked for in the console covers, in UTC: both days whole, "To" included
    (it ended at that day's midnight, so "to today" left out what happened today, and the digest
    counted one member fewer than the badge), and never past ``now``."""
    start = datetime.combine(first_day, time(), tzinfo=UTC)
    end = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=UTC)
    return start, min(end, now) if now > start else end
