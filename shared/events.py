"""The event catalogue: every event that crosses the broker, its envelope and its data schema.

An event is validated when it is written (``new_event``) and when it is received
(``parse_event``): a producer cannot emit a malformed event, and a consumer never trusts one.
"""
from __future__ import annotations

import dataclasses
import functools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from shared.campaign import LANGUAGES

ENVELOPE_VERSION = 1

JURISDICTION_TYPES = (
    "municipality",
    "intermediary_city",
    "metropolitan_area",
    "province",
    "region",
    "association",
    "other",
)
THEMES = (
    "right_to_the_city",
    "food",
    "housing",
    "culture",
    "health",
    "informality",
    "gender",
    "non_discrimination",
    "climate_justice",
    "participatory_democracy",
    "migration",
    "peace",
)


class InvalidEvent(Exception):
    """An event that does not match the catalogue; ``errors`` says why, field by field."""

    def __init__(self, errors: Any):
        super().__init__(f"invalid event: {errors}")
        self.errors = errors


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class Multilingual(_Strict):
    en = fields.String(required=True)
    fr = fields.String(required=True)
    es = fields.String(required=True)


class SomeLanguages(_Strict):
    """A text given in none, some or all of the campaign's languages."""

    en = fields.String(validate=validate.Length(min=1, max=2000))
    fr = fields.String(validate=validate.Length(min=1, max=2000))
    es = fields.String(validate=validate.Length(min=1, max=2000))


class ApplicationReceivedSchema(_Strict):
    reference = fields.String(required=True, validate=validate.Length(min=5, max=40))
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
    submitted_at = fields.String(required=True)
    government_name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    country = fields.String(required=True, validate=validate.Length(equal=2))
    jurisdiction_type = fields.String(required=True, validate=validate.OneOf(JURISDICTION_TYPES))
    population = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    website = fields.String(load_default=None, allow_none=True)
    authority_name = fields.String(required=True)
    authority_title = fields.String(required=True)
    contact_name = fields.String(required=True)
    contact_position = fields.String(required=True)
    contact_email = fields.String(required=True)
    contact_phone = fields.String(load_default=None, allow_none=True)
    themes = fields.List(
        fields.String(validate=validate.OneOf(THEMES)),
        required=True,
        validate=validate.Length(min=1),
    )
    commitment = fields.String(required=True, validate=validate.Length(min=20, max=5000))
    frameworks = fields.String(load_default=None, allow_none=True)
    consent = fields.Boolean(required=True, validate=validate.Equal(True))
    # May the government be listed in the public directory once a member? Never by default.
    listing_consent = fields.Boolean(load_default=False)
    # The applicant's private page, key included: notify puts it in the acknowledgement. The key
    # opens only this application's page, whose facts every subscriber already holds (above).
    page_url = fields.String(load_default=None, allow_none=True,
                             validate=validate.Length(max=500))


class PossibleDuplicate(_Strict):
    reference = fields.String(required=True)
    government_name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("member", "application")))
    score = fields.Float(load_default=None, allow_none=True)


class _ApplicationStep(_Strict):
    application_id = fields.Integer(required=True)
    reference = fields.String(required=True)


class ApplicationWaitlistedSchema(_ApplicationStep):
    possible_duplicates = fields.List(fields.Nested(PossibleDuplicate), load_default=list)


class ApplicationUnderReviewSchema(_ApplicationStep):
    wave = fields.Integer(required=True)
    possible_duplicates = fields.List(fields.Nested(PossibleDuplicate), load_default=list)


class ApplicationInfoRequestedSchema(_ApplicationStep):
    message = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class AnswerAttachment(_Strict):
    id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    filename = fields.String(required=True, validate=validate.Length(min=1, max=255))
    content_type = fields.String(
        required=True, validate=validate.OneOf(("application/pdf", "image/png", "image/jpeg")))
    size = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))


class ApplicationInfoProvidedSchema(_Strict):
    """The applicant's answer to an information request, sent from their page (intake keeps
    the attachments; staff download them from intake)."""

    reference = fields.String(required=True)
    message = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    attachments = fields.List(fields.Nested(AnswerAttachment), load_default=list,
                              validate=validate.Length(max=5))


class ApplicationWithdrawalRequestedSchema(_Strict):
    reference = fields.String(required=True)
    reason = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(max=5000))


class ApplicationLinkRequestedSchema(_Strict):
    """"Lost your link?": the reference and contact address matched; mail a fresh link."""

    reference = fields.String(required=True)
    page_url = fields.String(required=True, validate=validate.Length(min=1, max=500))


class ApplicationAcceptedSchema(_ApplicationStep):
    member_id = fields.Integer(required=True)
    wave = fields.Integer(required=True)


class ApplicationDeclinedSchema(_ApplicationStep):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class ApplicationWithdrawnSchema(_ApplicationStep):
    reason = fields.String(load_default=None, allow_none=True)


class MemberJoinedSchema(_Strict):
    member_id = fields.Integer(required=True)
    wave = fields.Integer(required=True)
    government_name = fields.String(required=True)
    country = fields.String(required=True)
    region = fields.String(required=True)
    application_id = fields.Integer(load_default=None, allow_none=True)
    reference = fields.String(load_default=None, allow_none=True)
    jurisdiction_type = fields.String(load_default=None, allow_none=True)
    population = fields.Integer(load_default=None, allow_none=True)
    themes = fields.List(fields.String(), load_default=list)
    joined_at = fields.String(load_default=None, allow_none=True)
    contact_name = fields.String(load_default=None, allow_none=True)
    contact_email = fields.String(load_default=None, allow_none=True)
    language = fields.String(load_default=None, allow_none=True)
    website = fields.String(load_default=None, allow_none=True)
    listing_consent = fields.Boolean(load_default=False)
    # Brought in by ``hrc members import`` (a member from before the platform): no welcome mail.
    imported = fields.Boolean(load_default=False)


class MemberListingChangedSchema(_Strict):
    """The member's consent to the public directory, given or withdrawn by staff."""

    member_id = fields.Integer(required=True)
    listing_consent = fields.Boolean(required=True)


class MemberWithdrawnSchema(_Strict):
    member_id = fields.Integer(required=True)
    reason = fields.String(load_default=None, allow_none=True)


class MemberErasedSchema(_Strict):
    member_id = fields.Integer(required=True)
    # The applications this person filed, so that services keyed by reference can forget them too.
    references = fields.List(fields.String(), load_default=list)


class MemberContactChangedSchema(_Strict):
    """A new contact person for a member (after elections, say): the address mail goes to."""

    member_id = fields.Integer(required=True)
    contact_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    contact_email = fields.String(required=True, validate=validate.Length(min=3, max=320))
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
    government_name = fields.String(load_default=None, allow_none=True)


class ApplicationErasedSchema(_Strict):
    """An applicant who never became a member erased: every service forgets the application."""

    application_id = fields.Integer(required=True)
    reference = fields.String(required=True)


class WaveOpenedSchema(_Strict):
    number = fields.Integer(required=True)
    name = fields.Nested(Multilingual, required=True)
    theme = fields.Nested(Multilingual, required=True)
    opens_at = fields.String(required=True)
    closes_at = fields.String(load_default=None, allow_none=True)
    # What the campaign says about the wave, in the languages it was written in (optional).
    description = fields.Nested(SomeLanguages, load_default=None, allow_none=True)
    # Told again by ``hrc waves announce`` (the open wave, for a service that missed it): the
    # same wave, no news; notify announces no wave to members on it.
    repeated = fields.Boolean(load_default=False)


class WaveClosedSchema(_Strict):
    number = fields.Integer(required=True)


class Period(_Strict):
    start = fields.String(required=True)
    end = fields.String(required=True)


class Attachment(_Strict):
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    content_base64 = fields.String(required=True)
    # An inline attachment (a chart in the HTML part) is referenced as cid:<content_id>.
    content_id = fields.String(load_default=None, allow_none=True)


class DigestReadySchema(_Strict):
    digest = fields.String(required=True)
    period = fields.Nested(Period, required=True)
    recipients = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    subject = fields.String(required=True)
    html = fields.String(required=True)
    text = fields.String(required=True)
    attachments = fields.List(fields.Nested(Attachment), load_default=list)
    language = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))


class StaffTokenIssuedSchema(_Strict):
    label = fields.String(required=True, validate=validate.Length(min=1, max=100))
    # SHA-256 of the token, never the token: what another service needs to recognise it.
    digest = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))


class StaffPasswordResetRequestedSchema(_Strict):
    email = fields.String(required=True, validate=validate.Length(min=3, max=320))
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
    # The single-use link (30 minutes) to the console's page that sets a new password.
    link = fields.String(required=True, validate=validate.Length(min=10, max=2000))


class NotificationOutcome(_Strict):
    event_id = fields.String(required=True)
    template = fields.String(required=True)
    recipient = fields.String(required=True)
    error = fields.String(load_default=None, allow_none=True)


@dataclass(frozen=True)
class EventType:
    name: str
    source: str
    schema: type[Schema]
    # Consumers, as service names; each gets a durable queue declared up front (rule 3).
    subscribers: tuple[str, ...] = field(default=())

    @property
    def handler_name(self) -> str:
        """The nameko method that receives this event in every subscriber."""
        return "on_" + self.name.replace(".", "_")


CATALOGUE: dict[str, EventType] = {
    t.name: t
    for t in (
        EventType("application.received", "intake", ApplicationReceivedSchema,
                  ("registry", "notify", "reports")),
        EventType("application.waitlisted", "registry", ApplicationWaitlistedSchema,
                  ("intake", "notify", "reports")),
        EventType("application.under_review", "registry", ApplicationUnderReviewSchema,
                  ("intake", "notify", "reports")),
        EventType("application.info_requested", "registry", ApplicationInfoRequestedSchema,
                  ("intake", "notify", "reports")),
        EventType("application.info_provided", "intake", ApplicationInfoProvidedSchema,
                  ("registry", "notify")),
        EventType("application.withdrawal_requested", "intake",
                  ApplicationWithdrawalRequestedSchema, ("registry",)),
        EventType("application.link_requested", "intake", ApplicationLinkRequestedSchema,
                  ("notify",)),
        EventType("application.accepted", "registry", ApplicationAcceptedSchema,
                  ("intake", "notify", "reports")),
        EventType("application.declined", "registry", ApplicationDeclinedSchema,
                  ("intake", "notify", "reports")),
        EventType("application.withdrawn", "registry", ApplicationWithdrawnSchema,
                  ("intake", "notify", "reports")),
        EventType("application.erased", "registry", ApplicationErasedSchema,
                  ("intake", "notify", "reports")),
        EventType("member.joined", "registry", MemberJoinedSchema, ("notify", "reports")),
        EventType("member.withdrawn", "registry", MemberWithdrawnSchema, ("notify", "reports")),
        EventType("member.listing_changed", "registry", MemberListingChangedSchema, ("reports",)),
        EventType("member.erased", "registry", MemberErasedSchema, ("intake", "notify", "reports")),
        EventType("member.contact_changed", "registry", MemberContactChangedSchema, ("notify",)),
        EventType("wave.opened", "registry", WaveOpenedSchema, ("intake", "notify", "reports")),
        EventType("wave.closed", "registry", WaveClosedSchema, ("intake", "notify", "reports")),
        EventType("staff.token_issued", "registry", StaffTokenIssuedSchema,
                  ("intake", "notify", "reports", "console")),
        EventType("staff.password_reset_requested", "console", StaffPasswordResetRequestedSchema,
                  ("notify",)),
        EventType("digest.ready", "reports", DigestReadySchema, ("notify",)),
        EventType("notification.sent", "notify", NotificationOutcome, ()),
        EventType("notification.failed", "notify", NotificationOutcome, ()),
    )
}

SERVICES = ("intake", "registry", "notify", "reports", "console")


def subscriptions(service: str) -> list[EventType]:
    """The event types a service consumes."""
    return [t for t in CATALOGUE.values() if service in t.subscribers]


@dataclass(frozen=True)
class Event:
    event_id: str
    type: str
    occurred_at: str
    version: int
    data: dict[str, Any]

    @property
    def source(self) -> str:
        return CATALOGUE[self.type].source

    def as_message(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "type": self.type,
            "occurred_at": self.occurred_at,
            "version": self.version,
            "data": self.data,
        }


class Envelope(_Strict):
    event_id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.OneOf(tuple(CATALOGUE)))
    occurred_at = fields.AwareDateTime(required=True, format="iso")
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    data = fields.Dict(required=True)


# Schemas hold no per-load state: one instance each, built once (it shows on every submission).
_ENVELOPE = Envelope()
_DATA_SCHEMAS = {name: event_type.schema() for name, event_type in CATALOGUE.items()}


def new_event(
    type_: str,
    data: dict[str, Any],
    *,
    event_id: str | None = None,
    occurred_at: datetime | None = None,
) -> Event:
    """Build and validate an event; raises InvalidEvent rather than emit a malformed one."""
    return parse_event(checked_event(type_, data, event_id=event_id,
                                     occurred_at=occurred_at).as_message())


def checked_event(
    type_: str,
    data: dict[str, Any],
    *,
    event_id: str | None = None,
    occurred_at: datetime | None = None,
) -> Event:
    """An event whose data its producer has just checked with rules at least as strict as the
    catalogue's (intake's form schema, for application.received): built without validating it
    a second time, which cost as much as the first check on every submission. The producer's
    tests hold the claim: what it builds this way passes ``parse_event``."""
    return Event(
        event_id=event_id or str(uuid.uuid4()),
        type=type_,
        occurred_at=(occurred_at or datetime.now(UTC)).isoformat(),
        version=ENVELOPE_VERSION,
        data=data,
    )


def parse_event(message: Any) -> Event:
    """Validate a received message against the envelope and its type's data schema."""
    if not isinstance(message, dict):
        raise InvalidEvent({"_schema": ["an event is a JSON object"]})
    try:
        envelope = _ENVELOPE.load(message)
    except ValidationError as exc:
        raise InvalidEvent(exc.messages) from exc
    try:
        data = _DATA_SCHEMAS[envelope["type"]].load(envelope["data"])
    except ValidationError as exc:
        raise InvalidEvent({"data": exc.messages}) from exc
    return Event(
        event_id=str(envelope["event_id"]),
        type=envelope["type"],
        occurred_at=envelope["occurred_at"].isoformat(),
        version=envelope["version"],
        data=data,
    )


# --- typed events: what handlers take ------------------------------------------------------------
# A frozen dataclass per event type a service consumes, built at the edge from an Event the
# catalogue validated (``of``, ``typed``), or from data it validates (``from_data``): a handler
# reads ``joined.member_id``, never ``event.data["member_id"]``. The wire format is the
# catalogue's schema, unchanged: these are built on the way in and never sent. A field the
# schema fills in (``load_default``) has a default here too, so that a payload stored before
# that field existed still builds.

# Every typed event by its type's name (filled as each class is defined).
TYPED: dict[str, type[TypedEvent]] = {}


@dataclass(frozen=True)
class TypedEvent:
    type: ClassVar[str]
    # The envelope's facts, for the handlers that key on them (notify's mail log, when a wave
    # opened); not part of the event's value.
    event_id: str | None = field(default=None, kw_only=True, compare=False, repr=False)
    occurred_at: str | None = field(default=None, kw_only=True, compare=False, repr=False)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        TYPED[cls.type] = cls

    @classmethod
    def of(cls, event: Event) -> Self:
        if event.type != cls.type:
            raise InvalidEvent({"type": [f"{event.type} is not {cls.type}"]})
        return cls._from_valid(event.data, event_id=event.event_id,
                               occurred_at=event.occurred_at)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Self:
        try:
            valid = _DATA_SCHEMAS[cls.type].load(data)
        except ValidationError as exc:
            raise InvalidEvent({"data": exc.messages}) from exc
        return cls._from_valid(valid)

    @classmethod
    def _from_valid(cls, data: Any, event_id: str | None = None,
                    occurred_at: str | None = None) -> Self:
        # A payload taken as stored (``shared.inbox.stored_event``) is not validated again: one
        # that lacks a fact is refused here, by name, not by a KeyError in its handler.
        if not isinstance(data, dict):
            raise InvalidEvent({"data": {"_schema": ["the data of an event is an object"]}})
        shape = _shape(cls)
        if not shape.required <= data.keys():
            raise InvalidEvent({"data": {name: ["Missing data for required field."]
                                         for name in _required(cls) if name not in data}})
        values = shape.defaults.copy()
        if data.keys() <= shape.names:
            values.update(data)
        else:  # facts this event does not name (a newer producer's) stay out
            for name in _names(cls):
                if name in data:
                    values[name] = data[name]
        for name, value in values.items():
            if value.__class__ is list:
                values[name] = _frozen(value)
        values["event_id"], values["occurred_at"] = event_id, occurred_at
        # What the dataclass's __init__ would leave, without its object.__setattr__ per field
        # (a frozen dataclass's): that was most of building the events a live inbox or a
        # rebuild takes by the hundred thousand. The class has no __post_init__ to skip.
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", values)
        return event

    def as_data(self) -> dict[str, Any]:
        """The event's data as the catalogue's schema has it (lists, not tuples)."""
        return {name: _plain(getattr(self, name)) for name in _names(type(self))}


def typed(event: Event) -> TypedEvent:
    """The typed event of a validated Event (InvalidEvent for a type no service consumes)."""
    try:
        kind = TYPED[event.type]
    except KeyError:
        raise InvalidEvent({"type": [f"{event.type} has no typed event"]}) from None
    return kind.of(event)


# Asked for every event a handler takes (a rebuild builds a million): worked out once per type.
@functools.cache
def _data_fields(cls: type[TypedEvent]) -> tuple[dataclasses.Field, ...]:
    return tuple(f for f in dataclasses.fields(cls) if not f.kw_only)


@functools.cache
def _names(cls: type[TypedEvent]) -> tuple[str, ...]:
    return tuple(f.name for f in _data_fields(cls))


@functools.cache
def _required(cls: type[TypedEvent]) -> tuple[str, ...]:
    return tuple(f.name for f in _data_fields(cls)
                 if f.default is dataclasses.MISSING
                 and f.default_factory is dataclasses.MISSING)


@dataclass(frozen=True)
class _Shape:
    names: frozenset[str]
    required: frozenset[str]
    # Every data field that has a default, with it; the envelope's facts are set apart.
    defaults: dict[str, Any]


@functools.cache
def _shape(cls: type[TypedEvent]) -> _Shape:
    if hasattr(cls, "__post_init__"):  # ``_from_valid`` builds without calling __init__
        raise TypeError(f"{cls.__name__}: a typed event has no __post_init__")
    if any(f.default_factory is not dataclasses.MISSING for f in _data_fields(cls)):
        # ``defaults`` holds values, not factories: a fact made by a factory would be missing
        raise TypeError(f"{cls.__name__}: a typed event's defaults are values, not factories")
    return _Shape(names=frozenset(_names(cls)), required=frozenset(_required(cls)),
                  defaults={f.name: f.default for f in _data_fields(cls)
                            if f.default is not dataclasses.MISSING})


def _frozen(values: list) -> tuple:
    return tuple(_frozen(v) if v.__class__ is list else v for v in values)


def _plain(value: Any) -> Any:
    return [_plain(v) for v in value] if isinstance(value, tuple) else value


# --- from intake ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationReceived(TypedEvent):
    """An applicant sent the form (intake): the reference and every field of the form."""

    type: ClassVar[str] = "application.received"
    reference: str
    language: str
    submitted_at: str
    government_name: str
    country: str
    jurisdiction_type: str
    population: int
    authority_name: str
    authority_title: str
    contact_name: str
    contact_position: str
    contact_email: str
    themes: tuple[str, ...]
    commitment: str
    consent: bool
    website: str | None = None
    contact_phone: str | None = None
    frameworks: str | None = None
    listing_consent: bool = False
    page_url: str | None = None


@dataclass(frozen=True)
class ApplicationInfoProvided(TypedEvent):
    """The applicant answered an information request from their page (intake)."""

    type: ClassVar[str] = "application.info_provided"
    reference: str
    message: str
    attachments: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class ApplicationWithdrawalRequested(TypedEvent):
    """The applicant withdrew from their page (intake)."""

    type: ClassVar[str] = "application.withdrawal_requested"
    reference: str
    reason: str | None = None


@dataclass(frozen=True)
class ApplicationLinkRequested(TypedEvent):
    """"Lost your link?": the reference and contact address matched; mail a fresh link."""

    type: ClassVar[str] = "application.link_requested"
    reference: str
    page_url: str


# --- the registry's review of an application -----------------------------------------------------


@dataclass(frozen=True)
class ApplicationWaitlisted(TypedEvent):
    """No wave is open: the application is kept for the next one."""

    type: ClassVar[str] = "application.waitlisted"
    application_id: int
    reference: str
    possible_duplicates: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class ApplicationUnderReview(TypedEvent):
    type: ClassVar[str] = "application.under_review"
    application_id: int
    reference: str
    wave: int
    possible_duplicates: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class ApplicationInfoRequested(TypedEvent):
    type: ClassVar[str] = "application.info_requested"
    application_id: int
    reference: str
    message: str


@dataclass(frozen=True)
class ApplicationAccepted(TypedEvent):
    type: ClassVar[str] = "application.accepted"
    application_id: int
    reference: str
    member_id: int
    wave: int


@dataclass(frozen=True)
class ApplicationDeclined(TypedEvent):
    type: ClassVar[str] = "application.declined"
    application_id: int
    reference: str
    reason: str


@dataclass(frozen=True)
class ApplicationWithdrawn(TypedEvent):
    type: ClassVar[str] = "application.withdrawn"
    application_id: int
    reference: str
    reason: str | None = None


@dataclass(frozen=True)
class ApplicationErased(TypedEvent):
    """An applicant who never became a member erased: every service forgets the application."""

    type: ClassVar[str] = "application.erased"
    application_id: int
    reference: str


# Every step of the registry's review that carries the application's id and reference.
ApplicationStep = (ApplicationWaitlisted | ApplicationUnderReview | ApplicationInfoRequested
                   | ApplicationAccepted | ApplicationDeclined | ApplicationWithdrawn)
APPLICATION_STEPS: tuple[type[TypedEvent], ...] = (
    ApplicationWaitlisted, ApplicationUnderReview, ApplicationInfoRequested,
    ApplicationAccepted, ApplicationDeclined, ApplicationWithdrawn)


# --- members -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberJoined(TypedEvent):
    """A government became a member: the contact and form facts notify and reports need."""

    type: ClassVar[str] = "member.joined"
    member_id: int
    wave: int
    government_name: str
    country: str
    region: str
    application_id: int | None = None
    reference: str | None = None
    jurisdiction_type: str | None = None
    population: int | None = None
    themes: tuple[str, ...] = ()
    joined_at: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    language: str | None = None
    website: str | None = None
    listing_consent: bool = False
    # Brought in by ``hrc members import`` (a member from before the platform): no welcome mail.
    imported: bool = False


@dataclass(frozen=True)
class MemberListingChanged(TypedEvent):
    """The member's consent to the public directory, given or withdrawn by staff."""

    type: ClassVar[str] = "member.listing_changed"
    member_id: int
    listing_consent: bool


@dataclass(frozen=True)
class MemberWithdrawn(TypedEvent):
    type: ClassVar[str] = "member.withdrawn"
    member_id: int
    reason: str | None = None


@dataclass(frozen=True)
class MemberErased(TypedEvent):
    """A member's contact person erased; ``references`` are the applications they filed."""

    type: ClassVar[str] = "member.erased"
    member_id: int
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class MemberContactChanged(TypedEvent):
    """A new contact person for a member (after elections, say): the address mail goes to."""

    type: ClassVar[str] = "member.contact_changed"
    member_id: int
    contact_name: str
    contact_email: str
    language: str
    government_name: str | None = None


# --- waves ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaveOpened(TypedEvent):
    """``name`` and ``theme`` in en, fr and es; ``description`` in the languages written."""

    type: ClassVar[str] = "wave.opened"
    number: int
    name: dict[str, str]
    theme: dict[str, str]
    opens_at: str
    closes_at: str | None = None
    description: dict[str, str] | None = None
    # Told again by ``hrc waves announce``: the same wave, no news.
    repeated: bool = False


@dataclass(frozen=True)
class WaveClosed(TypedEvent):
    type: ClassVar[str] = "wave.closed"
    number: int


# --- staff and digests ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffTokenIssued(TypedEvent):
    """A staff token's label and SHA-256 digest (never the token)."""

    type: ClassVar[str] = "staff.token_issued"
    label: str
    digest: str


@dataclass(frozen=True)
class StaffPasswordResetRequested(TypedEvent):
    """A console account's single-use link (30 minutes) to set a new password."""

    type: ClassVar[str] = "staff.password_reset_requested"
    email: str
    language: str
    link: str


@dataclass(frozen=True)
class DigestReady(TypedEvent):
    """A digest composed by reports, for notify to mail: ``period`` is {start, end}."""

    type: ClassVar[str] = "digest.ready"
    digest: str
    period: dict[str, str]
    recipients: tuple[str, ...]
    subject: str
    html: str
    text: str
    attachments: tuple[dict[str, Any], ...] = ()
    language: str = "en"
