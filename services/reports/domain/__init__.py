"""The reports domain: the read model, progress, digest periods and content, the directory's
listing. Pure Python: it renders nothing (that is ``views``)."""
from shared.campaign import LANGUAGES

from .digest import DIGEST, WAITING_AFTER, DigestContent, build_digest
from .errors import DomainError, InvalidPeriod, InvalidSchedule, UnknownLanguage
from .periods import DigestSchedule, Period
from .progress import DEADLINE, GOAL, MILESTONES, Overview, Progress, overview
from .readmodel import (
    ApplicationView,
    Decision,
    InMemoryStore,
    MemberView,
    ReadModelStore,
    WaveView,
    parse_instant,
)

__all__ = [
    "LANGUAGES",
    "DEADLINE",
    "DIGEST",
    "GOAL",
    "MILESTONES",
    "WAITING_AFTER",
    "ApplicationView",
    "Decision",
    "DigestContent",
    "DigestSchedule",
    "DomainError",
    "InMemoryStore",
    "InvalidPeriod",
    "InvalidSchedule",
    "MemberView",
    "Overview",
    "Period",
    "Progress",
    "ReadModelStore",
    "UnknownLanguage",
    "WaveView",
    "build_digest",
    "overview",
    "parse_instant",
]
