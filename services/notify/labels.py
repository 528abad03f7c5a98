"""What a person reads where an event carries a code: countries, themes, types of government,
dates, numbers and sizes, in the reader's language.

Events carry codes (``FR``, ``right_to_the_city``, ISO timestamps) and the log keeps them, so a
mail composed again later reads the same. The words are chosen when the mail is rendered, in the
language of the person who reads it. Theme and government-type labels are notify's own copy of
the form's wording (no service imports another); their translations are in notify's catalogs
(``translations/*/messages.po``), checked by ``tests/notify/unit/test_mail.py``.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from jinja2 import Environment

from shared.attachments import size_label
from shared.campaign import JURISDICTION_LABELS, THEME_LABELS
from shared.clock import aware_utc


def N_(message: str) -> str:
    """Marks a message id for extraction; translated where it is shown."""
    return message


# The form's wording (shared.campaign), so staff read what the applicant ticked.
THEMES = THEME_LABELS
JURISDICTIONS = JURISDICTION_LABELS
# Which mail failed, in a staff alert about a delivery failure.
MAILS = {
    "acknowledgement": N_("acknowledgement of an application"),
    "new_application": N_("alert about a new application"),
    "info_requested": N_("request for information"),
    "welcome": N_("welcome to a new member"),
    "declined": N_("decision to decline an application"),
    "waitlisted": N_("waiting-list acknowledgement"),
    "wave_opened": N_("announcement of a new wave"),
    "withdrawal": N_("confirmation of a withdrawal"),
    "erasure": N_("confirmation of an erasure"),
    "contact_changed": N_("notice to a new contact person"),
    "digest": N_("digest"),
    "delivery_failed": N_("alert about a failed delivery"),
    "password_reset": N_("password reset link"),
    "info_provided": N_("answer to a request for information"),
    "page_link": N_("link to an applicant's page"),
}
LABELS = (THEMES, JURISDICTIONS, MAILS)


def install(env: Environment, language: str, gettext: Callable[[str], str]) -> None:
    """The filters a mail template uses to show codes as words, in ``language``."""

    def label(table: dict[str, str]) -> Callable[[object], str]:
        def translated(code: object) -> str:
            message = table.get(str(code))
            return gettext(message) if message else str(code)
        return translated

    env.filters.update(
        country=lambda code: country(code, language),
        theme=label(THEMES),
        jurisdiction=label(JURISDICTIONS),
        mail_name=label(MAILS),
        day=lambda value: day(value, language),
        moment=lambda value: moment(value, language),
        number=lambda value: number(value, language),
        size=lambda value: size(value, language),
    )


@lru_cache(maxsize=1024)
def country(code: object, language: str) -> str:
    """The country's name in ``language`` (CLDR, through Babel); an unknown code as it is."""
    text = str(code or "")
    return _territories(language).get(text.upper(), text)


@lru_cache(maxsize=3)
def _territories(language: str) -> dict[str, str]:
    return dict(Locale.parse(language).territories)


# A wave's dates are the same in every mail of its fan-out: formatted once per language.
@lru_cache(maxsize=1024)
def day(value: object, language: str) -> str:
    """An ISO date (or the date of an ISO timestamp) as a person writes it: 24 November 2026."""
    parsed = _parse(value)
    if parsed is None:
        return str(value or "")
    return format_date(parsed, "long", locale=language)


@lru_cache(maxsize=1024)
def moment(value: object, language: str) -> str:
    """An ISO timestamp as a date and a time to the minute, in UTC, which the text says."""
    parsed = _parse(value)
    if not isinstance(parsed, datetime):
        return day(value, language)
    parsed = aware_utc(parsed)
    locale = Locale.parse(language)
    # The locale's own way to join a date and a time, and the zone named the same in every
    # language: Babel's French "TU" reads as a typo to most readers.
    joined = locale.datetime_formats["long"].format(
        format_time(parsed, "short", tzinfo=UTC, locale=locale),
        format_date(parsed, "long", locale=locale),
    )
    return f"{joined}\u00a0UTC"  # never "UTC" alone on a line


def number(value: object, language: str) -> str:
    try:
        return format_decimal(int(value), locale=language)
    except (TypeError, ValueError):
        return str(value)


def size(value: object, language: str) -> str:
    """A file's size as the applicant's page and the console say it."""
    try:
        return size_label(int(value), language)
    except (TypeError, ValueError):
        return str(value)


def _parse(value: object) -> date | datetime | None:
    if isinstance(value, datetime | date):
        return value
    text = str(value or "").strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        return None
