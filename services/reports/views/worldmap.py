"""The world map of the public directory: country shapes shaded by listed members, as SVG.

The shapes are Natural Earth's 1:50m Admin 0 countries, as the npm package ``world-atlas``
(v2.0.2) ships them in TopoJSON, vendored in ``static/world-atlas/`` with its licence: no tile
server, nothing fetched at run time. They are projected once per process (Equal Earth: areas
stay true, so no country looks bigger than it is) and simplified arc by arc, so that
neighbours keep one common border; each request only picks the colours.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

import pycountry

ATLAS = Path(__file__).resolve().parent.parent / "static" / "world-atlas" / "countries-50m.json"
WIDTH = 2000
# Latitudes drawn: Antarctica (no local government) is left out, which gives the rest room.
NORTH, SOUTH = 84.0, -58.0
# Points closer than this (in map units, 1/2000 of the width) to the last kept one are dropped.
TOLERANCE = 1.6
MARGIN = 16
TITLE_HEIGHT, LEGEND_GAP, LEGEND_HEIGHT = 150, 40, 250

# Codes Natural Earth draws inside another country or not at all at this scale: a dot marks
# them where they are (longitude, latitude).
DOTS = {
    "BQ": (-68.27, 12.18), "BV": (3.41, -54.42), "CC": (96.87, -12.16), "CX": (105.69, -10.49),
    "GI": (-5.35, 36.14), "GP": (-61.55, 16.25), "GF": (-53.13, 3.93), "MQ": (-61.02, 14.64),
    "YT": (45.15, -12.82), "RE": (55.53, -21.12), "SJ": (15.65, 78.22), "TK": (-171.85, -9.2),
    "TV": (179.2, -8.52), "UM": (166.61, 19.28),
}
# A country smaller than this on the map (width and height, map units) also gets a dot when
# it has members, or nobody would see it shaded.
SMALL = 14

# Members per country -> colour: the campaign's green, lighter for fewer.
SHADES = (
    (1, "#a3d6b0"),
    (2, "#6cbf85"),
    (5, "#2e9d58"),
    (10, "#00843d"),
    (20, "#004d25"),
)
LAND = "#e4e7e5"
SEA = "#f3f7fa"


@dataclass(frozen=True)
class Shape:
    code: str
    path: str
    centre: tuple[int, int]
    small: bool


@dataclass(frozen=True)
class Atlas:
    shapes: dict[str, Shape]
    height: int


def shade(members: int) -> str:
    colour = LAND
    for lower, fill in SHADES:
        if members >= lower:
            colour = fill
    return colour


def legend_steps() -> list[tuple[str, str]]:
    """(label, colour) for each step of the legend, the first being "none"."""
    steps = [("0", LAND)]
    bounds = [lower for lower, _ in SHADES]
    for index, (lower, fill) in enumerate(SHADES):
        upper = bounds[index + 1] - 1 if index + 1 < len(bounds) else None
        if upper is None:
            label = f"{lower}+"
        elif upper == lower:
            label = str(lower)
        else:
            label = f"{lower}–{upper}"
        steps.append((label, fill))
    return steps


def map_svg(members_by_country: Mapping[str, int], title: str, legend_title: str,
            country_names: Mapping[str, str], atlas: Atlas | None = None) -> str:
    """The map as a standalone SVG document: title, countries, legend.

    Its own ``@media`` rules size the text to the width it is shown at, so the legend reads at
    375 px as well as on a wide screen (in an ``<img>``, the SVG's viewport is the image).
    """
    atlas = atlas or load_atlas()
    top, drawn = TITLE_HEIGHT, atlas.height
    legend_top = top + drawn + LEGEND_GAP
    height = document_height(atlas)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        # No width or height: the SVG takes the size it is shown at, which its @media rules see.
        'role="img" aria-labelledby="map-title">',
        f'<title id="map-title">{escape(title)}</title>',
        "<style>"
        ".t{font:700 96px Arial,Helvetica,sans-serif;fill:#1d2b22}"
        ".l{font:76px Arial,Helvetica,sans-serif;fill:#1d2b22}"
        ".c{stroke:#fff;stroke-width:1.4;stroke-linejoin:round}"
        ".d{stroke:#1d2b22;stroke-width:2.5}"
        "@media (min-width:760px){.t{font-size:60px}.l{font-size:44px}}"
        "</style>",
        f'<rect width="{WIDTH}" height="{height}" fill="#fff"/>',
        f'<text class="t" x="{MARGIN + 4}" y="100">{escape(title)}</text>',
        f'<rect y="{top}" width="{WIDTH}" height="{drawn}" fill="{SEA}" rx="12"/>',
        f'<clipPath id="map-area"><rect width="{WIDTH}" height="{drawn}"/></clipPath>',
        f'<g transform="translate(0 {top})" clip-path="url(#map-area)">',
    ]
    dots = []
    for code, shape in atlas.shapes.items():
        count = members_by_country.get(code, 0)
        fill = shade(count)
        label = _label(code, count, country_names)
        if shape.path:
            parts.append(f'<path class="c" id="country-{code}" fill="{fill}" d="{shape.path}">'
                         f"<title>{escape(label)}</title></path>")
        if count and (shape.small or not shape.path):
            x, y = shape.centre
            dots.append(f'<circle class="d" id="dot-{code}" cx="{x}" cy="{y}" r="11" '
                        f'fill="{fill}"><title>{escape(label)}</title></circle>')
    parts += dots
    parts.append("</g>")
    parts += _legend(legend_top, legend_title)
    parts.append("</svg>")
    return "".join(parts)


def _label(code: str, count: int, names: Mapping[str, str]) -> str:
    return f"{names.get(code, code)}: {count}"


def _legend(top: int, legend_title: str) -> list[str]:
    parts = [f'<text class="l" x="{MARGIN + 4}" y="{top + 60}">{escape(legend_title)}</text>']
    steps = legend_steps()
    slot = (WIDTH - 2 * MARGIN) / len(steps)
    for index, (label, fill) in enumerate(steps):
        x = round(MARGIN + index * slot)
        parts.append(f'<rect x="{x + 4}" y="{top + 110}" width="90" height="90" rx="10" '
                     f'fill="{fill}" stroke="#9aa59e" stroke-width="2"/>')
        parts.append(f'<text class="l" x="{x + 104}" y="{top + 182}">{escape(label)}</text>')
    return parts


# --- the shapes, once per process ---------------------------------------------------------------

@cache
def load_atlas(path: Path = ATLAS) -> Atlas:
    """Decode, project and simplify the vendored TopoJSON (a second of CPU: call it off the hub)."""
    topology = json.loads(path.read_text(encoding="utf-8"))
    scale_x, scale_y = topology["transform"]["scale"]
    shift_x, shift_y = topology["transform"]["translate"]
    x_max, _ = _equal_earth(math.pi, 0.0)
    _, y_top = _equal_earth(0.0, math.radians(NORTH))
    _, y_bottom = _equal_earth(0.0, math.radians(SOUTH))
    factor = (WIDTH - 2 * MARGIN) / (2 * x_max)
    height = round((y_top - y_bottom) * factor) + 2 * MARGIN

    def project(longitude: float, latitude: float) -> tuple[int, int]:
        latitude = max(min(latitude, 89.9), -89.9)
        x, y = _equal_earth(math.radians(longitude), math.radians(latitude))
        return round(MARGIN + (x + x_max) * factor), round(MARGIN + (y_top - y) * factor)

    degrees = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * scale_x + shift_x, y * scale_y + shift_y))
        degrees.append(points)
    full = [[project(*point) for point in arc] for arc in degrees]
    arcs = [_simplify(arc) for arc in full]

    def ring_of(indices: list[int]) -> list[tuple[int, int]]:
        around = _ring(indices, degrees)
        if all(abs(b[0] - a[0]) <= 180 for a, b in zip(around, around[1:], strict=False)):
            simplified = _ring(indices, arcs)
            # A small island would vanish: it keeps every point (it has few).
            return simplified if len(set(simplified)) >= 3 else _ring(indices, full)
        # Russia and Fiji go round the antimeridian: their ring is drawn in one piece, past
        # the map's edge where the map clips it.
        return _simplify([project(*point) for point in _unwrapped(around)])

    codes = {c.numeric: c.alpha_2 for c in pycountry.countries}
    rings_of: dict[str, list[list[tuple[int, int]]]] = {}
    whereabouts: dict[str, tuple[int, int]] = {}
    for geometry in topology["objects"]["countries"]["geometries"]:
        code = codes.get(geometry.get("id"))
        if code is None or code == "AQ" or geometry.get("type") is None:
            continue
        polygons = (geometry["arcs"] if geometry["type"] == "MultiPolygon"
                    else [geometry["arcs"]])
        rings = [ring_of(ring) for polygon in polygons for ring in polygon]
        first = _ring(polygons[0][0], degrees)
        whereabouts.setdefault(code, project(sum(p[0] for p in first) / len(first),
                                             sum(p[1] for p in first) / len(first)))
        # Some codes come in several pieces (Australia, and its Ashmore and Cartier Islands).
        rings_of.setdefault(code, []).extend(r for r in rings if len(set(r)) >= 3)
    # Monaco or the Holy See are less than a map unit wide: a dot where they are.
    shapes = {code: _shape(code, rings) if rings else Shape(code, "", whereabouts[code], True)
              for code, rings in rings_of.items()}
    for code, (longitude, latitude) in DOTS.items():
        shapes.setdefault(code, Shape(code, "", project(longitude, latitude), True))
    return Atlas(dict(sorted(shapes.items())), height)


def document_height(atlas: Atlas | None = None) -> int:
    """The height of map_svg's document, for an ``<img>`` to keep its place while it loads."""
    return TITLE_HEIGHT + (atlas or load_atlas()).height + LEGEND_GAP + LEGEND_HEIGHT


def _equal_earth(longitude: float, latitude: float) -> tuple[float, float]:
    # Šavrič, Patterson and Jenny (2018), the projection's published polynomial.
    a1, a2, a3, a4 = 1.340264, -0.081106, 0.000893, 0.003796
    m = math.sqrt(3) / 2
    theta = math.asin(m * math.sin(latitude))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    x = longitude * math.cos(theta) / (m * (a1 + 3 * a2 * t2 + t6 * (7 * a3 + 9 * a4 * t2)))
    y = theta * (a1 + a2 * t2 + t6 * (a3 + a4 * t2))
    return x, y


def _simplify(points: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Drop points too close to the last kept one; an arc keeps both ends (shared borders)."""
    if len(points) <= 2:
        return points
    kept = [points[0]]
    limit = TOLERANCE * TOLERANCE
    for point in points[1:-1]:
        last = kept[-1]
        if (point[0] - last[0]) ** 2 + (point[1] - last[1]) ** 2 >= limit:
            kept.append(point)
    kept.append(points[-1])
    return kept


def _unwrapped(ring: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Longitudes made continuous (170, -175 becomes 170, 185), starting east of 0 if it can."""
    shift = 0.0
    points = [ring[0]]
    for (lon_a, _), (lon_b, lat_b) in zip(ring, ring[1:], strict=False):
        if lon_b - lon_a > 180:
            shift -= 360
        elif lon_a - lon_b > 180:
            shift += 360
        points.append((lon_b + shift, lat_b))
    if sum(lon for lon, _ in points) / len(points) < -90:
        points = [(lon + 360, lat) for lon, lat in points]
    return points


def _ring(indices: list[int], arcs: list[list]) -> list:
    ring: list = []
    for index in indices:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        ring.extend(arc[1:] if ring else arc)
    deduplicated = [p for i, p in enumerate(ring) if i == 0 or p != ring[i - 1]]
    return deduplicated


def _shape(code: str, rings: list[list[tuple[int, int]]]) -> Shape:
    commands = []
    for ring in rings:
        x, y = ring[0]
        steps = [f"M{x} {y}"]
        for px, py in ring[1:]:
            steps.append(f"l{px - x} {py - y}")
            x, y = px, py
        commands.append("".join(steps) + "z")
    all_points = [p for ring in rings for p in ring]
    if not all_points:
        return Shape(code, "", (0, 0), True)
    largest = max(rings, key=len)
    xs, ys = [p[0] for p in largest], [p[1] for p in largest]
    centre = ((min(xs) + max(xs)) // 2, (min(ys) + max(ys)) // 2)
    width = max(p[0] for p in all_points) - min(p[0] for p in all_points)
    height = max(p[1] for p in all_points) - min(p[1] for p in all_points)
    return Shape(code, "".join(commands), centre, max(width, height) < SMALL)
