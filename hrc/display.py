"""What ``hrc`` prints: text a person reads by default, the API's JSON as it is with ``--json``.

Every staff command hands its result to ``show``: with ``--json`` the body goes out untouched
(scripts parse it), otherwise the command's own ``Human`` view writes tables and lines. Dates are
written as a person reads them (``2026-03-01``, ``2026-03-01 09:30 UTC``), names given in the
three campaign languages in English, lists joined with commas.
"""
from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from shared.campaign import LANGUAGES

Human = Callable[[Any], Iterable[str]]

_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$")


def show(result: Any, as_json: bool, human: Human) -> None:
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    for line in human(result):
        print(line)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> list[str]:
    """Columns (``(key, heading)``) padded to their widest cell; the last one is not padded."""
    cells = [[heading for _, heading in columns]]
    cells += [[cell(row.get(key)) for key, _ in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return ["  ".join(value.ljust(width)
                      for value, width in zip(line, widths, strict=True)).rstrip()
            for line in cells]


def listing(columns: Sequence[tuple[str, str]], noun: str) -> Human:
    """A page of ``items``: the table on stdout, how many of how many on stderr (``| wc -l``)."""

    def human(body: dict[str, Any]) -> list[str]:
        items = body.get("items", [])
        total = body.get("total", len(items))
        page = f" (page {body['page']})" if body.get("page") else ""
        print(f"{len(items)} of {total} {noun}{page}", file=sys.stderr)
        return table(items, columns) if items else [f"no {noun}"]

    return human


def record(body: Any, indent: str = "") -> list[str]:
    """A JSON object as ``label: value`` lines, nested objects indented beneath their label."""
    if not isinstance(body, dict):
        return [indent + cell(body)]
    width = max((len(label(key)) for key in body), default=0)
    lines = []
    for key, value in body.items():
        name = (label(key) + ":").ljust(width + 1)
        if _is_names(value) or not isinstance(value, (dict, list)) or _is_flat(value):
            lines.append(f"{indent}{name} {cell(value)}".rstrip())
        elif isinstance(value, dict):
            lines.append(f"{indent}{name}".rstrip())
            lines += record(value, indent + "  ")
        else:
            lines.append(f"{indent}{name} ({len(value)})")
            for item in value:
                inner = record(item, indent + "    ")
                lines.append(f"{indent}  - {inner[0].lstrip()}")
                lines += inner[1:]
    return lines


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return moment(value) if _ISO_MOMENT.match(value) else value
    if _is_names(value):
        return str(value.get("en") or next(iter(value.values()), ""))
    if isinstance(value, list):
        return ", ".join(_short(item) for item in value) or "-"
    if isinstance(value, dict):
        return ", ".join(f"{label(k)} {cell(v)}" for k, v in value.items()) or "-"
    return str(value)


def moment(text: str) -> str:
    """``2026-01-01T00:00:00+00:00`` is a day; any other time is shown to the minute, in UTC."""
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    if (when.hour, when.minute, when.second, when.microsecond) == (0, 0, 0, 0):
        return when.date().isoformat()
    return when.strftime("%Y-%m-%d %H:%M") + (" UTC" if when.tzinfo else "")


def label(key: str) -> str:
    return str(key).replace("_", " ")


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """What an audit entry changed: ``status waitlisted -> under_review, wave - -> 4``."""
    before, after = before or {}, after or {}
    changed = [key for key in {**before, **after} if before.get(key) != after.get(key)]
    return "; ".join(f"{label(k)} {cell(before.get(k))} -> {cell(after.get(k))}"
                     for k in changed) or "-"


def _is_names(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and set(value) <= set(LANGUAGES)


def _is_flat(value: Any) -> bool:
    return isinstance(value, list) and not any(isinstance(v, dict) for v in value)


def _is_reference(value: dict[str, Any]) -> bool:
    return "reference" in value


def _short(item: Any) -> str:
    if isinstance(item, dict) and _is_reference(item):
        return str(item["reference"])
    if isinstance(item, list):
        return " ".join(cell(v) for v in item)
    return cell(item)
