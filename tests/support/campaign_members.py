"""A campaign-shaped CSV of existing members (docs/members-import.md), for tests and bench.

``campaign_csv(count)`` spreads ``count`` governments over waves 1-3 (about a quarter, a third
and the rest), in the campaign's regions, with real-looking names that never repeat.
"""
from __future__ import annotations

import csv
import io

from services.registry.member_csv import COLUMNS

_PLACES = (
    ("FR", "fr", "Ville de"), ("ES", "es", "Ayuntamiento de"), ("AR", "es", "Municipio de"),
    ("MX", "es", "Municipio de"), ("CO", "es", "Alcaldía de"), ("BR", "en", "Prefeitura de"),
    ("KR", "en", "City of"), ("SN", "fr", "Commune de"), ("MA", "fr", "Commune de"),
    ("NL", "en", "Gemeente"), ("AT", "en", "City of"), ("CA", "fr", "Ville de"),
    ("ZA", "en", "City of"), ("TN", "fr", "Commune de"), ("IN", "en", "City of"),
)
_WAVE_DATES = {1: "2022-10-12", 2: "2023-06-15", 3: "2024-05-20"}
_TYPES = ("municipality", "intermediary_city", "metropolitan_area", "province", "region")


def campaign_csv(count: int = 120) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for number in range(1, count + 1):
        writer.writerow(campaign_row(number, count))
    return out.getvalue()


def campaign_row(number: int, count: int = 120) -> dict[str, str]:
    country, language, prefix = _PLACES[number % len(_PLACES)]
    wave = 1 if number <= count // 4 else 2 if number <= count * 7 // 12 else 3
    with_contact = number % 3 == 0
    return {
        "government_name": f"{prefix} Ciudad {number:04d}",
        "country": country,
        "jurisdiction_type": _TYPES[number % len(_TYPES)],
        "wave": str(wave),
        "joined_on": _WAVE_DATES[wave],
        "website": f"https://city{number}.example.org" if number % 2 else "",
        "listing_consent": "true" if number % 5 else "false",
        "contact_name": f"Contact {number}" if with_contact else "",
        "contact_email": f"contact{number}@city{number}.example.org" if with_contact else "",
        "authority_name": f"Mayor {number}" if with_contact else "",
        "authority_title": "Mayor" if with_contact else "",
        "language": language,
    }
