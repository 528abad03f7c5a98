"""The chart of members over time against the path to 1000 by 2030, as a PNG.

Drawn with matplotlib's Agg canvas on a Figure of its own (never pyplot's global state). The
service draws in an OS thread (services.reports.offload), because drawing takes long enough to
starve the broker heartbeat on the eventlet hub.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from io import BytesIO

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from services.reports.domain.progress import GOAL, MILESTONES, Progress
from shared.campaign import campaign_name

from .i18n import translations

CAMPAIGN_GREEN = "#00843d"
PATH_GREY = "#8a8a8a"
NEEDED_RED = "#c0392b"


def members_chart(
    series: list[tuple[date, int]], progress: Progress, language: str = "en"
) -> bytes:
    """A PNG: members at the end of each day, the steady path and the pace needed from now."""
    _ = translations(language).gettext
    figure = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    today = progress.at.date()
    deadline = (progress.deadline - timedelta(days=1)).date()
    start = progress.campaign_start.date() if progress.campaign_start else today

    if series:
        days = [d for d, _count in series] + [today]
        counts = [c for _day, c in series] + [series[-1][1]]
        axes.step(days, counts, where="post", color=CAMPAIGN_GREEN, linewidth=2,
                  label=_("Members"))
    axes.plot([start, deadline], [0, GOAL], color=PATH_GREY, linestyle="--",
              label=_("Steady path to 1000 by 2030"))
    if progress.remaining and today < deadline:
        axes.plot([today, deadline], [progress.members, GOAL], color=NEEDED_RED, linestyle=":",
                  label=_("Pace needed from today"))
    for target in MILESTONES:
        axes.axhline(target, color=PATH_GREY, linewidth=0.5)
        axes.annotate(str(target), (start, target), textcoords="offset points", xytext=(2, 2),
                      fontsize=8, color=PATH_GREY)

    locator = AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.set_xlim(_as_datetime(start), _as_datetime(deadline))
    axes.set_ylim(0, GOAL * 1.05)
    axes.set_ylabel(_("Members"))
    axes.set_title(_("{cities}: members toward 1000 by 2030").format(
        cities=campaign_name(language).cities))
    axes.legend(loc="upper left", fontsize=8)
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()

    png = BytesIO()
    figure.savefig(png, format="png")
    return png.getvalue()


def _as_datetime(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)
