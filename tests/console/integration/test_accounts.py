"""Staff accounts over the console's own database, on SQLite and on PostgreSQL: sign-in,
sessions, throttling, password links (and the event that mails them), the first admin."""
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from services.console.accounts import Accounts
from services.console.db import AccountExists
from services.console.domain import (
    LinkInvalid,
    Passwords,
    Role,
    SessionPolicy,
    SignInRefused,
)
from services.console.service import MIGRATIONS
from shared.db import Database, database_for, migrate
from shared.outbox import OutboxRow

FAST = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
PASSWORD = "a password long enough"


class Clock:
    def __init__(self):
        self.now = datetime(2026, 12, 1, 9, 0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.real)])
def database(request, tmp_path) -> Database:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'console.db'}"
    else:
        url = request.getfixturevalue("postgres")("console").url
    migrate(url, MIGRATIONS)
    return database_for(url)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def accounts(database, clock) -> Accounts:
    return Accounts(database, "https://console.example", passwords=FAST, clock=clock,
                    sessions=SessionPolicy(idle=timedelta(minutes=30)),
                    run=lambda function, *args: function(*args))


def with_password(accounts: Accounts, email: str, role: Role = Role.REVIEWER) -> str:
    _, link = accounts.add(email, role, "fr")
    secret = link.rsplit("/", 1)[1]
    accounts.set_password(secret, PASSWORD, PASSWORD)
    return secret


def test_the_first_admin_is_made_once_with_a_generated_password(accounts):
    generated = accounts.ensure_first_admin(None, None)
    assert generated and len(generated) >= 16
    assert accounts.ensure_first_admin(None, None) is None
    _, signed_in = accounts.sign_in("admin@localhost", generated, "10.0.0.1")
    assert signed_in.account.role == Role.ADMIN


def test_the_configured_first_admin_prints_nothing(accounts):
    assert accounts.ensure_first_admin("Ada@Example.org", PASSWORD) is None
    _, signed_in = accounts.sign_in("ada@example.org", PASSWORD, "10.0.0.1")
    assert signed_in.account.email == "ada@example.org"


def test_an_invitation_link_sets_the_password_once(accounts):
    secret = with_password(accounts, "rev@example.org")
    with pytest.raises(LinkInvalid):
        accounts.set_password(secret, "another password here", "another password here")
    cookie, signed_in = accounts.sign_in("REV@example.org ", PASSWORD, "10.0.0.1")
    assert accounts.signed_in(cookie).account.email == "rev@example.org"
    assert signed_in.account.language == "fr"
    with pytest.raises(AccountExists):
        accounts.add("rev@example.org", Role.ADMIN)


def test_sessions_end_on_sign_out_when_idle_and_when_disabled(accounts, clock):
    with_password(accounts, "rev@example.org")
    cookie, _ = accounts.sign_in("rev@example.org", PASSWORD, "10.0.0.1")
    clock.advance(minutes=20)
    assert accounts.signed_in(cookie) is not None  # and touched: idle counts from now
    clock.advance(minutes=20)
    assert accounts.signed_in(cookie) is not None
    clock.advance(minutes=31)
    assert accounts.signed_in(cookie) is None
    cookie, _ = accounts.sign_in("rev@example.org", PASSWORD, "10.0.0.1")
    accounts.sign_out(cookie)
    assert accounts.signed_in(cookie) is None
    cookie, _ = accounts.sign_in("rev@example.org", PASSWORD, "10.0.0.1")
    accounts.disable("rev@example.org")
    assert accounts.signed_in(cookie) is None
    with pytest.raises(SignInRefused):
        accounts.sign_in("rev@example.org", PASSWORD, "10.0.0.1")
    assert accounts.signed_in(None) is None and accounts.signed_in("forged") is None


def test_ten_wrong_passwords_lock_the_account_and_are_counted_per_address(accounts, clock):
    with_password(accounts, "rev@example.org")
    for _ in range(10):
        with pytest.raises(SignInRefused):
            accounts.sign_in("rev@example.org", "wrong password", "10.0.0.9")
    with pytest.raises(SignInRefused) as locked:
        accounts.sign_in("rev@example.org", PASSWORD, "10.0.0.1")
    assert locked.value.reason == "throttled"
    [listed] = accounts.listing()
    assert listed["locked"]
    clock.advance(minutes=16)
    accounts.sign_in("rev@example.org", PASSWORD, "10.0.0.1")
    # An address is refused after 30 failures in 15 minutes, on whichever accounts.
    for _ in range(30):
        with pytest.raises(SignInRefused):
            accounts.sign_in("nobody@example.org", "guess", "10.0.0.9")
    with pytest.raises(SignInRefused) as blocked:
        accounts.sign_in("rev@example.org", PASSWORD, "10.0.0.9")
    assert blocked.value.reason == "throttled"


def test_a_reset_request_records_the_mail_event_and_its_link_works_once(accounts, database,
                                                                         clock):
    with_password(accounts, "rev@example.org")
    cookie, _ = accounts.sign_in("rev@example.org", PASSWORD, "10.0.0.1")
    accounts.request_reset("nobody@example.org")  # no account: nothing, and nothing said
    accounts.request_reset("rev@example.org")
    with database.transaction() as session:
        [row] = session.scalars(select(OutboxRow).where(
            OutboxRow.type == "staff.password_reset_requested")).all()
    data = row.payload["data"]
    assert data["email"] == "rev@example.org" and data["language"] == "fr"
    assert data["link"].startswith("https://console.example/password/")
    secret = data["link"].rsplit("/", 1)[1]
    assert accounts.link_account(secret).email == "rev@example.org"
    accounts.set_password(secret, "a brand new password", "a brand new password")
    assert accounts.signed_in(cookie) is None  # a new password ends the old sessions
    accounts.sign_in("rev@example.org", "a brand new password", "10.0.0.1")
    with pytest.raises(LinkInvalid):
        accounts.set_password(secret, "yet another password", "yet another password")


def test_a_reset_link_expires_after_thirty_minutes(accounts, database, clock):
    with_password(accounts, "rev@example.org")
    accounts.request_reset("rev@example.org")
    with database.transaction() as session:
        row = session.scalars(select(OutboxRow).where(
            OutboxRow.type == "staff.password_reset_requested")).one()
    secret = row.payload["data"]["link"].rsplit("/", 1)[1]
    clock.advance(minutes=30)
    with pytest.raises(LinkInvalid):
        accounts.link_account(secret)
