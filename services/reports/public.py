"""The public directory over HTTP: the page, its open data and its map, cached and embeddable.

Each request reads the members who consented (a small indexed-free read of a few columns),
so a withdrawn consent leaves the directory at once; the rendering is what costs, and it is
kept by its ETag: the same members, filters and language give the same bytes, and a client
that has them gets a 304.
"""
from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from services.reports import db as reports_db
from services.reports.domain import LANGUAGES
from services.reports.domain.directory import Directory, directory
from services.reports.views import worldmap
from services.reports.views.directory import (
    directory_csv,
    directory_json,
    directory_map_svg,
    render_directory_html,
)
from shared.db import Database

MAX_AGE_SECONDS = 60
# Renderings kept per process, by ETag; filters take only the directory's own values, so
# hostile query strings cannot grow this beyond languages x regions x themes x waves anyway.
KEPT = 256

_HERE = Path(__file__).resolve().parent
# A new release renders differently: its ETags differ from the last one's.
_RELEASE = hashlib.blake2b(b"".join(
    p.read_bytes() for p in (_HERE / "templates" / "directory.html",
                             _HERE / "domain" / "directory.py", _HERE / "views" / "directory.py",
                             _HERE / "views" / "worldmap.py")
), digest_size=8).hexdigest()

KINDS: dict[str, tuple[str, Callable[[Directory, str], Any]]] = {
    "html": ("text/html; charset=utf-8", render_directory_html),
    "json": ("application/json", lambda found, language: json.dumps(
        directory_json(found, language), ensure_ascii=False)),
    "csv": ("text/csv; charset=utf-8", directory_csv),
    "svg": ("image/svg+xml", directory_map_svg),
}


class PublicDirectory:
    def __init__(self, database: Database, offload: Callable[..., Any],
                 frame_ancestors: str = "*"):
        self.database = database
        self.offload = offload
        self.frame_ancestors = frame_ancestors
        self._kept: OrderedDict[str, bytes] = OrderedDict()

    def respond(self, request: Request, kind: str) -> Response:
        language = public_language(request)
        with self.database.transaction() as session:
            members, waves = reports_db.directory_candidates(session)
        found = directory(members, waves, request.args)
        etag = found.fingerprint(kind, language, _RELEASE)
        headers = self._headers(kind, etag)
        if request.if_none_match.contains(etag):
            return Response(status=304, headers=headers)
        body = self._kept.get(etag)
        if body is None:
            body = self._render(kind, found, language)
            self._keep(etag, body)
        mimetype, _ = KINDS[kind]
        response = Response(body, status=200, headers=headers, content_type=mimetype)
        if kind == "csv":
            response.headers["Content-Disposition"] = 'inline; filename="members.csv"'
        return response

    def _render(self, kind: str, found: Directory, language: str) -> bytes:
        _, render = KINDS[kind]
        if not worldmap.load_atlas.cache_info().currsize:
            # Projecting the world's shapes takes a second of CPU, once: not on the hub.
            self.offload(worldmap.load_atlas)
        return render(found, language).encode("utf-8")

    def _keep(self, etag: str, body: bytes) -> None:
        self._kept[etag] = body
        while len(self._kept) > KEPT:
            self._kept.popitem(last=False)

    def _headers(self, kind: str, etag: str) -> dict[str, str]:
        headers = {
            "ETag": f'"{etag}"',
            "Cache-Control": f"public, max-age={MAX_AGE_SECONDS}",
            # Without ?lang= the language comes from the browser's.
            "Vary": "Accept-Language",
            "X-Content-Type-Options": "nosniff",
            "Access-Control-Allow-Origin": "*",
        }
        if kind in ("html", "svg"):
            # Framed by the campaign's site (PUBLIC_FRAME_ANCESTORS), never running a script.
            headers["Content-Security-Policy"] = (
                "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
                f"base-uri 'none'; form-action 'none'; frame-ancestors {self.frame_ancestors}"
            )
        return headers


def public_language(request: Request) -> str:
    """``?lang=`` if it is one of ours, else the first of the browser's languages that is
    (``en-GB, es;q=0.3`` is English), else English."""
    asked = request.args.get("lang", "")
    if asked in LANGUAGES:
        return asked
    for tag, _ in request.accept_languages:
        primary = tag.split("-")[0].lower()
        if primary in LANGUAGES:
            return primary
    return "en"
