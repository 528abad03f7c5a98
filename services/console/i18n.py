"""The console's languages: its catalogs (translations/<lang>/LC_MESSAGES/messages.po, read from
source, no compile step) and the names of the registry's codes (statuses, themes) in each."""
from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from shared.campaign import LANGUAGES

DEFAULT_LANGUAGE = "en"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "es": "Español"}


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


PASSWORD_RULES = (
    N_("Use at least 12 characters."),
    N_("Use at most 1024 characters."),
    N_("Choose something other than your e-mail address."),
    N_("The two passwords differ: type the same one twice."),
)
STATUSES = {
    "received": N_("Received"),
    "waitlisted": N_("Waiting list"),
    "under_review": N_("Under review"),
    "info_requested": N_("Information requested"),
    "accepted": N_("Accepted"),
    "declined": N_("Declined"),
    "withdrawn": N_("Withdrawn"),
    "active": N_("Active"),
    "erased": N_("Erased"),
    "planned": N_("Planned"),
    "open": N_("Open"),
    "closed": N_("Closed"),
}
THEMES = {
    "right_to_the_city": N_("Right to the city"),
    "food": N_("Food"),
    "housing": N_("Housing"),
    "culture": N_("Culture"),
    "health": N_("Health"),
    "informality": N_("Informality"),
    "gender": N_("Gender"),
    "non_discrimination": N_("Non-discrimination"),
    "climate_justice": N_("Climate justice"),
    "participatory_democracy": N_("Participatory democracy"),
    "migration": N_("Migration"),
    "peace": N_("Peace"),
}
JURISDICTIONS = {
    "municipality": N_("Municipality"),
    "intermediary_city": N_("Intermediary city"),
    "metropolitan_area": N_("Metropolitan area"),
    "province": N_("Province"),
    "region": N_("Region"),
    "association": N_("Association"),
    "other": N_("Other"),
}
ACTIONS = {
    "accept": N_("accepted"),
    "decline": N_("declined"),
    "request_info": N_("asked for information"),
    "resume_review": N_("resumed the review"),
    "withdraw": N_("withdrew"),
    "erase": N_("erased"),
    "create_wave": N_("created the wave"),
    "open_wave": N_("opened the wave"),
    "close_wave": N_("closed the wave"),
    "info_provided": N_("sent the information asked for"),
}
# Who did it, when the registry names no person: the applicant, on their own page.
ACTORS = {"applicant": N_("the applicant")}
MAILS = {
    "acknowledgement": N_("acknowledgement"),
    "new_application": N_("new application alert"),
    "info_requested": N_("information requested"),
    "welcome": N_("welcome"),
    "declined": N_("decision: declined"),
    "waitlisted": N_("waiting list"),
    "wave_opened": N_("wave opened"),
    "withdrawal": N_("withdrawal"),
    "erasure": N_("erasure"),
    "delivery_failed": N_("delivery failure"),
    "info_provided": N_("the applicant's answer"),
    "page_link": N_("link to the applicant's page"),
    "contact_changed": N_("contact person replaced"),
    "password_reset": N_("password link"),
    "digest": N_("digest"),
}
# The catalogue's event types as the dashboard names a parked one (shared.events).
EVENTS = {
    "application.received": N_("application received"),
    "application.waitlisted": N_("application put on the waiting list"),
    "application.under_review": N_("application under review"),
    "application.info_requested": N_("information requested"),
    "application.info_provided": N_("the applicant's answer"),
    "application.withdrawal_requested": N_("the applicant asks to withdraw"),
    "application.link_requested": N_("the applicant asks for their link again"),
    "application.accepted": N_("application accepted"),
    "application.declined": N_("application declined"),
    "application.withdrawn": N_("application withdrawn"),
    "application.erased": N_("application erased"),
    "member.joined": N_("member joined"),
    "member.withdrawn": N_("member withdrawn"),
    "member.listing_changed": N_("directory listing changed"),
    "member.erased": N_("member erased"),
    "member.contact_changed": N_("new contact person"),
    "wave.opened": N_("wave opened"),
    "wave.closed": N_("wave closed"),
    "staff.token_issued": N_("staff token issued"),
    "staff.password_reset_requested": N_("password reset requested"),
    "digest.ready": N_("digest ready"),
}
# reports' names for its digests (services/reports/domain/digest.py): the scheduled one.
DIGESTS = {"campaign": N_("scheduled digest")}
# The registry's CSV import says what to correct in English (services/registry/member_csv.py);
# the console says it in the reader's language. A message not listed here is shown as it came.
IMPORT_PROBLEMS = tuple((re.compile(pattern), message) for pattern, message in (
    (r"required, 2 to 200 characters", N_("required, 2 to 200 characters")),
    (r"an ISO 3166-1 alpha-2 code, e\.g\. FR", N_("a two-letter ISO 3166-1 code, e.g. FR")),
    (r"'(?P<value>.*)' is not a country code", N_("“%(value)s” is not a country code")),
    (r"one of (?P<choices>[a-z_, ]+)", N_("one of %(choices)s")),
    (r"the wave's number, e\.g\. 1", N_("the wave's number, e.g. 1")),
    (r"there is no wave (?P<value>.*)", N_("there is no wave %(value)s")),
    (r"wave (?P<value>.*) has not opened yet", N_("wave %(value)s has not opened yet")),
    (r"a date YYYY-MM-DD, e\.g\. 2022-10-12", N_("a date YYYY-MM-DD, e.g. 2022-10-12")),
    (r"a date in the future", N_("a date in the future: the day it joined is today or before")),
    (r"an address starting with http:// or https://",
     N_("an address starting with http:// or https://")),
    (r"true or false", N_("true or false")),
    (r"at most 200 characters", N_("at most 200 characters")),
    (r"an e-mail address like name@example\.org", N_("an e-mail address like name@example.org")),
    (r"required when a contact e-mail is given", N_("required when a contact e-mail is given")),
    (r"more cells than columns \(a comma inside a name needs quotes\)",
     N_("more cells than columns (a comma inside a name needs quotes)")),
    (r"the same government as line (?P<value>\d+) \(name and country\)",
     N_("the same government as line %(value)s (name and country)")),
))


def import_problem(text: str, gettext: Callable[[str], str]) -> str:
    """One problem of a refused row, in the reader's language."""
    for pattern, message in IMPORT_PROBLEMS:
        found = pattern.fullmatch(text)
        if found:
            return gettext(message) % found.groupdict()
    return text


MAIL_STATUSES = {
    "pending": N_("waiting to be sent"),
    "sent": N_("sent"),
    "failed": N_("failed"),
    "cancelled": N_("cancelled"),
}


def action(name: str) -> str:
    """The message id of an audit action (``review_in_wave_3`` names its wave)."""
    if name.startswith("review_in_wave_"):
        return N_("took it into review as the wave opened")
    return ACTIONS.get(name, name)


REGIONS = {
    "Africa": N_("Africa"),
    "Asia-Pacific": N_("Asia-Pacific"),
    "Eurasia": N_("Eurasia"),
    "Europe": N_("Europe"),
    "Latin America": N_("Latin America"),
    "Middle East & West Asia": N_("Middle East & West Asia"),
    "North America": N_("North America"),
}


def language_of(requested: str | None, accept_language, fallback: str = DEFAULT_LANGUAGE) -> str:
    """``?lang=`` first, then the browser's preference (werkzeug's parsed Accept-Language)."""
    if requested in LANGUAGES:
        return requested
    if accept_language is not None:
        best = accept_language.best_match(LANGUAGES)
        if best:
            return best
    return fallback


@functools.cache
def translations(language: str) -> NullTranslations:
    po = TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


@functools.cache
def country_name(code: str, language: str) -> str:
    return Locale.parse(language).territories.get((code or "").upper(), code)

