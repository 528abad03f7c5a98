from datetime import UTC, datetime

import pytest

from services.intake import guards
from services.intake.guards import BadSetting, RateLimit


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("20/minute", RateLimit(20, 60)),
        (" 5 / 10 seconds ", RateLimit(5, 10)),
        ("1000/hour", RateLimit(1000, 3600)),
        ("3/Day", RateLimit(3, 86400)),
    ],
)
def test_a_rate_limit_is_read_from_its_setting(text, limit):
    assert RateLimit.parse(text) == limit


@pytest.mark.parametrize("text", ["off", "OFF", "0", ""])
def test_a_rate_limit_can_be_turned_off(text):
    assert RateLimit.parse(text) is None


@pytest.mark.parametrize("text", ["20", "20/fortnight", "x/minute", "0/minute", "-1/minute"])
def test_a_bad_rate_limit_setting_is_refused(text):
    with pytest.raises(BadSetting):
        RateLimit.parse(text)


def test_the_limit_counts_inside_fixed_windows():
    limit = RateLimit(2, 60)
    start = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert limit.window(start) == limit.window(start.replace(second=59))
    assert limit.window(start.replace(minute=1)) == limit.window(start) + 1
    assert limit.allows(1) and limit.allows(2) and not limit.allows(3)


def test_retry_after_says_when_the_next_window_opens():
    limit = RateLimit(2, 60)
    assert limit.retry_after(datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)) == 60
    assert limit.retry_after(datetime(2026, 5, 1, 12, 0, 45, tzinfo=UTC)) == 15
    assert limit.retry_after(datetime(2026, 5, 1, 12, 0, 59, 900000, tzinfo=UTC)) == 1


def test_clients_are_counted_under_a_hash_of_their_address():
    key = guards.client_key("203.0.113.9")
    assert "203" not in key and len(key) == 32
    assert key == guards.client_key("203.0.113.9") != guards.client_key("203.0.113.10")


def test_a_csrf_token_is_the_signature_of_the_browser_cookie():
    secret, browser = guards.new_secret(), guards.new_browser_id()
    token = guards.csrf_token(secret, browser)
    assert guards.csrf_valid(secret, browser, token)
    assert not guards.csrf_valid(secret, guards.new_browser_id(), token)
    assert not guards.csrf_valid(guards.new_secret(), browser, token)
    assert not guards.csrf_valid(secret, browser, token[:-1] + "0" if token[-1] != "0" else "1")
    assert not guards.csrf_valid(secret, None, token)
    assert not guards.csrf_valid(secret, browser, "")


def test_cors_origins_come_from_a_comma_separated_allow_list():
    allowed = guards.allowed_origins(" https://www.Example.org/, http://localhost:3000 ,")
    assert allowed == {"https://www.example.org", "http://localhost:3000"}
    assert guards.origin_allowed("https://www.example.org", allowed)
    assert not guards.origin_allowed("https://evil.example", allowed)
    assert not guards.origin_allowed(None, allowed)
    assert not guards.origin_allowed("https://www.example.org", guards.allowed_origins(""))
    assert guards.origin_allowed("https://any.example", guards.allowed_origins("*"))


PROXIES = guards.trusted_proxies(" 10.0.0.5, 10.0.0.6 ,")


def test_trusted_proxies_come_from_a_comma_separated_setting():
    assert PROXIES == {"10.0.0.5", "10.0.0.6"}
    assert guards.trusted_proxies("") == frozenset()


@pytest.mark.parametrize(
    ("peer", "forwarded", "applicant"),
    [
        ("203.0.113.9", None, "203.0.113.9"),
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # not our proxy: the header is a claim
        ("10.0.0.5", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.5", "1.2.3.4, 198.51.100.1, 10.0.0.6", "198.51.100.1"),  # left of it is forged
        ("10.0.0.5", "", "10.0.0.5"),
        ("10.0.0.5", "10.0.0.6", "10.0.0.5"),
    ],
)
def test_the_applicant_is_the_peer_or_the_nearest_address_behind_our_proxies(
        peer, forwarded, applicant):
    assert guards.client_address(peer, forwarded, PROXIES) == applicant
