"""The reports domain: the read model, progress, digest periods and content. Pure Python."""
from .badge import badge_svg
from .chart import members_chart
from .digest import DIGEST, WAITING_AFTER, DigestContent, build_digest
from .errors import DomainError, InvalidPeriod, InvalidSchedule, UnknownLanguage
from .i18n import LANGUAGES
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
from .render import (
    RenderedDigest,
    digest_ready_data,
    progress_csv,
    progress_json,
    public_progress_json,
    render_digest,
    render_progress_html,
)

__all__ = [
    "DEADLINE",
    "DIGEST",
    "GOAL",
    "LANGUAGES",
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
    "RenderedDigest",
    "UnknownLanguage",
    "WaveView",
    "badge_svg",
    "build_digest",
    "digest_ready_data",
    "members_chart",
    "overview",
    "parse_instant",
    "progress_csv",
    "progress_json",
    "public_progress_json",
    "render_digest",
    "render_progress_html",
]
