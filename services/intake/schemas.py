"""The application form at the service's edge: a web form post or a JSON body.

``ApplicationForm`` applies the rules of ``domain`` field by field and reports every problem at
once, as ``{field: [message, ...]}`` in the language of the request. Its output, plus
``reference`` and ``submitted_at``, is the data of an ``application.received`` event.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from marshmallow import RAISE, Schema, ValidationError, fields, post_load

from services.intake import domain, i18n
from services.intake.domain import N_, FieldProblem

UNKNOWN_FIELD = N_("This field is not part of the form.")
CSRF_FIELD = "csrf_token"


def _untranslated(message: str) -> str:
    return message


class Rule(fields.Field):
    """A field checked and normalised by one rule of the domain."""

    default_error_messages: ClassVar[dict[str, str]] = {
        "required": N_("This field is required."),
        "null": N_("This field is required."),
    }

    def __init__(self, rule: Callable[[Any], Any], **kwargs: Any):
        super().__init__(**kwargs)
        self.rule = rule

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        try:
            return self.rule(value)
        except FieldProblem as problem:
            raise ValidationError(problem.translated(self.root.gettext)) from None

    def make_error(self, key: str, **kwargs: Any) -> ValidationError:
        return ValidationError(self.root.gettext(self.error_messages[key]))


def _required(rule: Callable[[Any], Any]) -> Rule:
    return Rule(rule, required=True)


def _optional(rule: Callable[[Any], Any]) -> Rule:
    return Rule(rule, load_default=None, allow_none=True)


class ApplicationForm(Schema):
    """One application; ``gettext`` translates the messages, ``language`` is the page's."""

    class Meta:
        unknown = RAISE

    government_name = _required(domain.government_name)
    country = _required(domain.country)
    jurisdiction_type = _required(domain.jurisdiction_type)
    population = _required(domain.population)
    website = _optional(domain.website)
    authority_name = _required(domain.person_field)
    authority_title = _required(domain.person_field)
    contact_name = _required(domain.person_field)
    contact_position = _required(domain.person_field)
    contact_email = _required(domain.contact_email)
    contact_phone = _optional(domain.contact_phone)
    # The language of the mail to come; a form that does not say gets the page's language.
    language = _optional(domain.language)
    themes = _required(domain.themes)
    commitment = _required(domain.commitment)
    frameworks = _optional(domain.frameworks)
    consent = _required(domain.consent)
    listing_consent = Rule(domain.listing_consent, load_default=False)

    def __init__(
        self,
        *,
        gettext: Callable[[str], str] = _untranslated,
        language: str = "en",
        **kwargs: Any,
    ):
        self.gettext = gettext
        self.page_language = language
        super().__init__(**kwargs)
        self.error_messages = {**self.error_messages, "unknown": gettext(UNKNOWN_FIELD)}

    @post_load
    def _mail_language(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["language"] = data.get("language") or self.page_language
        return data


@functools.cache
def form_schema(language: str) -> ApplicationForm:
    """The schema of one page language, reused: loading keeps no state on the schema."""
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
