"""Who may act as staff, and the record of what staff did.

Tokens come from STAFF_API_TOKENS, comma-separated, each either ``label:token`` or a bare token.
The label is who an audit entry names; a bare token gets a label derived from its hash, so that
the audit trail never holds a usable secret.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.registry.domain import InvalidRequest


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
            raise InvalidRequest(f"STAFF_API_TOKENS: the token labelled {label!r} is empty")
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


@dataclass(frozen=True)
class AuditEntry:
    """One staff action: who did what to which thing, when, and the state before and after."""

    who: str
    action: str
    subject_type: str  # "application", "member", "wave"
    subject_id: str
    at: datetime
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "who": self.who,
            "action": self.action,
            "subject_type": self.subject_type,
            "subject_id": self.subject_id,
            "at": self.at.isoformat(),
            "before": dict(self.before) if self.before is not None else None,
            "after": dict(self.after) if self.after is not None else None,
        }
