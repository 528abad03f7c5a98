"""What staff accounts go through: signing in and out, sessions, password links, the first
admin, adding and disabling accounts. Each step is one short transaction; password hashing
(argon2id, deliberately slow) runs in a thread, outside any transaction, so the hub stays free
and no SQLite write lock waits on it."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from eventlet import tpool

from services.console.db import ConsoleStore
from services.console.domain import (
    Account,
    DomainError,
    FailedSignIn,
    LinkInvalid,
    LinkPurpose,
    Passwords,
    Role,
    SessionPolicy,
    SignInPolicy,
    SignInRefused,
    StaffSession,
    check_new_password,
    decide_sign_in,
    digest,
    issue_link,
    new_secret,
    open_session,
)
from shared.campaign import LANGUAGES
from shared.clock import utcnow
from shared.db import Database
from shared.events import new_event
from shared.outbox import record

log = logging.getLogger(__name__)
FIRST_ADMIN_EMAIL = "admin@localhost"
KEEP_RECORDS = timedelta(days=2)


def in_thread(function: Callable[..., Any], *args: Any) -> Any:
    return tpool.execute(function, *args)


@dataclass(frozen=True)
class SignedIn:
    account: Account
    session: StaffSession


class Accounts:
    def __init__(self, database: Database, console_url: str, *,
                 passwords: Passwords | None = None,
                 policy: SignInPolicy | None = None,
                 sessions: SessionPolicy | None = None,
                 clock: Callable[[], datetime] = utcnow,
                 run: Callable[..., Any] = in_thread):
        self.database = database
        self.console_url = console_url.rstrip("/")
        self.passwords = passwords or Passwords()
        self.policy = policy or SignInPolicy()
        self.sessions = sessions or SessionPolicy()
        self.clock = clock
        self.run = run

    # --- signing in and out ---

    def sign_in(self, email: str, password: str, address: str) -> tuple[str, SignedIn]:
        """The cookie secret and the session; raises SignInRefused (after counting the failure)."""
        now = self.clock()
        with self.database.transaction() as session:
            store = ConsoleStore(session)
            account = store.account_by_email(email.strip())
            address_failures = store.recent_failures(address, now - self.policy.address_window)
        checked = self.run(self.passwords.verify,
                           account.password_hash if account else None, password)
        try:
            signed_in = decide_sign_in(account, checked, address_failures, self.policy, now)
        except SignInRefused as refused:
            # Stored, then raised: raising inside the transaction would roll the count back.
            with self.database.transaction() as session:
                store = ConsoleStore(session)
                if isinstance(refused, FailedSignIn):
                    store.save_account(refused.account)
                store.record_failure(address, now)
            raise
        with self.database.transaction() as session:
            store = ConsoleStore(session)
            store.save_account(signed_in)
            secret, staff_session = open_session(signed_in.id, now)
            store.add_session(staff_session)
            store.housekeeping(now, KEEP_RECORDS)
        return secret, SignedIn(signed_in, staff_session)

    def signed_in(self, cookie: str | None) -> SignedIn | None:
        """The person behind a session cookie, if the session is still alive."""
        if not cookie:
            return None
        now = self.clock()
        with self.database.transaction() as session:
            store = ConsoleStore(session)
            staff_session = store.staff_session(digest(cookie))
            if staff_session is None:
                return None
            account = store.account(staff_session.account_id)
            if (account is None or account.disabled
                    or self.sessions.expired(staff_session, now)):
                store.end_session(staff_session.digest)
                return None
            if self.sessions.needs_touch(staff_session, now):
                store.touch_session(staff_session.digest, now)
        return SignedIn(account, staff_session)

    def sign_out(self, cookie: str | None) -> None:
        if cookie:
            with self.database.transaction() as session:
                ConsoleStore(session).end_session(digest(cookie))

    def set_language(self, account: Account, language: str) -> None:
        if language not in LANGUAGES:
            raise DomainError("unknown language", "language")
        with self.database.transaction() as session:
            ConsoleStore(session).save_account(replace(account, language=language))

    # --- passwords ---

    def request_reset(self, email: str) -> None:
        """Mail a reset link through notify if the account exists; say nothing either way."""
        now = self.clock()
        with self.database.transaction() as session:
            store = ConsoleStore(session)
            account = store.account_by_email(email.strip())
            if account is None or account.disabled:
                log.info("console: password reset asked for an address with no active account")
                return
            secret, link = issue_link(account.id, LinkPurpose.RESET, now)
            store.add_link(link)
            record(session, new_event("staff.password_reset_requested", {
                "email": account.email, "language": account.language,
                "link": self.link_url(secret)}))

    def link_url(self, secret: str) -> str:
        return f"{self.console_url}/password/{secret}"

    def link_account(self, secret: str) -> Account:
        """The account a password link is for; raises LinkInvalid."""
        now = self.clock()
        with self.database.transaction() as session:
            store = ConsoleStore(session)
            link = store.link(digest(secret))
            if link is None:
                raise LinkInvalid("this link is not valid")
            link.check(now)
            return store.account(link.account_id)

    def set_password(self, secret: str, password: str, confirmation: str) -> Account:
        account = self.link_account(secret)
        check_new_password(password, confirmation, account.email)
        hashed = self.run(self.passwords.hash, password)
        now = self.clock()
        with self.database.transaction() as session:
            store = ConsoleStore(session)
            link = store.use_link(digest(secret), now)
            account = store.account(link.account_id)
            account = replace(account, password_hash=hashed, failed_sign_ins=0, locked_until=None)
            store.save_account(account)
            # A new password ends every session opened with the old one.
            store.end_sessions_of(account.id)
        return account

    # --- accounts ---

    def add(self, email: str, role: Role, language: str = "en") -> tuple[Account, str]:
        """A new account without a password, and the single-use link to choose one."""
        now = self.clock()
        with self.database.transaction() as session:
            store = ConsoleStore(session)
            account = store.add_account(Account(None, email.strip().lower(), role, language),
                                        now)
            secret, link = issue_link(account.id, LinkPurpose.INVITE, now)
            store.add_link(link)
        return account, self.link_url(secret)

    def disable(self, email: str) -> Account:
        """No more sign-ins; the sessions it has end now."""
        return self._change(email, lambda a: replace(a, disabled=True), end_sessions=True)

    def enable(self, email: str) -> Account:
        return self._change(email, lambda a: replace(a, disabled=False, failed_sign_ins=0,
                                                     locked_until=None))

    def _change(self, email: str, change: Callable[[Account], Account], *,
                end_sessions: bool = False) -> Account:
        with self.database.transaction() as session:
            store = ConsoleStore(session)
            account = store.account_by_email(email)
            if account is None:
                raise DomainError("no such account", "email")
            account = change(account)
            store.save_account(account)
            if end_sessions:
                store.end_sessions_of(account.id)
        return account

    def listing(self) -> list[dict[str, Any]]:
        now = self.clock()
        with self.database.transaction() as session:
            return [{"email": a.email, "role": a.role.value, "language": a.language,
                     "disabled": a.disabled, "password_set": a.password_hash is not None,
                     "locked": a.locked(now), "created_at": created.isoformat()}
                    for a, created in ConsoleStore(session).accounts()]

    def ensure_first_admin(self, email: str | None, password: str | None) -> str | None:
        """With no account at all, an admin: the configured one, else a generated password.

        Returns the generated password (to print once), or None."""
        with self.database.transaction() as session:
            if ConsoleStore(session).has_accounts():
                return None
        generated = None if password else new_secret()[:20]
        hashed = self.run(self.passwords.hash, password or generated)
        with self.database.transaction() as session:
            store = ConsoleStore(session)
            if store.has_accounts():
                return None  # another replica made it meanwhile
            store.add_account(Account(None, (email or FIRST_ADMIN_EMAIL).strip().lower(),
                                      Role.ADMIN, "en", hashed), self.clock())
        return generated
