"""Staff access to the reports: ``Authorization: Bearer <token>`` (see shared.staff_tokens).

Tokens come from STAFF_API_TOKENS or, when none is configured, from the digests the registry
announced for the token it generated (``staff.token_issued``).
"""
from __future__ import annotations

from shared.http import HttpError
from shared.staff_tokens import (
    StaffToken,
    authenticate,
    bearer_token,
    console_tokens,
    parse_tokens,
)


class StaffTokens:
    def __init__(self, setting: str | None, issued_digests: list[str] | None = None,
                 console: str | None = None):
        """``issued_digests``: tokens the registry generated when none was configured;
        ``console``: the staff console's own secret (shared.staff_tokens.console_secret)."""
        self._tokens = parse_tokens(setting)
        self._tokens += [StaffToken("generated", digest) for digest in issued_digests or []]
        self._tokens += console_tokens(console, self._tokens)

    def __bool__(self) -> bool:
        return bool(self._tokens)

    def allows(self, authorization: str | None) -> bool:
        return authenticate(bearer_token(authorization), self._tokens) is not None

    def require(self, authorization: str | None) -> None:
        if not self.allows(authorization):
            raise HttpError(401, "unauthorized", "a staff bearer token is required",
                            {"WWW-Authenticate": 'Bearer realm="reports"'})
