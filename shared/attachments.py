"""How a file the applicant attached is sized for people: the applicant's page, the console and
the staff mail say the same number for the same file."""
from __future__ import annotations

from babel.units import format_unit


def size_label(size: int, language: str) -> str:
    """As the form's limit counts ("5 MB" is 5 x 1024 x 1024 bytes, so a file at the limit never
    reads as more), in the reader's units (French: ko, Mo); a small file is "1 kB", never "0"."""
    if size >= 1024 * 1024:
        return format_unit(round(size / (1024 * 1024), 1), "digital-megabyte", length="short",
                           locale=language)
    return format_unit(max(1, round(size / 1024)), "digital-kilobyte", length="short",
                       locale=language)
