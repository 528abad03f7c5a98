"""The console's rules with no database, broker or browser: roles, sign-in throttling,
session ageing, password links and passwords."""
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher

from services.console.domain import (
    Account,
    DomainError,
    FailedSignIn,
    LinkInvalid,
    LinkPurpose,
    Passwords,
    Permission,
    Role,
    SessionPolicy,
    SignInPolicy,
    SignInRefused,
    check_new_password,
    decide_sign_in,
    digest,
    issue_link,
    may,
    open_session,
    safe_next,
)

NOW = datetime(2026, 12, 1, 9, 0)
POLICY = SignInPolicy()
# The cheapest argon2id the library allows: the rules, not the cost, are under test.
FAST = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def account(**changes) -> Account:
    return replace(Account(1, "ada@example.org", Role.REVIEWER, "fr", password_hash="h"),
                   **changes)


def test_a_reviewer_reviews_and_an_admin_does_everything():
    assert may(Role.REVIEWER, Permission.REVIEW)
    for permission in (Permission.MANAGE_WAVES, Permission.DIGESTS, Permission.ERASE,
                       Permission.MANAGE_STAFF, Permission.RESUBSCRIBE):
        assert not may(Role.REVIEWER, permission)
        assert may(Role.ADMIN, permission)
    assert not may("nobody", Permission.REVIEW)


def test_ten_wrong_passwords_lock_the_account_for_a_while():
    current = account()
    for attempt in range(1, 10):
        with pytest.raises(FailedSignIn) as refused:
            decide_sign_in(current, False, 0, POLICY, NOW)
        current = refused.value.account
        assert current.failed_sign_ins == attempt and refused.value.reason == "invalid"
    with pytest.raises(FailedSignIn) as refused:
        decide_sign_in(current, False, 0, POLICY, NOW)
    locked = refused.value.account
    assert refused.value.reason == "throttled"
    assert locked.locked_until == NOW + POLICY.lock_for
    # Even the right password waits until the lock is over.
    with pytest.raises(SignInRefused) as still:
        decide_sign_in(locked, True, 0, POLICY, NOW + timedelta(minutes=14))
    assert still.value.reason == "throttled"
    signed_in = decide_sign_in(locked, True, 0, POLICY, NOW + timedelta(minutes=15))
    assert signed_in.failed_sign_ins == 0 and signed_in.locked_until is None


def test_a_success_forgets_earlier_failures():
    assert decide_sign_in(account(failed_sign_ins=7), True, 0, POLICY, NOW).failed_sign_ins == 0


def test_an_address_that_keeps_failing_is_refused_whatever_the_account():
    with pytest.raises(SignInRefused) as refused:
        decide_sign_in(account(), True, POLICY.address_failures, POLICY, NOW)
    assert refused.value.reason == "throttled"
    decide_sign_in(account(), True, POLICY.address_failures - 1, POLICY, NOW)


def test_unknown_disabled_and_passwordless_accounts_do_not_sign_in():
    with pytest.raises(SignInRefused) as unknown:
        decide_sign_in(None, True, 0, POLICY, NOW)
    assert unknown.value.reason == "invalid"
    for refused_account in (account(disabled=True), account(password_hash=None)):
        with pytest.raises(FailedSignIn):
            decide_sign_in(refused_account, True, 0, POLICY, NOW)


def test_a_session_ends_when_idle_and_after_a_working_day_in_any_case():
    policy = SessionPolicy(idle=timedelta(minutes=30), absolute=timedelta(hours=12))
    secret, session = open_session(7, NOW)
    assert session.digest == digest(secret) and secret not in session.digest
    assert not policy.expired(session, NOW + timedelta(minutes=29))
    assert policy.expired(session, NOW + timedelta(minutes=30))
    busy = replace(session, last_seen_at=NOW + timedelta(hours=11, minutes=59))
    assert not policy.expired(busy, NOW + timedelta(hours=11, minutes=59, seconds=30))
    assert policy.expired(busy, NOW + timedelta(hours=12))
    assert not policy.needs_touch(session, NOW + timedelta(seconds=30))
    assert policy.needs_touch(session, NOW + timedelta(minutes=1))


def test_a_reset_link_works_once_for_thirty_minutes():
    secret, link = issue_link(3, LinkPurpose.RESET, NOW)
    assert link.digest == digest(secret)
    assert link.expires_at == NOW + timedelta(minutes=30)
    link.check(NOW + timedelta(minutes=29))
    with pytest.raises(LinkInvalid):
        link.check(NOW + timedelta(minutes=30))
    with pytest.raises(LinkInvalid):
        replace(link, used_at=NOW).check(NOW)
    _, invite = issue_link(3, LinkPurpose.INVITE, NOW)
    assert invite.expires_at == NOW + timedelta(days=7)


def test_sessions_and_links_are_random_and_distinct():
    secrets = {open_session(1, NOW)[0] for _ in range(50)}
    secrets |= {issue_link(1, LinkPurpose.RESET, NOW)[0] for _ in range(50)}
    assert len(secrets) == 100 and all(len(s) >= 40 for s in secrets)


def test_passwords_are_argon2id_and_checked_without_revealing_unknown_accounts():
    hashed = FAST.hash("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert FAST.verify(hashed, "correct horse battery")
    assert not FAST.verify(hashed, "wrong horse battery")
    assert not FAST.verify(None, "correct horse battery")
    assert not FAST.verify("not a hash", "x")


def test_a_new_password_is_long_enough_typed_twice_and_not_the_address():
    check_new_password("a long enough one", "a long enough one", "ada@example.org")
    for password, confirmation, field in (
            ("short", "short", "password"),
            ("ada@example.org", "ada@example.org", "password"),
            ("a long enough one", "another long one", "confirmation")):
        with pytest.raises(DomainError) as refused:
            check_new_password(password, confirmation, "ada@example.org")
        assert refused.value.field == field


@pytest.mark.parametrize(("target", "expected"), [
    ("/applications/3?x=1", "/applications/3?x=1"), (None, "/"), ("", "/"),
    ("//evil.example/", "/"), ("https://evil.example/", "/"), ("/\\evil.example", "/"),
])
def test_after_signing_in_only_a_local_page(target, expected):
    assert safe_next(target) == expected


def test_a_digest_asked_for_covers_both_days_whole_and_stops_at_now():
    from datetime import UTC, date

    from services.console.domain import digest_period

    now = datetime(2026, 12, 1, 11, 39, tzinfo=UTC)
    # "to today": what happened this morning is in it (the badge's 121st member was not).
    assert digest_period(date(2022, 1, 1), date(2026, 12, 1), now) == (
        datetime(2022, 1, 1, tzinfo=UTC), now)
    assert digest_period(date(2026, 11, 2), date(2026, 11, 8), now) == (
        datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 9, tzinfo=UTC))
    # one day is a period too
    assert digest_period(date(2026, 11, 30), date(2026, 11, 30), now)[1] == datetime(
        2026, 12, 1, tzinfo=UTC)
