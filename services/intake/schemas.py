"""The application form at the service's edge: a web form post or a JSON body.

``ApplicationForm`` applies the rules of ``domain`` field by field and reports every problem at
once, as marshmallow's ``ValidationError`` with ``{field: [message, ...]}`` in the language of
the request. Its output, plus ``reference`` and ``submitted_at``, is the data of an
``application.received`` event.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import ValidationError

from services.intake import domain, i18n
from services.intake.domain import N_, FieldProblem

UNKNOWN_FIELD = N_("This field is not part of the form.")
REQUIRED = N_("This field is required.")
CSRF_FIELD = "csrf_token"
# What a field left out becomes; every other field is required.
DEFAULTS: dict[str, Any] = {
    "website": None,
    "contact_phone": None,
    # The language of the mail to come; a form that does not say gets the page's language.
    "language": None,
    "frameworks": None,
    "listing_consent": False,
}
# The fields whose null means "not given"; a null anywhere else is "required".
NULLABLE = frozenset(name for name, default in DEFAULTS.items() if default is None)
_MISSING = object()


def _untranslated(message: str) -> str:
    return message


class ApplicationForm:
    """One application; ``gettext`` translates the messages, ``language`` is the page's.

    A loop over ``domain.RULES`` rather than a marshmallow ``Schema``: on every submission,
    marshmallow's own work per field (a closure, its error store, its hooks) cost more than
    the rules themselves (300 µs a load, the rules 140 µs). The answers are a marshmallow
    schema's: a field is required unless it has a default, an optional one may be null, an
    unknown field is refused, and every problem comes in one ``ValidationError``.
    """

    def __init__(self, *, gettext: Callable[[str], str] = _untranslated, language: str = "en"):
        self.gettext = gettext
        self.page_language = language

    def load(self, data: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise ValidationError({"_schema": ["Invalid input type."]})
        loaded: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        for name, rule in domain.RULES.items():
            value = data.get(name, _MISSING)
            if value is _MISSING and name in DEFAULTS:
                loaded[name] = DEFAULTS[name]
            elif value is None and name in NULLABLE:
                loaded[name] = None
            elif value is _MISSING or value is None:
                errors[name] = [self.gettext(REQUIRED)]
            else:
                try:
                    loaded[name] = rule(value)
                except FieldProblem as problem:
                    errors[name] = [problem.translated(self.gettext)]
        for name in data:
            if name not in domain.RULES:
                errors[name] = [self.gettext(UNKNOWN_FIELD)]
        if errors:
            raise ValidationError(errors)
        loaded["language"] = loaded["language"] or self.page_language
        return loaded


@functools.cache
def form_schema(language: str) -> ApplicationForm:
    """The form of one page language, reused: loading keeps no state on it."""
    return ApplicationForm(gettext=i18n.translations(language).gettext, language=language)


def form_payload(form: Any) -> dict[str, Any]:
    """An application from a form post (a werkzeug MultiDict): ``themes`` is repeated, every
    other field is one value; the form's own controls (CSRF token, honeypot) are left out."""
    # An unticked box is not sent at all: say what to tick rather than "required".
    payload: dict[str, Any] = {"themes": [], "consent": ""}
    for name in form:
        if name not in domain.RULES:
            continue
        payload[name] = form.getlist(name) if name == "themes" else form.get(name)
    return payload


def errors_by_field(messages: Mapping[str, Any]) -> dict[str, list[str]]:
    """marshmallow's error messages as ``{field: [message, ...]}`` (always lists of text)."""
    return {
        name: [str(m) for m in (found if isinstance(found, list) else [found])]
        for name, found in messages.items()
    }
