"""A digest: what happened in one period, and where the campaign stands at its end."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .periods import Period
from .progress import Overview, overview
from .readmodel import PENDING, ApplicationView, Decision, MemberView, ReadModelStore

DIGEST = "campaign"
# An application nobody has decided on for two weeks is flagged to the secretariat.
WAITING_AFTER = timedelta(days=14)
_PENDING = frozenset(PENDING)


@dataclass(frozen=True)
class DecisionLine:
    reference: str
    government_name: str | None
    country: str | None
    outcome: str
    decided_at: datetime
    wave: int | None


@dataclass(frozen=True)
class WaitingLine:
    application: ApplicationView
    days: int


@dataclass(frozen=True)
class DigestContent:
    digest: str
    period: Period
    new_applications: list[ApplicationView]
    decisions: list[DecisionLine]
    waiting: list[WaitingLine]
    members_joined: list[MemberView]
    members_left: list[MemberView]
    overview: Overview

    @property
    def accepted(self) -> int:
        return sum(1 for d in self.decisions if d.outcome == "accepted")

    @property
    def declined(self) -> int:
        return sum(1 for d in self.decisions if d.outcome == "declined")


def build_digest(store: ReadModelStore, period: Period, digest: str = DIGEST,
                 sent_at: datetime | None = None) -> DigestContent:
    """The digest of ``period``; its totals are the campaign at the period's end, or at
    ``sent_at`` if it is sent before that end (ages are never measured in the future)."""
    at = digest_instant(period, sent_at)
    return digest_of(period, at, digest, applications=list(store.applications()),
                     decisions=store.decisions(), members=store.members(),
                     overview=overview(store, at))


def digest_instant(period: Period, sent_at: datetime | None) -> datetime:
    return min(period.end, sent_at) if sent_at is not None else period.end


def digest_of(period: Period, at: datetime, digest: str, *,
              applications: list[ApplicationView], decisions: Iterable[Decision],
              members: Iterable[MemberView], overview: Overview) -> DigestContent:
    """The digest from candidate rows: any that the period's lines need, and perhaps more (a
    database hands over only those, chosen by the same rules, and the rules here decide)."""
    by_reference = {a.reference: a for a in applications}
    members = list(members)
    return DigestContent(
        digest=digest,
        period=period,
        new_applications=sorted(
            (a for a in applications if a.since is not None and a.since in period),
            key=lambda a: (a.since, a.reference),
        ),
        decisions=sorted(
            (
                _decision_line(d, by_reference.get(d.reference))
                for d in decisions
                if d.decided_at in period
            ),
            key=lambda d: (d.decided_at, d.reference),
        ),
        waiting=waiting_at(applications, at),
        members_joined=sorted(
            (m for m in members if m.joined_at is not None and m.joined_at in period),
            key=lambda m: (m.joined_at, m.member_id),
        ),
        members_left=sorted(
            (m for m in members if m.left_at is not None and m.left_at in period),
            key=lambda m: (m.left_at, m.member_id),
        ),
        overview=overview,
    )


def waiting_at(applications: list[ApplicationView], at: datetime) -> list[WaitingLine]:
    """Applications still undecided at ``at``, filed more than WAITING_AFTER before; oldest first.

    An application decided after ``at`` was still waiting then: statuses only move forward
    from the pending ones, so a later change means it was pending at ``at``.
    """
    cutoff = at - WAITING_AFTER
    waiting = [
        (since, a.reference, a)
        for a in applications
        if (a.status in _PENDING or (a.status_at is not None and a.status_at > at))
        and (since := a.since) is not None
        and since < cutoff
    ]
    waiting.sort(key=lambda item: item[:2])
    return [WaitingLine(a, (at - since).days) for since, _reference, a in waiting]


def _decision_line(decision: Decision, application: ApplicationView | None) -> DecisionLine:
    return DecisionLine(
        reference=decision.reference,
        government_name=application.government_name if application else None,
        country=application.country if application else None,
        outcome=decision.outcome,
        decided_at=decision.decided_at,
        wave=decision.wave if decision.wave is not None else (application and application.wave),
    )
