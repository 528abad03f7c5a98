"""The staff API's edges: request bodies and query strings in, JSON views out.

Every text and number a client sends goes through shared.validation's fields (no lone
surrogates or NUL, names without invisible or direction characters, integers within their
column), so a hostile value is a 422 for its field, never a database error.
"""
from __future__ import annotations

from datetime import UTC
from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from services.registry.domain import (
    LANGUAGES,
    WAVE_DESCRIPTION_MAX,
    ApplicationStatus,
    MemberStatus,
)
from services.registry.regions import REGIONS
from shared.validation import Integer, Text


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class _Paging(Schema):
    page = Integer(load_default=1, minimum=1)
    per_page = Integer(load_default=50, minimum=1, maximum=200)


class ApplicationQuery(_Strict, _Paging):
    status = fields.String(validate=validate.OneOf([s.value for s in ApplicationStatus]))
    wave = Integer()
    country = Text(name=True, validate=validate.Length(equal=2))
    region = fields.String(validate=validate.OneOf(REGIONS))
    possible_duplicate = fields.Boolean()
    language = fields.String(validate=validate.OneOf(LANGUAGES))
    theme = Text(name=True, validate=validate.Length(min=1, max=40))
    # A reference (exactly) or part of the government's name.
    q = Text(name=True, validate=validate.Length(min=1, max=200))


class MemberQuery(_Strict, _Paging):
    status = fields.String(validate=validate.OneOf([s.value for s in MemberStatus]))
    wave = Integer()
    country = Text(name=True, validate=validate.Length(equal=2))
    region = fields.String(validate=validate.OneOf(REGIONS))


class ContactBody(_Strict):
    contact_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    contact_email = fields.Email(required=True, validate=validate.Length(max=320))
    language = fields.String(load_default=None, allow_none=True,
                             validate=validate.OneOf(LANGUAGES))


class ImportQuery(_Strict):
    dry_run = fields.Boolean(load_default=False)


class AcceptBody(_Strict):
    wave = Integer(load_default=None, allow_none=True)


class DeclineBody(_Strict):
    reason = Text(required=True)


class RequestInfoBody(_Strict):
    message = Text(required=True)


class _JsonBoolean(fields.Boolean):
    """true or false, nothing that merely looks like one ("yes", 1)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class MemberUpdateBody(_Strict):
    listing_consent = _JsonBoolean(required=True)


class ReasonBody(_Strict):
    reason = Text(load_default=None, allow_none=True)


class _Multilingual(_Strict):
    en = Text(name=True, required=True)
    fr = Text(name=True, required=True)
    es = Text(name=True, required=True)


class _SomeLanguages(_Strict):
    """A text in none, some or all of the languages (blank is not given)."""

    en = Text(load_default=None, allow_none=True, max_length=WAVE_DESCRIPTION_MAX)
    fr = Text(load_default=None, allow_none=True, max_length=WAVE_DESCRIPTION_MAX)
    es = Text(load_default=None, allow_none=True, max_length=WAVE_DESCRIPTION_MAX)


class WaveBody(_Strict):
    number = Integer(required=True, strict=True, minimum=1)
    name = fields.Nested(_Multilingual, required=True)
    theme = fields.Nested(_Multilingual, required=True)
    # A time without a zone is UTC; a date alone is its midnight UTC.
    opens_at = fields.AwareDateTime(required=True, default_timezone=UTC)
    closes_at = fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=UTC)
    description = fields.Nested(_SomeLanguages, load_default=None, allow_none=True)


class _Enum(fields.Field):
    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value.value if value is not None else None


class ApplicationView(Schema):
    id = fields.Integer()
    reference = fields.String()
    status = _Enum()
    wave = fields.Integer(allow_none=True)
    member_id = fields.Integer(allow_none=True)
    government_name = fields.String()
    country = fields.String()
    region = fields.String()
    jurisdiction_type = fields.String()
    population = fields.Integer(allow_none=True)
    website = fields.String(allow_none=True)
    authority_name = fields.String(allow_none=True)
    authority_title = fields.String(allow_none=True)
    contact_name = fields.String(allow_none=True)
    contact_position = fields.String(allow_none=True)
    contact_email = fields.String(allow_none=True)
    contact_phone = fields.String(allow_none=True)
    language = fields.String()
    themes = fields.List(fields.String())
    commitment = fields.String(allow_none=True)
    frameworks = fields.String(allow_none=True)
    listing_consent = fields.Boolean()
    submitted_at = fields.DateTime()
    possible_duplicates = fields.List(fields.Dict())
    info_request = fields.String(allow_none=True)
    decision_reason = fields.String(allow_none=True)
    erased = fields.Boolean()
    imported = fields.Boolean()


class MemberView(Schema):
    id = fields.Integer()
    application_id = fields.Integer()
    reference = fields.String()
    status = _Enum()
    government_name = fields.String()
    country = fields.String()
    region = fields.String()
    jurisdiction_type = fields.String()
    population = fields.Integer(allow_none=True)
    themes = fields.List(fields.String())
    language = fields.String(validate=validate.OneOf(LANGUAGES))
    contact_name = fields.String(allow_none=True)
    contact_email = fields.String(allow_none=True)
    joined_wave = fields.Integer()
    joined_at = fields.DateTime()
    waves = fields.List(fields.Integer())
    withdrawn_at = fields.DateTime(allow_none=True)
    withdrawal_reason = fields.String(allow_none=True)
    website = fields.String(allow_none=True)
    listing_consent = fields.Boolean()
    imported = fields.Boolean()
    erased_at = fields.DateTime(allow_none=True)


class WaveView(Schema):
    number = fields.Integer()
    status = _Enum()
    name = fields.Dict()
    theme = fields.Dict()
    opens_at = fields.DateTime()
    closes_at = fields.DateTime(allow_none=True)
    description = fields.Dict()


class AuditView(Schema):
    who = fields.String()
    action = fields.String()
    subject_type = fields.String()
    subject_id = fields.String()
    at = fields.DateTime()
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)


class ApplicationExportView(Schema):
    application = fields.Nested(ApplicationView)
    audit = fields.List(fields.Nested(AuditView))


class ExportView(Schema):
    member = fields.Nested(MemberView)
    applications = fields.List(fields.Nested(ApplicationView))
    audit = fields.List(fields.Nested(AuditView))


class _ImportedView(Schema):
    id = fields.Integer(allow_none=True)
    government_name = fields.String()
    country = fields.String()
    joined_wave = fields.Integer()
    joined_at = fields.DateTime()


class _RowView(Schema):
    line = fields.Integer()
    government_name = fields.String()
    country = fields.String()


class _RefusedView(Schema):
    line = fields.Integer()
    government_name = fields.String()
    errors = fields.Dict()


class ImportReportView(Schema):
    """What an import did; ``dry_run`` or refused rows: what it would have imported."""

    done = fields.Boolean()
    dry_run = fields.Boolean()
    imported = fields.List(fields.Nested(_ImportedView))
    already_members = fields.List(fields.Nested(_RowView))
    refused = fields.List(fields.Nested(_RefusedView))
