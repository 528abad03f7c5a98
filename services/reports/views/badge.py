"""The public badge: "N / 1000 Human Rights Cities and Territories", as SVG for any web page."""
from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from services.reports.domain.progress import GOAL
from shared.campaign import campaign_name

# Verdana 11px averages close to this; the badge only needs to be roomy, not exact.
CHAR_WIDTH = 6.6
PADDING = 10
HEIGHT = 20


def badge_svg(members: int, language: str = "en") -> str:
    count = f"{members} / {GOAL}"
    caption = campaign_name(language).cities
    left = round(len(count) * CHAR_WIDTH + 2 * PADDING)
    right = round(len(caption) * CHAR_WIDTH + 2 * PADDING)
    width = left + right
    title = f"{count} {caption}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}" '
        f'role="img" aria-label={quoteattr(title)}>'
        f"<title>{escape(title)}</title>"
        f'<rect width="{left}" height="{HEIGHT}" fill="#00843d"/>'
        f'<rect x="{left}" width="{right}" height="{HEIGHT}" fill="#555"/>'
        '<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" '
        'text-anchor="middle">'
        f'<text x="{left / 2}" y="14">{escape(count)}</text>'
        f'<text x="{left + right / 2}" y="14">{escape(caption)}</text>'
        "</g></svg>"
    )
