"""Reports as people see them: the digest and progress renderings (jinja2 templates, CSV,
JSON), the charts, the badge and the world map (SVG), the public directory's page and open
data, in each language. The figures they show come from ``domain``, which renders nothing."""
from .badge import badge_svg
from .chart import members_chart
from .i18n import check_language
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
    "RenderedDigest",
    "badge_svg",
    "check_language",
    "digest_ready_data",
    "members_chart",
    "progress_csv",
    "progress_json",
    "public_progress_json",
    "render_digest",
    "render_progress_html",
]
