"""The reports as documents: digest mail parts, progress report in JSON, CSV and HTML."""
from __future__ import annotations

import base64
import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from io import StringIO
from typing import Any

from services.reports.domain.digest import DigestContent
from services.reports.domain.progress import Overview, Progress, pending_count
from shared.campaign import campaign_name

from .i18n import check_language, environment, translations

CHART_CID = "progress-chart"
# A digest lists at most this many lines per section; the CSV attachment has them all.
LIST_LIMIT = 50


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    html: str
    text: str
    csv: str


def render_digest(content: DigestContent, language: str = "en") -> RenderedDigest:
    check_language(language)
    env = environment(language)
    _ = translations(language).gettext
    subject = _("{cities} digest, {start} to {end}: {members} members").format(
        cities=campaign_name(language).cities,
        start=content.period.start.date().isoformat(),
        end=content.period.end.date().isoformat(),
        members=content.overview.progress.members,
    )
    values = {
        "d": content,
        "o": content.overview,
        "p": content.overview.progress,
        "pending": pending_count(content.overview.applications_by_status),
        "limit": LIST_LIMIT,
        "chart_src": f"cid:{CHART_CID}",
        "subject": subject,
        "language": language,
    }
    return RenderedDigest(
        subject=subject,
        html=env.get_template("digest.html").render(values),
        text=env.get_template("digest.txt").render(values),
        csv=digest_csv(content),
    )


def digest_ready_data(
    content: DigestContent,
    rendered: RenderedDigest,
    chart_png: bytes,
    recipients: list[str],
    language: str,
) -> dict[str, Any]:
    """The data of a ``digest.ready`` event: notify sends it as it is."""
    stamp = content.period.start.strftime("%Y%m%d")
    return {
        "digest": content.digest,
        "period": content.period.as_dict(),
        "recipients": list(recipients),
        "subject": rendered.subject,
        "html": rendered.html,
        "text": rendered.text,
        "language": language,
        "attachments": [
            {
                "filename": f"progress-{stamp}.png",
                "content_type": "image/png",
                "content_base64": base64.b64encode(chart_png).decode("ascii"),
                "content_id": CHART_CID,
            },
            {
                "filename": f"digest-{stamp}.csv",
                "content_type": "text/csv",
                "content_base64": base64.b64encode(rendered.csv.encode("utf-8")).decode("ascii"),
                "content_id": None,
            },
        ],
    }


CSV_COLUMNS = ("section", "key", "name", "country", "wave", "status", "date", "value")


def digest_csv(content: DigestContent) -> str:
    """Every line of the digest, one section per kind, then the totals; keys stay in English."""
    rows: list[tuple] = []
    for a in content.new_applications:
        rows.append(("new_application", a.reference, a.government_name, a.country, a.wave,
                     a.status, _iso(a.since), a.population))
    for d in content.decisions:
        rows.append(("decision", d.reference, d.government_name, d.country, d.wave, d.outcome,
                     _iso(d.decided_at), ""))
    for w in content.waiting:
        a = w.application
        rows.append(("waiting", a.reference, a.government_name, a.country, a.wave, a.status,
                     _iso(a.since), w.days))
    for m in content.members_joined:
        rows.append(("member_joined", m.member_id, m.government_name, m.country, m.wave,
                     m.region, _iso(m.joined_at), m.population))
    for m in content.members_left:
        rows.append(("member_left", m.member_id, m.government_name, m.country, m.wave,
                     m.left_reason, _iso(m.left_at), ""))
    rows += _total_rows(content.overview)
    return _csv(rows)


def progress_csv(overview: Overview) -> str:
    return _csv(_total_rows(overview))


def progress_json(overview: Overview) -> dict[str, Any]:
    """The staff report: every breakdown of the read model (counts only)."""
    return {
        **public_progress_json(overview),
        "members_by_country": overview.members_by_country,
        "members_by_jurisdiction_type": overview.members_by_jurisdiction_type,
        "members_by_population_band": overview.members_by_population_band,
        "members_by_theme": overview.members_by_theme,
        "applications_by_status": {
            status: {
                "count": age.count,
                "average_age_days": round(age.average_days, 1),
                "oldest_age_days": round(age.oldest_days, 1),
            }
            for status, age in overview.applications_by_status.items()
        },
        "decisions_by_month": overview.decisions_by_month,
        "members_over_time": [[d.isoformat(), c] for d, c in overview.series],
    }


def public_progress_json(overview: Overview) -> dict[str, Any]:
    """What anyone may see: counts toward 10 / 100 / 1000, never a name."""
    return {
        "at": overview.at.isoformat(),
        "progress": progress_fields(overview.progress),
        "members_by_wave": overview.members_by_wave,
        "members_by_region": overview.members_by_region,
        "waves": [
            {"number": w["number"], "name": w["name"], "theme": w["theme"], "open": w["open"],
             "members": w["members"]}
            for w in overview.waves
        ],
    }


def progress_fields(progress: Progress) -> dict[str, Any]:
    return {
        "members": progress.members,
        "goal": progress.goal,
        # The last day counted: the goal is 1000 members by (the end of) 2030.
        "deadline": (progress.deadline - timedelta(days=1)).date().isoformat(),
        "milestones": [
            {"target": m.target, "reached": m.reached,
             "reached_at": _iso(m.reached_at) or None}
            for m in progress.milestones
        ],
        "next_milestone": progress.next_milestone,
        "remaining": progress.remaining,
        "years_left": round(progress.years_left, 2),
        "pace_needed_per_year": _rounded(progress.pace_needed_per_year),
        "pace_so_far_per_year": _rounded(progress.pace_so_far_per_year),
        "projected_at_deadline": progress.projected_at_deadline,
        "on_track": progress.on_track,
        "campaign_start": _iso(progress.campaign_start) or None,
    }


def render_progress_html(overview: Overview, chart_png: bytes, language: str = "en") -> str:
    check_language(language)
    values = {
        "o": overview,
        "p": overview.progress,
        "pending": pending_count(overview.applications_by_status),
        "chart_src": "data:image/png;base64," + base64.b64encode(chart_png).decode("ascii"),
        "language": language,
    }
    return environment(language).get_template("progress.html").render(values)


def _total_rows(overview: Overview) -> list[tuple]:
    p = overview.progress
    rows: list[tuple] = [
        ("total", "members", "", "", "", "", overview.at.isoformat(), p.members),
        ("total", "pace_needed_per_year", "", "", "", "", "", _rounded(p.pace_needed_per_year)),
        ("total", "pace_so_far_per_year", "", "", "", "", "", _rounded(p.pace_so_far_per_year)),
    ]
    breakdowns = (
        ("members_by_wave", overview.members_by_wave),
        ("members_by_region", overview.members_by_region),
        ("members_by_country", overview.members_by_country),
        ("members_by_jurisdiction_type", overview.members_by_jurisdiction_type),
        ("members_by_population_band", overview.members_by_population_band),
        ("members_by_theme", overview.members_by_theme),
    )
    for section, counts in breakdowns:
        rows += [(section, key, "", "", "", "", "", value) for key, value in counts.items()]
    rows += [
        ("applications_by_status", status, "", "", "", "", "", age.count)
        for status, age in overview.applications_by_status.items()
    ]
    for month, outcomes in overview.decisions_by_month.items():
        rows += [("decisions_by_month", month, "", "", "", outcome, "", count)
                 for outcome, count in outcomes.items()]
    return rows


def _csv(rows: list[tuple]) -> str:
    out = StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_defused(rows))
    return out.getvalue()


# Names come from a public form: a cell starting with one of these would run as a spreadsheet
# formula, and is written after a quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _defused(rows: list[tuple]) -> Iterable[tuple]:
    """The rows with every text that could run as a formula quoted; None stays None, which the
    csv writer writes as an empty cell. Done a column at a time in one comprehension each: the
    CSV is a quarter of composing a digest with 35,000 waiting lines, and a function call and a
    generator per cell cost 15-30% of writing it."""
    if not rows:
        return ()
    columns = [
        [("'" + value) if isinstance(value, str) and value[:1] in FORMULA_STARTS else value
         for value in column]
        for column in zip(*rows, strict=True)
    ]
    return zip(*columns, strict=True)


def _cell(value: object) -> object:
    """One cell as ``_defused`` writes it (for a row written alone)."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def _iso(moment) -> str:
    return moment.isoformat() if moment is not None else ""


def _rounded(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None
