"""What a new application is compared with, kept per process and known to be current.

Every application is compared with every open application and member of its country
(``duplicates.possible_duplicates``); reading them all for each new one cost a statement and a
row per candidate, growing with the country. They are kept here instead, per database and
country, at the country's *generation*: a counter (table ``candidate_generations``) that every
transaction changing the country's candidates bumps, once, in that transaction, and so holds
locked until it ends. A transaction that reads the candidates bumps first: when the generation
it replaced is the one the kept set was read at, no one changed them since (any process, any
replica would have bumped it) and the kept set is used; otherwise they are read again. Its own
changes are applied to the kept set when it commits. Two transactions on one country now take
turns (the counter's lock): two applications of one government arriving together see each other.

What changes the candidates is seen where it is written: the ORM's flush (mapper events on
``Application`` and ``Member``, see db.py) and the registry's own Core insert of a received
application (``note``). A savepoint rolled back (none in the registry today) leaves this
transaction's changes unknown: the kept set is not updated from them, and the next change bumps
again.
"""
from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import BigInteger, Column, MetaData, String, Table, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, SessionTransaction

from services.registry.duplicates import Candidate

metadata = MetaData()

generations = Table(
    "candidate_generations",
    metadata,
    Column("country", String(2), primary_key=True),
    Column("generation", BigInteger, nullable=False),
)

# (kind, reference): a member keeps its application's reference.
Key = tuple[str, str]


def key_of(candidate: Candidate) -> Key:
    return (candidate.kind, candidate.reference)


@dataclass
class _Kept:
    generation: int
    candidates: dict[Key, Candidate]


@dataclass
class _Changes:
    """One transaction's changes to one country's candidates."""

    # The generation its bump replaced; None when not known (after a savepoint's rollback).
    base: int | None
    added: dict[Key, Candidate] = field(default_factory=dict)
    removed: set[Key] = field(default_factory=set)
    bumped: bool = True

    def applied_to(self, candidates: dict[Key, Candidate]) -> dict[Key, Candidate]:
        if self.empty:
            return candidates
        kept = {key: c for key, c in candidates.items() if key not in self.removed}
        kept.update(self.added)
        return kept

    def apply(self, candidates: dict[Key, Candidate]) -> None:
        for key in self.removed:
            candidates.pop(key, None)
        candidates.update(self.added)

    @property
    def empty(self) -> bool:
        return not self.added and not self.removed


# Per engine: a database dropped and made again under the same URL starts its counters again.
_kept: weakref.WeakKeyDictionary[Engine, dict[str, _Kept]] = weakref.WeakKeyDictionary()
_CHANGES = "registry.candidate_changes"
_LISTENING = "registry.candidate_listeners"
_BUMP = {
    insert: insert(generations).values(generation=1).on_conflict_do_update(
        index_elements=["country"], set_={"generation": generations.c.generation + 1},
    ).returning(generations.c.generation)
    for insert in (pg_insert, sqlite_insert)
}


def candidates(session: Session, country: str,
               load: Callable[[], Iterable[Candidate]]) -> list[Candidate]:
    """The country's candidates as this transaction sees them (``load`` reads them from the
    tables when the kept set will not do); nothing changes them until it ends."""
    session.flush()  # what the ORM still holds is this transaction's too (as autoflush would)
    changes = _changes(session, session.connection(), country)
    kept = _kept_by(session).get(country)
    if kept is not None and changes.base is not None and kept.generation == changes.base:
        return list(changes.applied_to(kept.candidates).values())
    loaded = {key_of(c): c for c in load()}
    if changes.base is not None and changes.empty:
        # Read under the counter's lock, before any change of ours: the country at ``base``.
        _kept_by(session)[country] = _Kept(changes.base, loaded)
    return list(loaded.values())


def note(session: Session, connection: Connection, country: str,
         added: Iterable[Candidate] = (), removed: Iterable[Key] = ()) -> None:
    """This transaction changes the country's candidates (bumping its generation first)."""
    changes = _changes(session, connection, country)
    for key in removed:
        changes.added.pop(key, None)
        changes.removed.add(key)
    for candidate in added:
        changes.removed.discard(key_of(candidate))
        changes.added[key_of(candidate)] = candidate


def _changes(session: Session, connection: Connection, country: str) -> _Changes:
    if _LISTENING not in session.info:
        session.info[_LISTENING] = True
        event.listen(session, "after_commit", _committed)
        event.listen(session, "after_soft_rollback", _rolled_back)
    by_country = session.info.setdefault(_CHANGES, {})
    changes = by_country.get(country)
    if changes is None or not changes.bumped:
        dialect = connection.dialect.name
        generation = connection.execute(
            _BUMP[pg_insert if dialect == "postgresql" else sqlite_insert],
            {"country": country}).scalar_one()
        if changes is None:
            changes = by_country[country] = _Changes(base=generation - 1)
        changes.bumped = True
    return changes


def _kept_by(session: Session) -> dict[str, _Kept]:
    return _kept.setdefault(session.get_bind(), {})


def _committed(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: its changes count when the transaction commits
    by_country = session.info.pop(_CHANGES, None) or {}
    kept_by = _kept_by(session)
    for country, changes in by_country.items():
        kept = kept_by.get(country)
        # Held locked from the bump to the commit: the country is now at base + 1. A kept set
        # at another generation is left; the next reader finds it stale and reads again.
        if kept is not None and changes.base is not None and kept.generation == changes.base:
            changes.apply(kept.candidates)
            kept.generation = changes.base + 1


def _rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_CHANGES, None)  # the whole transaction: nothing of it happened
        return
    # A savepoint: which of the changes it undid (bumps included) is not known.
    for changes in (session.info.get(_CHANGES) or {}).values():
        changes.base = None
        changes.bumped = False
