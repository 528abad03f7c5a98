"""The staff-token check of every service's staff routes, as one nameko dependency.

Tokens are STAFF_API_TOKENS; with none configured, the ones a service keeps in its own table
(``issued``): the token the registry generated, or the digests it announced in
``staff.token_issued``. The console's token is accepted where the console calls (``console``).
A request without a valid token is a 401 before anything else runs.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from nameko.extensions import DependencyProvider
from sqlalchemy import DateTime, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.clock import naive_utc, parse_instant
from shared.config import Knobs
from shared.db import database_for, insert_for
from shared.events import StaffTokenIssued
from shared.http import HttpError
from shared.staff_tokens import (
    ACTOR_HEADER,
    StaffToken,
    actor,
    authenticate,
    bearer_token,
    console_secret,
    console_tokens,
    parse_tokens,
)

GENERATED_LABEL = "generated"

# What a service keeps of the tokens issued while none is configured: tokens, or bare digests
# (learnt from ``staff.token_issued``), which stand for the registry's generated token.
IssuedSource = Callable[[Session], Iterable[StaffToken | str]]


class StaffAccess(DependencyProvider):
    def __init__(self, issued: IssuedSource | None = None, *, console: bool = True):
        self.issued = issued
        self.accepts_console = console

    def setup(self) -> None:
        config = self.container.config
        knobs = Knobs(config)
        setting = knobs.text("STAFF_API_TOKENS") or None
        # ``hrc run`` may hand the console's token over in memory (Settings.console_token).
        console = (console_secret(knobs.text("CONSOLE_STAFF_TOKEN"), setting)
                   or knobs.settings.console_token)
        self.configured = parse_tokens(setting)
        self.console = console_tokens(console, self.configured) if self.accepts_console else []
        self.database = database_for(config["DB_URL"]) if self.issued is not None else None
        self.realm = self.container.service_name

    def get_dependency(self, worker_ctx) -> StaffAccess:
        return self

    def tokens(self) -> list[StaffToken]:
        return (self.configured or self.issued_tokens()) + self.console

    def issued_tokens(self) -> list[StaffToken]:
        if self.database is None:
            return []
        with self.database.transaction() as session:
            return [item if isinstance(item, StaffToken) else StaffToken(GENERATED_LABEL, item)
                    for item in self.issued(session)]

    def who(self, request) -> str:
        """Who acts: the token's label, or the person the console names; 401 without a token."""
        token = authenticate(bearer_token(request.headers.get("Authorization")), self.tokens())
        if token is None:
            raise HttpError(401, "unauthorized",
                            "a valid staff token is required: Authorization: Bearer <token>",
                            {"WWW-Authenticate": f'Bearer realm="{self.realm}"'})
        return actor(token, request.headers.get(ACTOR_HEADER))

    def require(self, request) -> None:
        self.who(request)


class IssuedTokenColumns:
    """The columns of a service's ``staff_tokens`` table (a declarative mixin: each service's
    row class adds its own Base and ``__tablename__``): a token the registry generated while
    none was configured, known by its digest only."""

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[datetime] = mapped_column(DateTime)


class AnnouncedTokens:
    """What a service keeps of ``staff.token_issued``: its handler (``remember``) and what
    ``StaffAccess`` reads (``digests``)."""

    def __init__(self, row: type[IssuedTokenColumns]):
        self.row = row

    def remember(self, issued: StaffTokenIssued, session: Session) -> None:
        session.execute(insert_for(session)(self.row).values(
            digest=issued.digest, label=issued.label,
            issued_at=naive_utc(parse_instant(issued.occurred_at)),
        ).on_conflict_do_nothing(index_elements=["digest"]))

    def digests(self, session: Session) -> list[str]:
        return list(session.scalars(select(self.row.digest)))
