"""The console's edges: each form and query string, and the JSON bodies of its staff API.

Error messages are message ids of the console's catalogs (services.console.i18n.N_), so a page
shows them in its reader's language, each by its field.
"""
from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate

from services.console.domain import Role
from services.console.i18n import N_, REGIONS, STATUSES, THEMES
from shared.campaign import LANGUAGES

REQUIRED = N_("This field is required.")
_required = {"required": REQUIRED, "null": REQUIRED}
EMAIL = N_("Enter an e-mail address, like name@example.org.")
NUMBER = N_("Enter a whole number.")
DATE = N_("Enter a date, like 2026-03-01.")
TOO_LONG = N_("This is too long.")
CHOOSE = N_("Choose one of the options.")


class _Form(Schema):
    """Form fields arrive as strings; an empty one means it was not filled in."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _blank_is_missing(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()
                if not (isinstance(v, str) and not v.strip())}


def _email() -> fields.Email:
    return fields.Email(required=True, error_messages={**_required, "invalid": EMAIL},
                        validate=validate.Length(max=320, error=TOO_LONG))


def _text(limit: int, required: bool = True) -> fields.String:
    return fields.String(required=required, error_messages=_required,
                         validate=validate.Length(max=limit, error=TOO_LONG))


class SignInForm(_Form):
    email = _email()
    password = fields.String(required=True, error_messages=_required)
    next = fields.String(load_default="/")


class ForgotForm(_Form):
    email = _email()


class PasswordForm(_Form):
    password = fields.String(required=True, error_messages=_required)
    confirmation = fields.String(required=True, error_messages=_required)


class AcceptForm(_Form):
    wave = fields.Integer(load_default=None, error_messages={"invalid": NUMBER})


class DeclineForm(_Form):
    reason = _text(5000)


class RequestInfoForm(_Form):
    message = _text(5000)


class WaveForm(_Form):
    number = fields.Integer(required=True, validate=validate.Range(min=1, error=NUMBER),
                            error_messages={**_required, "invalid": NUMBER})
    name_en = _text(200)
    name_fr = _text(200)
    name_es = _text(200)
    theme_en = _text(500)
    theme_fr = _text(500)
    theme_es = _text(500)
    opens_at = fields.Date(required=True, error_messages={**_required, "invalid": DATE})
    closes_at = fields.Date(load_default=None, error_messages={"invalid": DATE})
    # What the public form says about the wave, in the languages the campaign wrote it in.
    description_en = _text(2000, required=False)
    description_fr = _text(2000, required=False)
    description_es = _text(2000, required=False)


class ContactForm(_Form):
    """A new contact person for a member (after elections, say): their own action and mail."""
    contact_name = _text(200)
    contact_email = _email()
    language = fields.String(load_default=None, validate=validate.OneOf(LANGUAGES, error=CHOOSE))


class EraseForm(_Form):
    confirmation = fields.String(required=True, error_messages=_required)


class DigestForm(_Form):
    start = fields.Date(required=True, error_messages={**_required, "invalid": DATE})
    end = fields.Date(required=True, error_messages={**_required, "invalid": DATE})
    language = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES, error=CHOOSE))


class StaffForm(_Form):
    email = _email()
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role],
                                                                error=CHOOSE),
                         error_messages=_required)
    language = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES, error=CHOOSE))


class LanguageForm(_Form):
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES, error=CHOOSE),
                             error_messages=_required)


class ApplicationFilters(_Form):
    """The queue's filters: what the registry's list understands, bad values dropped."""

    status = fields.String(validate=validate.OneOf(list(STATUSES)))
    wave = fields.Integer()
    region = fields.String(validate=validate.OneOf(list(REGIONS)))
    country = fields.String(validate=validate.Regexp(r"^[A-Za-z]{2}$"))
    language = fields.String(validate=validate.OneOf(LANGUAGES))
    theme = fields.String(validate=validate.OneOf(list(THEMES)))
    q = fields.String(validate=validate.Length(max=200))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))


class MemberFilters(_Form):
    status = fields.String(validate=validate.OneOf(["active", "withdrawn", "erased"]))
    wave = fields.Integer()
    region = fields.String(validate=validate.OneOf(list(REGIONS)))
    country = fields.String(validate=validate.Regexp(r"^[A-Za-z]{2}$"))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))


class StaffBody(Schema):
    """``POST /api/staff`` (``hrc staff add``)."""

    email = fields.Email(required=True)
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    language = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))


class EmailBody(Schema):
    email = fields.Email(required=True)


def load_form(schema: type[Schema], data: dict[str, Any]) -> tuple[dict[str, Any], dict]:
    """(values, errors by field): the values are kept either way, to show the form again."""
    try:
        return schema().load(data), {}
    except ValidationError as exc:
        return {}, {k: v if isinstance(v, list) else [str(v)] for k, v in exc.messages.items()}


def load_filters(schema: type[Schema], args: dict[str, Any]) -> dict[str, Any]:
    """Filters from a query string; a value that makes no sense is ignored, not an error."""
    try:
        return schema().load(args)
    except ValidationError as exc:
        kept = {k: v for k, v in args.items() if k not in exc.messages}
        return schema().load(kept)

