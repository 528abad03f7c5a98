"""The public pages: the application form, the thank-you page, and a page for a refusal.

Rendering is pure: values in, HTML out, in one of the campaign's languages. Jinja2 autoescapes
everything; messages come from the Babel catalogs through the i18n extension.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.intake import domain, i18n
from services.intake.domain import N_
from services.intake.schemas import CSRF_FIELD
from shared.events import LANGUAGES

TEMPLATES_DIR = Path(__file__).parent / "templates"

# Each language is named in itself, wherever the page is shown in another one.
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "es": "Español"}

JURISDICTION_LABELS = {
    "municipality": N_("Municipality"),
    "intermediary_city": N_("Intermediary city"),
    "metropolitan_area": N_("Metropolitan area"),
    "province": N_("Province"),
    "region": N_("Region"),
    "association": N_("Association of local or regional governments"),
    "other": N_("Other"),
}

THEME_LABELS = {
    "right_to_the_city": N_("Right to the city"),
    "food": N_("Food"),
    "housing": N_("Housing"),
    "culture": N_("Culture"),
    "health": N_("Health"),
    "informality": N_("Informality"),
    "gender": N_("Gender"),
    "non_discrimination": N_("Fighting discrimination"),
    "climate_justice": N_("Climate justice"),
    "participatory_democracy": N_("Participatory democracy"),
    "migration": N_("Migration"),
    "peace": N_("Peace"),
}


def form_page(
    language: str,
    *,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, list[str]] | None = None,
    notice: str | None = None,
    csrf_token: str = "",
) -> str:
    """The application form; with ``errors``, the same form again with what was typed;
    ``notice`` is a problem with the whole form rather than with one field."""
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
        mail_language=values.get("language") or language,
        **_common(language),
    )


def thanks_page(language: str, reference: str) -> str:
    """Shown after a form post: the reference to quote, and what happens next."""
    return _environment(language).get_template("thanks.html").render(
        lang=language, reference=reference, **_common(language)
    )


def problem_page(language: str, title: str, detail: str) -> str:
    """A refusal (not found, too many requests, expired form) in the page's language; the
    caller passes message ids, and they are translated here."""
    translate = i18n.translations(language).gettext
    return _environment(language).get_template("problem.html").render(
        lang=language, title=translate(title), detail=translate(detail), **_common(language)
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
    return environment
