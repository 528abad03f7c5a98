"""One validation at the edge for what clients send: every text and number that may reach a
database, a log or a mail header passes here first, so a hostile value is a 4xx with a message
for its field, never a driver's error and a 500.

- Text: no lone surrogates (they cannot be encoded as UTF-8: hashing, PostgreSQL and SMTP fail
  on them), no NUL (PostgreSQL text cannot hold it), NFC-normalised (the same name typed on two
  keyboards is the same text). Names and one-line values that end up in subject lines also
  refuse bidirectional controls and zero-width characters, which can make a name read as
  another one or spoof the rest of a subject.
- Integers: within the 32-bit ``Integer`` columns they are stored in or compared with.
- JSON: nesting bounded (``MAX_DEPTH``), checked without recursion.

``clean_text`` and ``bounded`` are plain functions (intake's rules call them); ``Text`` and
``Integer`` are the marshmallow fields the schemas use. The messages are message ids: intake
translates them, the staff API shows them as they are.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from marshmallow import ValidationError, fields

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
MAX_DEPTH = 32

LONE_SURROGATE = "This text contains characters that cannot be stored; type it again."
CONTROL = "Remove the control characters from this text."
INVISIBLE = "Remove the invisible or text-direction characters from this text."
OUT_OF_RANGE = "Enter a whole number between %(min)d and %(max)d."
TOO_DEEP = "The JSON is nested too deeply."

# Bidirectional embeddings, overrides and isolates, the marks, and the zero-width characters.
_INVISIBLE = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u180e"
)


# A regex search, not a Python loop over every character: every text of every form passes here.
_SURROGATE = re.compile("[\ud800-\udfff]")


class Refused(ValueError):
    """A value refused at the edge; ``message`` is a message id, ``params`` fill it in."""

    def __init__(self, message: str, params: dict[str, Any] | None = None):
        self.message = message
        self.params = params or {}
        super().__init__(message % self.params if self.params else message)


def clean_text(value: str, *, name: bool = False) -> str:
    """``value`` NFC-normalised, or ``Refused``. ``name``: a name or one-line value that may
    reach a subject line, where invisible and direction characters are refused too."""
    if _SURROGATE.search(value):
        raise Refused(LONE_SURROGATE)
    if "\x00" in value:
        raise Refused(CONTROL)
    value = unicodedata.normalize("NFC", value)
    if name and not _INVISIBLE.isdisjoint(value):
        raise Refused(INVISIBLE)
    return value


def bounded(value: int, minimum: int = INT_MIN, maximum: int = INT_MAX) -> int:
    if not minimum <= value <= maximum:
        raise Refused(OUT_OF_RANGE, {"min": minimum, "max": maximum})
    return value


def check_depth(value: Any, limit: int = MAX_DEPTH) -> None:
    """Refuse JSON nested deeper than ``limit`` (a list or object inside another counts one)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            raise Refused(TOO_DEEP)
        stack.extend((child, depth + 1) for child in children)


class Text(fields.String):
    """A string field checked by ``clean_text``; ``name=True`` for names and subject lines.

    Values are trimmed; ``max_length`` (and ``min_length``) count characters after that.
    """

    def __init__(self, *, name: bool = False, min_length: int = 0, max_length: int | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.name_like = name
        self.min_length = min_length
        self.max_length = max_length

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            text = clean_text(text, name=self.name_like).strip()
        except Refused as refused:
            raise ValidationError(str(refused)) from None
        if len(text) < self.min_length:
            raise ValidationError("This field is required." if self.min_length == 1 else
                                  f"Enter at least {self.min_length} characters.")
        if self.max_length is not None and len(text) > self.max_length:
            raise ValidationError(f"Enter at most {self.max_length} characters.")
        return text


class Integer(fields.Integer):
    """An integer within the 32-bit column it is stored in or compared with."""

    def __init__(self, *, minimum: int = INT_MIN, maximum: int = INT_MAX, **kwargs: Any):
        super().__init__(**kwargs)
        self.minimum = minimum
        self.maximum = maximum

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        number = super()._deserialize(value, attr, data, **kwargs)
        try:
            return bounded(number, self.minimum, self.maximum)
        except Refused as refused:
            raise ValidationError(str(refused)) from None
