"""The rules of an application to the campaign, as the public form receives it.

Pure Python: every function here can be exercised without a broker, a database or nameko.
A rule takes what a person typed (or a JSON client sent), normalises it, and either returns the
value to keep or raises ``FieldProblem`` with a message id that the page translates.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pycountry
from email_validator import EmailNotValidError, validate_email

from shared import validation
from shared.events import JURISDICTION_TYPES, LANGUAGES, THEMES

IDEMPOTENCY_WINDOW = timedelta(minutes=10)
HONEYPOT_FIELD = "organisation_fax"

GOVERNMENT_NAME_LENGTH = (2, 200)
PERSON_FIELD_MAX = 200
COMMITMENT_LENGTH = (20, 5000)
FRAMEWORKS_MAX = 5000
WEBSITE_MAX = 2000
EMAIL_MAX = 254
PHONE_MAX = 40
PHONE_MIN_DIGITS = 4
# Larger than any local or regional government (or national association of them) and still
# inside a 32-bit integer column.
POPULATION_MAX = 2_000_000_000

REFERENCE_PREFIX = "HRC"
REFERENCE_RANDOM_LENGTH = 5
# Crockford's base 32: digits and capitals without I, L, O and U, so that a reference read out
# on the phone cannot be misheard as another one.
CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_READING = str.maketrans({"O": "0", "I": "1", "L": "1"})
REFERENCE_PATTERN = re.compile(
    rf"^{REFERENCE_PREFIX}-(\d{{4}})-([{CROCKFORD_ALPHABET}]{{{REFERENCE_RANDOM_LENGTH}}})$"
)


def N_(message: str) -> str:
    """Mark a message id for extraction into the catalogs; the page translates it later."""
    return message


class DomainError(Exception):
    """Base of every error raised by intake's rules."""


@dataclass(frozen=True)
class FieldProblem(DomainError):
    """What is wrong with one value: a message id and the values it interpolates."""

    message: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message % dict(self.params) if self.params else self.message

    def translated(self, gettext: Callable[[str], str]) -> str:
        text = gettext(self.message)
        return text % dict(self.params) if self.params else text


class InvalidReference(DomainError):
    """A text that is not an application reference."""


# -- normalisation ----------------------------------------------------------------------------

_LINE_BREAKS = {"\u2028", "\u2029", "\x85"}
_HORIZONTAL_SPACE = re.compile(r"[^\S\n]+")
_ANY_SPACE = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n{3,}")


# Unicode's control characters (category Cc: U+0000-U+001F, U+007F-U+009F) and the other line
# breaks, as one character class: a regex search, not a Python loop over every character.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f" + "".join(sorted(_LINE_BREAKS)) + "]")
_CONTROL_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f"
                                  + "".join(sorted(_LINE_BREAKS)) + "]")


def single_line(value: Any) -> str:
    """Trim, refuse control characters and line breaks (these values end up in mail headers),
    and the invisible and direction characters that could spoof a subject line; collapse runs
    of white space to one space."""
    if isinstance(value, str) and _CONTROL.search(value.strip()):
        raise FieldProblem(N_("Use a single line without control characters."))
    return _ANY_SPACE.sub(" ", _text(value, name=True).strip())


def multi_line(value: Any) -> str:
    """Trim, keep paragraphs, collapse spaces inside lines, refuse other control characters."""
    text = _text(value).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    if _CONTROL_BUT_NEWLINE.search(text):
        raise FieldProblem(N_("Remove the control characters from this text."))
    lines = [_HORIZONTAL_SPACE.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _text(value: Any, name: bool = False) -> str:
    """Text as the shared edge accepts it (shared.validation: no lone surrogates, no NUL, NFC;
    for ``name``, no invisible or direction characters); its messages are in the catalogs."""
    if not isinstance(value, str):
        raise FieldProblem(N_("Enter text."))
    try:
        return validation.clean_text(value, name=name)
    except validation.Refused as refused:
        raise FieldProblem(refused.message, refused.params) from None


def _length(text: str, minimum: int, maximum: int) -> str:
    if not text and minimum > 0:
        raise FieldProblem(N_("This field is required."))
    if len(text) < minimum:
        raise FieldProblem(N_("Enter at least %(min)d characters."), {"min": minimum})
    if len(text) > maximum:
        raise FieldProblem(N_("Enter at most %(max)d characters."), {"max": maximum})
    return text


def _optional(text: str) -> str | None:
    return text or None


# -- the fields of the form, one rule each ----------------------------------------------------

def government_name(value: Any) -> str:
    return _length(single_line(value), *GOVERNMENT_NAME_LENGTH)


def person_field(value: Any) -> str:
    """Authority name and title, contact name and position."""
    return _length(single_line(value), 1, PERSON_FIELD_MAX)


def country(value: Any) -> str:
    code = single_line(value).upper()
    if not code:
        raise FieldProblem(N_("This field is required."))
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise FieldProblem(N_("Choose a country from the list."))
    return code


def jurisdiction_type(value: Any) -> str:
    return _choice(single_line(value).lower(), JURISDICTION_TYPES)


def language(value: Any) -> str:
    return _choice(single_line(value).lower(), LANGUAGES)


def _choice(text: str, choices: Iterable[str]) -> str:
    if not text:
        raise FieldProblem(N_("This field is required."))
    if text not in choices:
        raise FieldProblem(N_("Choose one of the options."))
    return text


_GROUP_SEPARATORS = re.compile(r"[ \u00a0\u202f\u2009]")


def population(value: Any) -> int:
    """A whole number of inhabitants; spaces (incl. the French thin space) may group digits."""
    if isinstance(value, bool):
        raise FieldProblem(N_("Enter a whole number, for example 25000."))
    if isinstance(value, int):
        number = value
    else:
        digits = _GROUP_SEPARATORS.sub("", single_line(value))
        if not digits:
            raise FieldProblem(N_("This field is required."))
        if not (digits.isascii() and digits.isdigit()):
            raise FieldProblem(N_("Enter a whole number, for example 25000."))
        number = int(digits)
    if number < 1:
        raise FieldProblem(N_("Enter a number of at least 1."))
    if number > POPULATION_MAX:
        raise FieldProblem(N_("Enter a number of at most %(max)d."), {"max": POPULATION_MAX})
    return number


def website(value: Any) -> str | None:
    text = single_line(value or "")
    if not text:
        return None
    if len(text) > WEBSITE_MAX:
        raise FieldProblem(N_("Enter at most %(max)d characters."), {"max": WEBSITE_MAX})
    parts = urlsplit(text)
    host = parts.hostname or ""
    if parts.scheme.lower() not in ("http", "https") or " " in text or "." not in host.strip("."):
        raise FieldProblem(N_("Enter a full web address starting with https:// or http://."))
    return parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()).geturl()


def contact_email(value: Any) -> str:
    text = single_line(value)
    if not text:
        raise FieldProblem(N_("This field is required."))
    if len(text) > EMAIL_MAX:
        raise FieldProblem(N_("Enter at most %(max)d characters."), {"max": EMAIL_MAX})
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise FieldProblem(
            N_("Enter an e-mail address like name@example.org.")
        ) from None
    # The local part is kept as typed: only the domain is case-insensitive everywhere.
    return f"{checked.local_part}@{checked.ascii_domain.lower()}"


_PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ()./-]+$")


def contact_phone(value: Any) -> str | None:
    text = single_line(value or "")
    if not text:
        return None
    if len(text) > PHONE_MAX:
        raise FieldProblem(N_("Enter at most %(max)d characters."), {"max": PHONE_MAX})
    if not _PHONE_CHARACTERS.match(text) or sum(c.isdigit() for c in text) < PHONE_MIN_DIGITS:
        raise FieldProblem(N_("Enter a phone number, for example +33 1 23 45 67 89."))
    return text


def themes(value: Any) -> list[str]:
    """One or more of the campaign's themes, in the catalogue's order, each once."""
    chosen = [value] if isinstance(value, str) else value
    if not isinstance(chosen, list | tuple) or not all(isinstance(t, str) for t in chosen):
        raise FieldProblem(N_("Choose at least one theme."))
    names = {t.strip().lower() for t in chosen if t.strip()}
    if not names:
        raise FieldProblem(N_("Choose at least one theme."))
    if names - set(THEMES):
        raise FieldProblem(N_("Choose themes from the list."))
    return [t for t in THEMES if t in names]


def commitment(value: Any) -> str:
    return _length(multi_line(value), *COMMITMENT_LENGTH)


def frameworks(value: Any) -> str | None:
    return _optional(_length(multi_line(value or ""), 0, FRAMEWORKS_MAX))


_CONSENT_WORDS = {"on", "yes", "true", "1"}


def consent(value: Any) -> bool:
    """Consent is given by a ticked box (a form) or ``true`` (JSON), never by default."""
    given = value is True or (isinstance(value, str) and value.strip().lower() in _CONSENT_WORDS)
    if not given:
        raise FieldProblem(N_("Tick the box to consent to the processing of your data."))
    return True


def listing_consent(value: Any) -> bool:
    """Optional: a ticked box or ``true`` lists the government in the public directory once it
    is a member; anything else (an unticked box is not sent at all) is no."""
    return value is True or (isinstance(value, str) and value.strip().lower() in _CONSENT_WORDS)


RULES: dict[str, Callable[[Any], Any]] = {
    "government_name": government_name,
    "country": country,
    "jurisdiction_type": jurisdiction_type,
    "population": population,
    "website": website,
    "authority_name": person_field,
    "authority_title": person_field,
    "contact_name": person_field,
    "contact_position": person_field,
    "contact_email": contact_email,
    "contact_phone": contact_phone,
    "language": language,
    "themes": themes,
    "commitment": commitment,
    "frameworks": frameworks,
    "consent": consent,
    "listing_consent": listing_consent,
}
OPTIONAL_FIELDS = frozenset({"website", "contact_phone", "frameworks", "listing_consent"})
FIELDS = tuple(RULES)


# -- abuse and double submissions -------------------------------------------------------------

def is_spam(payload: Mapping[str, Any]) -> bool:
    """A person never sees the honeypot field; anything in it was typed by a robot."""
    trap = payload.get(HONEYPOT_FIELD)
    return bool(trap.strip()) if isinstance(trap, str) else trap not in (None, "", [], False)


def fingerprint(application: Mapping[str, Any]) -> str:
    """The same normalised application always gives the same fingerprint, whatever the order of
    its keys or themes, so that an identical payload sent twice is recognised."""
    canonical = {
        name: sorted(value) if isinstance(value, list) else value
        for name, value in application.items()
        if name in RULES
    }
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- references -------------------------------------------------------------------------------

def new_reference(year: int, random_bytes: Callable[[int], bytes] = secrets.token_bytes) -> str:
    """A reference a person can read out on the phone, e.g. HRC-2026-7KQ4M.

    About 33 million per year: collisions are rare, and the database's unique constraint (with
    a retry) settles the rest. Each symbol is a random byte modulo 32, which 256 divides: as
    even as a choice, from one read of the system's randomness rather than five.
    """
    code = "".join(CROCKFORD_ALPHABET[byte % len(CROCKFORD_ALPHABET)]
                   for byte in random_bytes(REFERENCE_RANDOM_LENGTH))
    return f"{REFERENCE_PREFIX}-{year:04d}-{code}"


def parse_reference(text: str) -> str:
    """Read a reference as a person types it: any case, O for 0, I or L for 1, no hyphens."""
    compact = re.sub(r"[\s-]", "", text.upper()).translate(_CROCKFORD_READING)
    if not compact.startswith(REFERENCE_PREFIX):
        raise InvalidReference(text)
    rest = compact[len(REFERENCE_PREFIX):]
    candidate = f"{REFERENCE_PREFIX}-{rest[:4]}-{rest[4:]}"
    if not REFERENCE_PATTERN.match(candidate):
        raise InvalidReference(text)
    return candidate
