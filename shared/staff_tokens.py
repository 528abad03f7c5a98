"""Staff bearer tokens, the same for every service that has staff routes.

STAFF_API_TOKENS is comma-separated, each item ``label:token`` or a bare token. The label is who
an audit entry names; a bare token gets a label derived from its hash, so that nothing written
down holds a usable secret. Only SHA-256 digests are kept and compared, in constant time.

The token labelled ``console`` is the staff console's: it acts for the signed-in person, whom it
names in ``X-Staff-Actor``, and only that token may name someone else than its own label. The
console's secret is CONSOLE_STAFF_TOKEN, else the ``console:`` item of STAFF_API_TOKENS; every
service reading either knows the console's token by that label.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from shared import validation

CONSOLE_LABEL = "console"
ACTOR_HEADER = "X-Staff-Actor"
_ACTOR = re.compile(r"^[^\s@<>\"',;]{1,64}@[^\s@<>\"',;]{1,190}$")


class InvalidTokenSetting(ValueError):
    """STAFF_API_TOKENS names a token with nothing after its label."""


@dataclass(frozen=True)
class StaffToken:
    label: str
    digest: str  # sha256 hex of the token: what is compared and what a database stores

    @classmethod
    def from_secret(cls, label: str, secret: str) -> StaffToken:
        return cls(label=label, digest=token_digest(secret))


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_tokens(setting: str | None) -> list[StaffToken]:
    """The tokens of a STAFF_API_TOKENS value (empty or unset: none)."""
    tokens = []
    for item in (setting or "").split(","):
        item = item.strip()
        if not item:
            continue
        label, sep, secret = item.partition(":")
        if not sep:
            label, secret = "", item
        label, secret = label.strip(), secret.strip()
        if not secret:
            raise InvalidTokenSetting(f"STAFF_API_TOKENS: the token labelled {label!r} is empty")
        tokens.append(StaffToken.from_secret(label or f"token-{token_digest(secret)[:8]}", secret))
    return tokens


def generate_token() -> str:
    return secrets.token_urlsafe(32)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if that is what it is."""
    scheme, _, credentials = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


def authenticate(presented: str | None, tokens: Iterable[StaffToken]) -> StaffToken | None:
    """The staff token matching ``presented``, compared in constant time, or None."""
    if not presented:
        return None
    digest = token_digest(presented)
    found = None
    # Compare against every token, even after a match, so timing says nothing about which one.
    for token in tokens:
        if hmac.compare_digest(digest, token.digest):
            found = token
    return found


def console_secret(console_token: str | None, setting: str | None) -> str | None:
    """The console's secret: CONSOLE_STAFF_TOKEN, else the ``console:`` STAFF_API_TOKENS item."""
    if console_token and console_token.strip():
        return console_token.strip()
    for item in (setting or "").split(","):
        label, sep, secret = item.strip().partition(":")
        if sep and label.strip() == CONSOLE_LABEL and secret.strip():
            return secret.strip()
    return None


def console_tokens(secret: str | None, known: Iterable[StaffToken]) -> list[StaffToken]:
    """The console's token, to accept beside ``known`` (empty if unset or already among them)."""
    if not secret:
        return []
    token = StaffToken.from_secret(CONSOLE_LABEL, secret)
    return [] if any(t.digest == token.digest for t in known) else [token]


def actor(token: StaffToken, named: str | None) -> str:
    """Who a staff request acts for: the person the console names, else the token's label.

    Only the console's token may name a person; from any other token the header is ignored, so
    a leaked script token cannot write someone else's name into the audit trail.
    """
    if token.label != CONSOLE_LABEL or not named:
        return token.label
    named = named.strip()
    try:
        named = validation.clean_text(named, name=True)
    except validation.Refused:
        return token.label
    return named.lower() if _ACTOR.match(named) else token.label
