"""The CSV of existing members (docs/members-import.md) at the registry's edge.

``read_members(text, waves, today)`` checks every row with the rules of the application form
(a name of 2 to 200 characters, a country that exists, a jurisdiction type of the list, an
http(s) website, a valid contact address) plus those of an import (a wave that has opened, a
date of joining not in the future) and returns the rows that pass and, for the others, the line
and every problem, field by field. Nothing is stored here: the caller decides.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from services.registry.domain import LANGUAGES, Wave, WaveStatus, government_key
from services.registry.regions import UnknownCountry, region_of
from shared.events import JURISDICTION_TYPES

REQUIRED_COLUMNS = (
    "government_name",
    "country",
    "jurisdiction_type",
    "wave",
    "joined_on",
    "website",
    "listing_consent",
)
OPTIONAL_COLUMNS = (
    "contact_name",
    "contact_email",
    "authority_name",
    "authority_title",
    "language",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
MAX_ROWS = 5000
_TRUE = frozenset({"true", "yes", "1", "oui", "si", "sí", "y"})
_FALSE = frozenset({"false", "no", "0", "non", "n", ""})


class UnreadableFile(ValueError):
    """The file is not a CSV of members at all: no header, unknown or missing columns."""


@dataclass(frozen=True)
class MemberRow:
    """One government of the file, checked."""

    line: int
    government_name: str
    country: str
    region: str
    jurisdiction_type: str
    wave: int
    joined_on: date
    website: str | None
    listing_consent: bool
    contact_name: str | None = None
    contact_email: str | None = None
    authority_name: str | None = None
    authority_title: str | None = None
    language: str = "en"

    @property
    def key(self) -> str:
        return government_key(self.government_name, self.country)


@dataclass(frozen=True)
class RefusedRow:
    line: int
    government_name: str
    errors: dict[str, list[str]]

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "government_name": self.government_name,
                "errors": self.errors}


def read_members(
    text: str, waves: Iterable[Wave], today: date
) -> tuple[list[MemberRow], list[RefusedRow]]:
    """The rows that pass and the rows refused (a second row for one government is refused)."""
    reader = _reader(text)
    known_waves = {w.number: w for w in waves}
    accepted: list[MemberRow] = []
    refused: list[RefusedRow] = []
    first_line_of: dict[str, int] = {}
    for raw in reader:
        line = reader.line_num
        if not any((value or "").strip() for value in raw.values() if isinstance(value, str)):
            continue  # a blank line (spreadsheets leave some at the end)
        if len(accepted) + len(refused) >= MAX_ROWS:
            raise UnreadableFile(f"at most {MAX_ROWS} rows per file: split it")
        row, errors = _check(raw, line, known_waves, today)
        if row is not None and row.key in first_line_of:
            errors = {"government_name": [
                f"the same government as line {first_line_of[row.key]} (name and country)"]}
            row = None
        if row is None:
            refused.append(RefusedRow(line, _cell(raw, "government_name"), errors))
        else:
            first_line_of[row.key] = line
            accepted.append(row)
    return accepted, refused


def _reader(text: str) -> csv.DictReader:
    text = text.lstrip("\ufeff")  # the byte order mark a spreadsheet puts in front
    header = text.splitlines()[0] if text.strip() else ""
    if not header.strip():
        raise UnreadableFile("the file is empty: it needs a header row and one row per member")
    # Spreadsheets in French or Spanish save CSV with semicolons.
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns = [(name or "").strip() for name in reader.fieldnames or ()]
    reader.fieldnames = columns
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    unknown = [c for c in columns if c not in COLUMNS]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing column(s): {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown column(s): {', '.join(unknown)}")
        raise UnreadableFile("; ".join(problems) + f" (the columns are: {', '.join(COLUMNS)})")
    return reader


def _check(
    raw: Mapping[str, Any], line: int, waves: Mapping[int, Wave], today: date
) -> tuple[MemberRow | None, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}

    def check(name: str, rule) -> None:
        try:
            values[name] = rule(_cell(raw, name))
        except ValueError as exc:
            errors.setdefault(name, []).append(str(exc))

    if None in raw:
        errors["_row"] = ["more cells than columns (a comma inside a name needs quotes)"]
    check("government_name", _government_name)
    check("country", _country)
    check("jurisdiction_type", _jurisdiction_type)
    check("wave", lambda v: _wave(v, waves))
    check("joined_on", lambda v: _joined_on(v, today))
    check("website", _website)
    check("listing_consent", _boolean)
    check("contact_name", _optional_text)
    check("contact_email", _email)
    check("authority_name", _optional_text)
    check("authority_title", _optional_text)
    check("language", _language)
    if not errors and values["contact_email"] and not values["contact_name"]:
        errors["contact_name"] = ["required when a contact e-mail is given"]
    if errors:
        return None, errors
    values["region"] = region_of(values["country"])
    return MemberRow(line=line, **values), {}


def _cell(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name)
    return " ".join(value.split()) if isinstance(value, str) else ""


def _government_name(value: str) -> str:
    if not 2 <= len(value) <= 200:
        raise ValueError("required, 2 to 200 characters")
    return value


def _country(value: str) -> str:
    code = value.upper()
    if len(code) != 2:
        raise ValueError("an ISO 3166-1 alpha-2 code, e.g. FR")
    try:
        region_of(code)
    except UnknownCountry:
        raise ValueError(f"{value!r} is not a country code") from None
    return code


def _jurisdiction_type(value: str) -> str:
    if value not in JURISDICTION_TYPES:
        raise ValueError(f"one of {', '.join(JURISDICTION_TYPES)}")
    return value


def _wave(value: str, waves: Mapping[int, Wave]) -> int:
    if not value.isdigit():
        raise ValueError("the wave's number, e.g. 1")
    wave = waves.get(int(value))
    if wave is None:
        raise ValueError(f"there is no wave {value}")
    if wave.status is WaveStatus.PLANNED:
        raise ValueError(f"wave {value} has not opened yet")
    return wave.number


def _joined_on(value: str, today: date) -> date:
    try:
        joined = date.fromisoformat(value)
    except ValueError:
        raise ValueError("a date YYYY-MM-DD, e.g. 2022-10-12") from None
    if joined > today:
        raise ValueError("a date in the future")
    return joined


def _website(value: str) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    if (parts.scheme.lower() not in ("http", "https") or " " in value
            or "." not in (parts.hostname or "").strip(".") or len(value) > 500):
        raise ValueError("an address starting with http:// or https://")
    return value


def _boolean(value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ValueError("true or false")


def _optional_text(value: str) -> str | None:
    if len(value) > 200:
        raise ValueError("at most 200 characters")
    return value or None


def _email(value: str) -> str | None:
    if not value:
        return None
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise ValueError("an e-mail address like name@example.org") from None
    return f"{checked.local_part}@{checked.ascii_domain.lower()}"


def _language(value: str) -> str:
    language = value.lower() or "en"
    if language not in LANGUAGES:
        raise ValueError(f"one of {', '.join(LANGUAGES)}")
    return language
