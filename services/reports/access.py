"""Staff access to the reports: ``Authorization: Bearer <token>``, tokens from STAFF_API_TOKENS.

STAFF_API_TOKENS is comma-separated; an item is ``label:token`` or a bare token. Only the
SHA-256 of each token is kept, and a presented token is compared against every one of them
in constant time, so neither the comparison nor which token matched shows in the timing.
"""
from __future__ import annotations

import hashlib
import hmac

from shared.http import HttpError


class StaffTokens:
    def __init__(self, setting: str | None, issued_digests: list[str] | None = None):
        """``issued_digests``: tokens the registry generated when none was configured."""
        self._digests = [_digest(secret) for secret in _secrets(setting)]
        self._digests += issued_digests or []

    def __bool__(self) -> bool:
        return bool(self._digests)

    def allows(self, authorization: str | None) -> bool:
        scheme, _, credentials = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            return False
        presented = _digest(credentials.strip())
        allowed = False
        for digest in self._digests:
            allowed |= hmac.compare_digest(presented, digest)
        return allowed

    def require(self, authorization: str | None) -> None:
        if not self.allows(authorization):
            raise HttpError(401, "unauthorized", "a staff bearer token is required",
                            {"WWW-Authenticate": 'Bearer realm="reports"'})


def _secrets(setting: str | None) -> list[str]:
    secrets = []
    for item in (setting or "").split(","):
        label, sep, secret = item.strip().partition(":")
        secret = (secret if sep else label).strip()
        if secret:
            secrets.append(secret)
    return secrets


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
