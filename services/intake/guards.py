"""What protects the public form from abuse, as pure rules: the per-client rate limit, the CSRF
token of the HTML form, and the CORS allow-list of the JSON route.

The state these rules need (counters, the deployment's secret) lives in intake's database, so
that every replica applies the same limits and accepts the same tokens.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NoReturn

from services.intake.domain import DomainError
from shared.clock import naive_utc

_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_LIMIT = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day)s?\s*$", re.IGNORECASE)


class BadSetting(DomainError):
    """A configuration value that intake cannot use."""


class TooManyRequests(DomainError):
    """A client over its rate limit; it may try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"rate limited for {retry_after} s")
        self.retry_after = retry_after


class QuietlyRefused(DomainError):
    """Over a limit that must not show (it would tell that a reference exists): answer as
    usual, do nothing."""


@dataclass(frozen=True)
class RateLimit:
    """At most ``requests`` per client in each fixed window of ``window_seconds``."""

    requests: int
    window_seconds: int

    @classmethod
    def parse(cls, text: str) -> RateLimit | None:
        """``"20/minute"``, ``"5/10 seconds"``, ``"1000/hour"``; ``"off"`` means no limit."""
        if text.strip().lower() in ("off", "none", "0", ""):
            return None
        found = _LIMIT.match(text)
        if not found or int(found.group(1)) < 1:
            raise BadSetting(f"a rate limit looks like 20/minute, not {text!r}")
        multiple = int(found.group(2) or 1)
        return cls(int(found.group(1)), multiple * _PERIODS[found.group(3).lower()])

    def window(self, now: datetime) -> int:
        """The number of the fixed window ``now`` falls in (the same on every replica)."""
        return int(now.timestamp()) // self.window_seconds

    def allows(self, count: int) -> bool:
        """Is the ``count``-th request of a window still within the limit?"""
        return count <= self.requests

    def retry_after(self, now: datetime) -> int:
        """Whole seconds until the next window opens (at least 1)."""
        ends = (self.window(now) + 1) * self.window_seconds
        return max(1, math.ceil(ends - now.timestamp()))

    def admission(self, who: str | None, now: datetime) -> Admission:
        """The counter one request of ``who`` adds one to, at ``now`` (aware)."""
        window = self.window(now)
        ends = datetime.fromtimestamp((window + 1) * self.window_seconds, UTC)
        return Admission(client_key(who), window, naive_utc(ends + timedelta(seconds=1)),
                         self, now)


@dataclass(frozen=True)
class Admission:
    """One request counted against a rate limit: the counter's row (``client``, ``window``,
    kept until ``expires_at``, naive UTC) and what the count it reaches means."""

    client: str
    window: int
    expires_at: datetime
    limit: RateLimit
    now: datetime

    @property
    def counter(self) -> tuple[str, int, datetime]:
        return self.client, self.window, self.expires_at

    def over(self, count: int) -> int | None:
        """The seconds to wait if the ``count``-th request is over the limit, else None."""
        return None if self.limit.allows(count) else self.limit.retry_after(self.now)

    def check(self, count: int) -> None:
        """Raises TooManyRequests if the ``count``-th request is over the limit."""
        if not self.limit.allows(count):
            self.refuse()

    def refuse(self) -> NoReturn:
        raise TooManyRequests(self.limit.retry_after(self.now))


def client_address(peer: str | None, forwarded_for: str | None,
                   trusted_proxies: frozenset[str]) -> str | None:
    """The applicant's address: the TCP peer, unless the peer is one of our reverse proxies;
    then the nearest address in X-Forwarded-For that is not one of them (the ones further left
    were written by the client and prove nothing)."""
    if peer not in trusted_proxies or not forwarded_for:
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop not in trusted_proxies:
            return hop
    return peer


def trusted_proxies(setting: str) -> frozenset[str]:
    """``INTAKE_TRUSTED_PROXIES``: comma-separated addresses of our own reverse proxies."""
    return frozenset(address.strip() for address in setting.split(",") if address.strip())


def client_key(address: str | None) -> str:
    """What a counter is kept under: the client's address, hashed (no addresses at rest)."""
    return hashlib.sha256((address or "unknown").encode()).hexdigest()[:32]


# -- CSRF: a double-submit cookie, signed ---------------------------------------------------------

def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_browser_id() -> str:
    """The random value of the form's cookie; the form's hidden field is its signature."""
    return secrets.token_urlsafe(18)


def csrf_token(secret: str, browser_id: str) -> str:
    return hmac.new(secret.encode(), browser_id.encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret: str, browser_id: str | None, token: str | None) -> bool:
    """A page on another site can neither read our cookie nor compute its signature."""
    if not browser_id or not token:
        return False
    return hmac.compare_digest(csrf_token(secret, browser_id), token)


# -- CORS ---------------------------------------------------------------------------------------

def allowed_origins(setting: str) -> frozenset[str]:
    """``INTAKE_CORS_ORIGINS``: comma-separated origins such as https://www.example.org."""
    return frozenset(
        origin.strip().rstrip("/").lower() for origin in setting.split(",") if origin.strip()
    )


def origin_allowed(origin: str | None, allowed: frozenset[str]) -> bool:
    if not origin:
        return False
    return "*" in allowed or origin.rstrip("/").lower() in allowed
