"""The public pages: the application form, the thank-you page, the applicant's own page (with
its withdrawal confirmation and the "lost your link?" form), and a page for a refusal.

Rendering is pure: values in, HTML out, in one of the campaign's languages. Jinja2 autoescapes
everything; messages come from the Babel catalogs through the i18n extension.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from services.intake import domain, i18n
from services.intake.domain import N_
from services.intake.schemas import CSRF_FIELD
from services.intake.waves import Wave
from shared.attachments import size_label
from shared.campaign import JURISDICTION_LABELS, LANGUAGES, THEME_LABELS, campaign_name

TEMPLATES_DIR = Path(__file__).parent / "templates"

# Each language is named in itself, wherever the page is shown in another one.
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "es": "Español"}

# Each field as the form labels it: the error summary names the field of each problem.
FIELD_LABELS = {
    "government_name": N_("Name of the local or regional government"),
    "country": N_("Country"),
    "jurisdiction_type": N_("Type of government"),
    "population": N_("Population"),
    "website": N_("Website"),
    "authority_name": N_("Name of the authority"),
    "authority_title": N_("Title of the authority"),
    "contact_name": N_("Name of the contact person"),
    "contact_position": N_("Position"),
    "contact_email": N_("E-mail address"),
    "contact_phone": N_("Phone number"),
    "language": N_("Language for our messages"),
    "themes": N_("Themes of your human rights work"),
    "commitment": N_("Why does your government join, and what does it commit to?"),
    "frameworks": N_("Human rights frameworks already adopted"),
    "consent": N_("Consent"),
    "listing_consent": N_("Listing in the public directory"),
}
# The summary's name of a field whose label is a question ("…commit to?: …" reads badly): the
# heading of its group, which the person sees just above it.
SUMMARY_LABELS = {**FIELD_LABELS, "commitment": N_("Your commitment")}

def form_page(
    language: str,
    *,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, list[str]] | None = None,
    notice: str | None = None,
    csrf_token: str = "",
    wave: Wave | None = None,
    today: date | None = None,
) -> str:
    """The application form; with ``errors``, the same form again with what was typed;
    ``notice`` is a problem with the whole form rather than with one field; ``wave`` the open
    wave (None: applications go to the waiting list)."""
    values = dict(values or {})
    selected_themes = values.get("themes") or []
    if isinstance(selected_themes, str):
        selected_themes = [selected_themes]
    return _environment(language).get_template("form.html").render(
        lang=language,
        values=values,
        themes_chosen=set(selected_themes),
        errors=_in_form_order(errors or {}),
        notice=notice,
        csrf_field=CSRF_FIELD,
        csrf_token=csrf_token,
        honeypot_field=domain.HONEYPOT_FIELD,
        countries=i18n.countries(language),
        jurisdiction_labels=JURISDICTION_LABELS,
        theme_labels=THEME_LABELS,
        field_labels=FIELD_LABELS,
        summary_labels=SUMMARY_LABELS,
        mail_language=values.get("language") or language,
        wave=_wave_box(wave, language, today or datetime.now(UTC).date()),
        **_common(language),
    )


def _wave_box(wave: Wave | None, language: str, today: date) -> dict[str, Any] | None:
    """What the form says about the open wave, in the page's language."""
    if wave is None:
        return None
    closes = wave.closes_at.date() if wave.closes_at else None
    return {
        "number": wave.number,
        "name": wave.named(language),
        "theme": wave.theme_in(language),
        "description": wave.description_in(language),
        "campaign_text": wave.campaign_text,
        # A closing date already past would contradict the open wave: the registry decides.
        "closes_on": format_date(closes, format="long", locale=language)
                     if closes and closes >= today else None,
    }


def thanks_page(language: str, reference: str) -> str:
    """Shown after a form post: the reference to quote, and what happens next."""
    return _environment(language).get_template("thanks.html").render(
        lang=language, reference=reference, **_common(language)
    )


def privacy_page(language: str, contact: str) -> str:
    """The privacy notice: what is kept, why, for how long, and how to ask the secretariat
    (``contact``, an e-mail address) for a copy or an erasure."""
    return _environment(language).get_template("privacy.html").render(
        lang=language, contact_link=Markup('<a href="mailto:{0}">{0}</a>').format(contact),
        **_common(language)
    )


def problem_page(language: str, title: str, detail: str, lost_link: bool = False) -> str:
    """A refusal (not found, too many requests, expired form) in the page's language; the
    caller passes message ids, and they are translated here."""
    translate = i18n.translations(language).gettext
    return _environment(language).get_template("problem.html").render(
        lang=language, title=translate(title), detail=translate(detail), lost_link=lost_link,
        **_common(language)
    )


def _in_form_order(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The error summary lists problems in the order a person meets the fields."""
    rank = {name: position for position, name in enumerate(domain.RULES)}
    return dict(sorted(errors.items(), key=lambda item: rank.get(item[0], len(rank))))


def _common(language: str) -> dict[str, Any]:
    return {"languages": LANGUAGES, "language_names": LANGUAGE_NAMES, "page_language": language}


@functools.cache
def _environment(language: str) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.install_gettext_translations(i18n.translations(language), newstyle=True)
    environment.globals["campaign"] = campaign_name(language)
    return environment


# -- the applicant's page ---------------------------------------------------------------------

STATUS_TEXTS = {
    "received": (N_("Received"),
                 N_("Your application has been received. The secretariat will file it shortly.")),
    "waitlisted": (N_("On the waiting list"),
                   N_("No wave of the campaign is open at the moment. Your application will be "
                      "reviewed when the next wave opens.")),
    "under_review": (N_("Under review in wave %(wave)s"),
                     N_("The secretariat is reviewing your application. It will write to you "
                        "when a decision has been taken.")),
    "info_requested": (N_("Information requested"),
                       N_("The secretariat needs more information to continue the review. "
                          "Please answer its question below.")),
    "answered": (N_("Information sent"),
                 N_("Your answer has been sent to the secretariat. The review will continue "
                    "shortly.")),
    "accepted": (N_("Member since %(date)s"),
                 N_("Your government is a member of the Global Campaign, in wave %(wave)s. "
                    "Welcome!")),
    "declined": (N_("Declined"), N_("The secretariat has declined the application.")),
    "withdrawn": (N_("Withdrawn"), N_("The application has been withdrawn.")),
    "withdrawal_requested": (N_("Withdrawal requested"),
                             N_("Your request to withdraw the application has been received. "
                                "A confirmation will be sent by e-mail.")),
}
TEXT_LABELS = {
    "info_requested": N_("The secretariat's question:"),
    "declined": N_("Reason:"),
    "withdrawn": N_("Reason:"),
}
TIMELINE_TEXTS = {
    "received": N_("Application received"),
    "waitlisted": N_("Put on the waiting list"),
    "under_review": N_("Under review in wave %(wave)s"),
    "info_requested": N_("The secretariat asked for information"),
    "answered": N_("You sent your answer"),
    "accepted": N_("Accepted into wave %(wave)s"),
    "declined": N_("Declined"),
    "withdrawn": N_("Withdrawn"),
    "withdrawal_requested": N_("You asked to withdraw the application"),
}
FACT_LABELS = (
    ("government_name", N_("Name of the local or regional government")),
    ("country", N_("Country")),
    ("jurisdiction_type", N_("Type of government")),
    ("population", N_("Population")),
    ("website", N_("Website")),
    ("authority_name", N_("Name of the authority")),
    ("authority_title", N_("Title of the authority")),
    ("contact_name", N_("Name of the contact person")),
    ("contact_position", N_("Position")),
    ("contact_email", N_("E-mail address")),
    ("contact_phone", N_("Phone number")),
    ("language", N_("Language for our messages")),
    ("themes", N_("Themes of your human rights work")),
    ("commitment", N_("Your commitment")),
    ("frameworks", N_("Human rights frameworks already adopted")),
    ("listing_consent", N_("Listed in the public directory once a member")),
)


def application_page(language: str, case: Any, *, page_path: str, csrf_token: str,
                     values: Mapping[str, Any] | None = None,
                     errors: Mapping[str, list[str]] | None = None) -> str:
    """The applicant's own page: the status in words, the question to answer (with the form),
    the timeline, the facts sent, and the way to withdraw."""
    standing = case.standing
    return _environment(language).get_template("application.html").render(
        lang=language,
        reference=case.reference,
        facts=case.facts,
        status=_status(language, standing),
        may_answer=standing.may_answer,
        may_withdraw=standing.may_withdraw,
        timeline=_timeline(language, standing),
        fact_list=_fact_list(language, case.facts),
        page_path=page_path,
        values=dict(values or {}),
        errors=dict(errors or {}),
        csrf_field=CSRF_FIELD,
        csrf_token=csrf_token,
        **_common(language),
    )


def withdraw_page(language: str, case: Any, *, page_path: str, csrf_token: str,
                  values: Mapping[str, Any] | None = None,
                  errors: Mapping[str, list[str]] | None = None) -> str:
    """The confirmation step before a withdrawal."""
    return _environment(language).get_template("withdraw.html").render(
        lang=language, reference=case.reference,
        government_name=case.facts.get("government_name", ""), page_path=page_path,
        values=dict(values or {}), errors=dict(errors or {}), csrf_field=CSRF_FIELD,
        csrf_token=csrf_token, **_common(language),
    )


def lost_link_page(language: str, *, csrf_token: str, sent: bool = False,
                   values: Mapping[str, Any] | None = None,
                   errors: Mapping[str, list[str]] | None = None) -> str:
    return _environment(language).get_template("lost_link.html").render(
        lang=language, sent=sent, values=dict(values or {}), errors=dict(errors or {}),
        csrf_field=CSRF_FIELD, csrf_token=csrf_token, **_common(language),
    )


def _status(language: str, standing: Any) -> dict[str, Any]:
    translate = i18n.translations(language).gettext
    kind = standing.status
    shown = kind
    if standing.withdrawal_pending:
        shown = "withdrawal_requested"
    elif standing.answered_latest_request:
        shown = "answered"
    title, detail = STATUS_TEXTS[shown]
    params = {"wave": standing.wave or "", "date": ""}
    latest = standing.latest
    if kind == "accepted" and latest is not None:
        params["date"] = _date(language, latest.occurred_at)
    text = latest.text if latest is not None and shown in TEXT_LABELS else None
    return {
        "kind": shown,
        "title": translate(title) % params,
        "detail": translate(detail) % params,
        "text": text,
        "text_label": translate(TEXT_LABELS[shown]) if text else "",
    }


def _timeline(language: str, standing: Any) -> list[dict[str, Any]]:
    translate = i18n.translations(language).gettext
    items = []
    for when, what, details in standing.timeline():
        wave = getattr(details, "wave", None) or ""
        text = getattr(details, "text", None) or getattr(details, "message", None)
        files = [{**f, "size_text": size_label(f["size"], language)}
                 for f in getattr(details, "attachments", ())]
        items.append({"when": _date(language, when, with_time=True),
                      "what": translate(TIMELINE_TEXTS[what]) % {"wave": wave},
                      "text": text, "files": files})
    return items


def _fact_list(language: str, facts: Mapping[str, Any]) -> list[tuple[str, str]]:
    translate = i18n.translations(language).gettext
    countries = dict(i18n.countries(language))
    shown = []
    for name, label in FACT_LABELS:
        value = facts.get(name)
        if value in (None, "", []):
            continue
        if name == "country":
            value = countries.get(value, value)
        elif name == "jurisdiction_type":
            value = translate(JURISDICTION_LABELS.get(value, value))
        elif name == "themes":
            value = ", ".join(translate(THEME_LABELS.get(t, t)) for t in value)
        elif name == "language":
            value = LANGUAGE_NAMES.get(value, value)
        elif name == "population":
            value = format_decimal(value, locale=language)
        elif name == "listing_consent":
            value = translate(N_("Yes") if value else N_("No"))
        shown.append((translate(label), str(value)))
    return shown


def _date(language: str, moment: datetime, with_time: bool = False) -> str:
    if with_time:
        return format_datetime(moment, "medium", tzinfo=UTC, locale=language) + " UTC"
    return format_date(moment, "long", locale=language)
