"""The registry's rules: how an application is reviewed, how a member joins and leaves, how waves
open and close.

Pure Python: no database, broker or nameko. Every step that changes state returns the events to
emit, as ``(type, data)`` pairs of the catalogue in ``shared/events.py``; the caller writes them to
the outbox in the same transaction as the change.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from unidecode import unidecode

from services.registry.duplicates import PossibleDuplicate
from services.registry.regions import UnknownCountry, region_of
from shared.campaign import LANGUAGES
from shared.clock import aware_utc

Event = tuple[str, dict[str, Any]]
ERASED = "[erased]"


class DomainError(Exception):
    """A request the rules refuse; the message says why, in words staff can act on."""


class IllegalTransition(DomainError):
    """The action is not allowed in the current state."""

    def __init__(self, what: str, action: str, state: str, allowed: Iterable[str]):
        allowed_states = ", ".join(sorted(allowed))
        super().__init__(
            f"cannot {action.replace('_', ' ')} {what}: it is {state}"
            f" ({action.replace('_', ' ')} is allowed only when {allowed_states})"
        )
        self.action = action
        self.state = state


class InvalidRequest(DomainError):
    """The request is malformed: a wave with no French name, a country that does not exist."""


class WaveConflict(DomainError):
    """The waves do not allow this (another wave is open, the number is taken)."""


# --- applications -----------------------------------------------------------------------------

class ApplicationStatus(StrEnum):
    RECEIVED = "received"
    WAITLISTED = "waitlisted"
    UNDER_REVIEW = "under_review"
    INFO_REQUESTED = "info_requested"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


OPEN_STATUSES = frozenset(
    {
        ApplicationStatus.RECEIVED,
        ApplicationStatus.WAITLISTED,
        ApplicationStatus.UNDER_REVIEW,
        ApplicationStatus.INFO_REQUESTED,
    }
)

# action -> (states it may start from, state it leads to)
_APPLICATION_STEPS: dict[str, tuple[frozenset[ApplicationStatus], ApplicationStatus]] = {
    "waitlist": (frozenset({ApplicationStatus.RECEIVED}), ApplicationStatus.WAITLISTED),
    "review": (
        frozenset({ApplicationStatus.RECEIVED, ApplicationStatus.WAITLISTED}),
        ApplicationStatus.UNDER_REVIEW,
    ),
    "resume_review": (
        frozenset({ApplicationStatus.INFO_REQUESTED}), ApplicationStatus.UNDER_REVIEW
    ),
    "request_info": (frozenset({ApplicationStatus.UNDER_REVIEW}), ApplicationStatus.INFO_REQUESTED),
    "accept": (frozenset({ApplicationStatus.UNDER_REVIEW}), ApplicationStatus.ACCEPTED),
    "decline": (frozenset({ApplicationStatus.UNDER_REVIEW}), ApplicationStatus.DECLINED),
    "withdraw": (OPEN_STATUSES, ApplicationStatus.WITHDRAWN),
}

# The form fields kept from application.received (shared/events.py ApplicationReceived).
FORM_FIELDS = (
    "government_name",
    "country",
    "jurisdiction_type",
    "population",
    "website",
    "authority_name",
    "authority_title",
    "contact_name",
    "contact_position",
    "contact_email",
    "contact_phone",
    "language",
    "themes",
    "commitment",
    "frameworks",
    "listing_consent",
)
# What erasure removes: everything that names or reaches a person, and free text that may.
PERSONAL_FIELDS = (
    "authority_name",
    "contact_name",
    "contact_position",
    "contact_email",
    "contact_phone",
    "commitment",
    "frameworks",
)


@dataclass
class Application:
    reference: str
    government_name: str
    country: str
    region: str
    jurisdiction_type: str
    population: int
    authority_name: str
    authority_title: str
    contact_name: str
    contact_position: str
    contact_email: str
    language: str
    themes: list[str]
    commitment: str
    submitted_at: datetime
    website: str | None = None
    contact_phone: str | None = None
    frameworks: str | None = None
    listing_consent: bool = False
    id: int | None = None
    status: ApplicationStatus = ApplicationStatus.RECEIVED
    wave: int | None = None
    member_id: int | None = None
    possible_duplicates: list[dict[str, Any]] = field(default_factory=list)
    info_request: str | None = None
    decision_reason: str | None = None
    erased: bool = False
    # Brought in by ``hrc members import``: a member from before the platform, not an applicant.
    imported: bool = False

    @classmethod
    def receive(cls, data: Mapping[str, Any]) -> Application:
        """An application from the data of an application.received event."""
        try:
            region = region_of(data["country"])
        except UnknownCountry as exc:
            raise InvalidRequest(str(exc)) from None
        return cls(
            reference=data["reference"],
            region=region,
            submitted_at=_parse_time(data["submitted_at"]),
            **{name: data.get(name) for name in FORM_FIELDS if name != "country"},
            country=data["country"].upper(),
        )

    @classmethod
    def of_imported_member(
        cls, reference: str, facts: Mapping[str, Any], wave: Wave, joined_at: datetime
    ) -> Application:
        """The file of a member from before the platform: accepted in its wave, nothing pending.

        The CSV has less than the form (no population, themes or commitment): what it lacks
        stays empty rather than invented.
        """
        return cls(
            reference=reference,
            government_name=facts["government_name"],
            country=facts["country"],
            region=facts["region"],
            jurisdiction_type=facts["jurisdiction_type"],
            population=None,
            website=facts.get("website"),
            listing_consent=bool(facts.get("listing_consent")),
            authority_name=facts.get("authority_name"),
            authority_title=facts.get("authority_title"),
            contact_name=facts.get("contact_name"),
            contact_position=None,
            contact_email=facts.get("contact_email"),
            language=facts.get("language") or "en",
            themes=[],
            commitment=None,
            submitted_at=joined_at,
            status=ApplicationStatus.ACCEPTED,
            wave=wave.number,
            imported=True,
        )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def triage(
        self, open_wave: Wave | None, duplicates: Iterable[PossibleDuplicate] = ()
    ) -> list[Event]:
        """Put a new application under review in the open wave, or on the waitlist if none is."""
        self.sort(open_wave, duplicates)
        return self.filed()

    def sort(self, open_wave: Wave | None, duplicates: Iterable[PossibleDuplicate] = ()) -> None:
        """``triage`` before the application has its id: where it goes, not yet the event."""
        self.possible_duplicates = [d.as_event_data() for d in duplicates]
        if open_wave is None:
            self._step("waitlist")
        else:
            self._review_in(open_wave)

    def filed(self) -> list[Event]:
        """The event of a triage (``sort``): waitlisted, or under review in its wave."""
        if self.status is ApplicationStatus.WAITLISTED:
            return [
                (
                    "application.waitlisted",
                    {**self._ids(), "possible_duplicates": self.possible_duplicates},
                )
            ]
        return [self._under_review_event()]

    def review(self, wave: Wave) -> list[Event]:
        """Start the review in the open wave."""
        self._review_in(wave)
        return [self._under_review_event()]

    def _review_in(self, wave: Wave) -> None:
        self.check_allowed("review")
        if not wave.is_open:
            raise WaveConflict(
                f"cannot review application {self.reference}: wave {wave.number} is not open"
            )
        self._step("review")
        self.wave = wave.number

    def resume_review(self) -> list[Event]:
        """Back under review once the applicant has sent the information asked for."""
        self._step("resume_review")
        self.info_request = None
        return [self._under_review_event()]

    def request_info(self, message: str) -> list[Event]:
        message = _required_text(message, "message")
        self._step("request_info")
        self.info_request = message
        return [("application.info_requested", {**self._ids(), "message": message})]

    def accept(self, member: Member) -> list[Event]:
        """Accept into the member's wave; ``member`` comes from ``Member.admit`` (with its id)."""
        self._step("accept")
        self.member_id = member.id
        self.wave = member.joined_wave
        return [
            (
                "application.accepted",
                {**self._ids(), "member_id": member.id, "wave": member.joined_wave},
            ),
            ("member.joined", member.joined_event_data()),
        ]

    def decline(self, reason: str) -> list[Event]:
        reason = _required_text(reason, "reason")
        self._step("decline")
        self.decision_reason = reason
        return [("application.declined", {**self._ids(), "reason": reason})]

    def withdraw(self, reason: str | None = None) -> list[Event]:
        self._step("withdraw")
        self.decision_reason = reason
        return [("application.withdrawn", {**self._ids(), "reason": reason})]

    def erase_applicant(self) -> list[Event]:
        """Erase an applicant who never became a member; a member's erasure is Member.erase."""
        if self.member_id is not None:
            raise IllegalTransition(
                f"application {self.reference}", "erase", "accepted",
                ["not a member (a member's contact is erased on the member)"])
        if self.is_open:
            raise IllegalTransition(
                f"application {self.reference}", "erase", self.status.value,
                ["decided or withdrawn (withdraw it first)"])
        if self.erased:
            raise IllegalTransition(f"application {self.reference}", "erase", "erased",
                                    ["not yet erased"])
        self.erase()
        return [("application.erased", {**self._ids()})]

    def erase(self) -> None:
        """Remove the personal data; what the government is and what was decided stays."""
        for name in PERSONAL_FIELDS:
            setattr(self, name, None if name in ("contact_phone", "frameworks") else ERASED)
        self.info_request = None
        self.erased = True

    def state(self) -> dict[str, Any]:
        """What an audit entry keeps: the place in the review, nothing personal."""
        return {
            "status": self.status.value,
            "wave": self.wave,
            "member_id": self.member_id,
            "info_request": self.info_request,
            "decision_reason": self.decision_reason,
            "erased": self.erased,
        }

    def check_allowed(self, action: str) -> None:
        """Raise IllegalTransition unless ``action`` is allowed in the current status."""
        allowed, _ = _APPLICATION_STEPS[action]
        if self.status not in allowed:
            raise IllegalTransition(
                f"application {self.reference}", action, self.status.value, allowed
            )

    def _step(self, action: str) -> None:
        self.check_allowed(action)
        self.status = _APPLICATION_STEPS[action][1]

    def _under_review_event(self) -> Event:
        return (
            "application.under_review",
            {**self._ids(), "wave": self.wave, "possible_duplicates": self.possible_duplicates},
        )

    def _ids(self) -> dict[str, Any]:
        if self.id is None:
            raise ValueError("an application needs its id before it emits events")
        return {"application_id": self.id, "reference": self.reference}


def check_acceptance_wave(application: Application, wave: Wave) -> None:
    """An application joins the open wave, or the wave it was reviewed in (if decided late)."""
    if not (wave.is_open or wave.number == application.wave):
        raise WaveConflict(
            f"cannot accept application {application.reference} into wave {wave.number}:"
            " it is neither open nor the wave the application was reviewed in"
        )


# --- members ----------------------------------------------------------------------------------

class MemberStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    ERASED = "erased"


@dataclass
class Member:
    application_id: int
    reference: str
    government_name: str
    country: str
    region: str
    jurisdiction_type: str
    population: int | None
    themes: list[str]
    language: str
    contact_name: str | None
    contact_email: str | None
    joined_wave: int
    joined_at: datetime
    waves: list[int] = field(default_factory=list)
    id: int | None = None
    status: MemberStatus = MemberStatus.ACTIVE
    withdrawn_at: datetime | None = None
    withdrawal_reason: str | None = None
    website: str | None = None
    # The government may be listed in the public directory (the form's listing_consent).
    listing_consent: bool = False
    imported: bool = False
    # When the contact person was last erased (the member itself stays).
    erased_at: datetime | None = None

    @property
    def key(self) -> str:
        return government_key(self.government_name, self.country)

    @classmethod
    def admit(cls, application: Application, wave: Wave, now: datetime) -> Member:
        """The member an accepted application becomes (the caller stores it, then accepts)."""
        application.check_allowed("accept")
        check_acceptance_wave(application, wave)
        if application.id is None:
            raise ValueError("an application needs its id before it is accepted")
        return cls(
            application_id=application.id,
            reference=application.reference,
            government_name=application.government_name,
            country=application.country,
            region=application.region,
            jurisdiction_type=application.jurisdiction_type,
            population=application.population,
            themes=list(application.themes),
            language=application.language,
            contact_name=application.contact_name,
            contact_email=application.contact_email,
            joined_wave=wave.number,
            joined_at=now,
            waves=[wave.number],
            website=application.website,
            listing_consent=bool(application.listing_consent),
        )

    @classmethod
    def bring_in(
        cls, application: Application, wave: Wave, joined_at: datetime
    ) -> Member:
        """A member from before the platform (``Application.of_imported_member``, with its id).

        Its ``member.joined`` says ``imported``: it counts like any member, and no welcome mail
        goes out (that one follows ``application.accepted``, which an import never emits).
        """
        if application.id is None:
            raise ValueError("an application needs its id before its member is brought in")
        if wave.status is WaveStatus.PLANNED:
            raise WaveConflict(f"cannot bring a member into wave {wave.number}: it has not opened")
        return cls(
            application_id=application.id,
            reference=application.reference,
            government_name=application.government_name,
            country=application.country,
            region=application.region,
            jurisdiction_type=application.jurisdiction_type,
            population=None,
            themes=[],
            language=application.language,
            contact_name=application.contact_name,
            contact_email=application.contact_email,
            joined_wave=wave.number,
            joined_at=aware_utc(joined_at),
            waves=[wave.number],
            website=application.website,
            listing_consent=bool(application.listing_consent),
            imported=True,
        )

    def take_part_in(self, wave: Wave) -> None:
        if self.status is MemberStatus.ACTIVE and wave.number not in self.waves:
            self.waves = sorted([*self.waves, wave.number])

    def withdraw(self, reason: str | None, now: datetime) -> list[Event]:
        if self.status is not MemberStatus.ACTIVE:
            raise IllegalTransition(
                f"member {self.id}", "withdraw", self.status.value, [MemberStatus.ACTIVE.value]
            )
        self.status = MemberStatus.WITHDRAWN
        self.withdrawn_at = now
        self.withdrawal_reason = reason
        return [("member.withdrawn", {"member_id": self.id, "reason": reason})]

    def change_listing(self, listing_consent: bool) -> list[Event]:
        """Give or withdraw consent to the public directory; no event if nothing changes."""
        allowed = (MemberStatus.ACTIVE, MemberStatus.WITHDRAWN)
        if self.status not in allowed:
            raise IllegalTransition(f"member {self.id}", "change_listing", self.status.value,
                                    [status.value for status in allowed])
        if listing_consent == self.listing_consent:
            return []
        self.listing_consent = listing_consent
        return [("member.listing_changed",
                 {"member_id": self.id, "listing_consent": listing_consent})]

    def erase(self, applications: Iterable[Application], now: datetime) -> list[Event]:
        """Erase the contact person: the member stays, in its waves and in every count.

        A government is an institution, not a person: erasure removes who its contact is (name,
        address, and the personal facts of the applications it filed) and tells every service
        to forget that person; the membership, its wave and status are kept.
        """
        applications = list(applications)
        if self.contact_email is None and self.contact_name is None and all(
            a.erased for a in applications
        ):
            raise IllegalTransition(
                f"member {self.id}", "erase", "erased",
                ["a contact is set (replace_contact) or an application still holds one"],
            )
        references = sorted({self.reference, *(a.reference for a in applications)})
        for application in applications:
            application.erase()
        self.contact_name = None
        self.contact_email = None
        self.withdrawal_reason = None
        self.erased_at = now
        return [("member.erased", {"member_id": self.id, "references": references})]

    def replace_contact(self, name: str, email: str, language: str | None) -> list[Event]:
        """A new contact person (after elections, say); the previous one is no longer written to.

        To erase the previous person too, erase first, then set the new contact.
        """
        name = _required_text(name, "contact name")
        email = _required_text(email, "contact e-mail")
        language = language or self.language
        if language not in LANGUAGES:
            raise InvalidRequest(f"the language is one of {', '.join(LANGUAGES)}")
        self.contact_name, self.contact_email, self.language = name, email, language
        return [("member.contact_changed", {
            "member_id": self.id, "contact_name": name, "contact_email": email,
            "language": language, "government_name": self.government_name,
        })]

    def state(self) -> dict[str, Any]:
        return {"status": self.status.value, "waves": list(self.waves)}

    def joined_event_data(self) -> dict[str, Any]:
        return {
            "member_id": self.id,
            "wave": self.joined_wave,
            "government_name": self.government_name,
            "country": self.country,
            "region": self.region,
            "application_id": self.application_id,
            "reference": self.reference,
            "jurisdiction_type": self.jurisdiction_type,
            "population": self.population,
            "themes": list(self.themes),
            "joined_at": self.joined_at.isoformat(),
            "contact_name": self.contact_name,
            "contact_email": self.contact_email,
            "language": self.language,
            "website": self.website,
            "listing_consent": self.listing_consent,
            "imported": self.imported,
        }


# --- waves ------------------------------------------------------------------------------------

class WaveStatus(StrEnum):
    PLANNED = "planned"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class Announcement:
    """An event that tells again what is already so, dated when it became so."""

    type: str
    data: dict[str, Any]
    occurred_at: datetime


@dataclass
class Wave:
    number: int
    name: dict[str, str]
    theme: dict[str, str]
    opens_at: datetime
    closes_at: datetime | None = None
    status: WaveStatus = WaveStatus.PLANNED
    # What the campaign says about the wave, in the languages it was written in (none, some or
    # all): the public form shows it under the wave's name.
    description: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        number: int,
        name: Mapping[str, str],
        theme: Mapping[str, str],
        opens_at: datetime,
        closes_at: datetime | None,
        existing: Iterable[Wave] = (),
        description: Mapping[str, str | None] | None = None,
    ) -> Wave:
        if number < 1:
            raise InvalidRequest("a wave number is a positive integer")
        if any(w.number == number for w in existing):
            raise WaveConflict(f"wave {number} already exists")
        if closes_at is not None and closes_at <= opens_at:
            raise InvalidRequest("a wave closes after it opens")
        return cls(
            number=number,
            name=_multilingual(name, "name"),
            theme=_multilingual(theme, "theme"),
            opens_at=aware_utc(opens_at),
            closes_at=aware_utc(closes_at) if closes_at else None,
            description=_some_languages(description or {}, "description"),
        )

    @property
    def is_open(self) -> bool:
        return self.status is WaveStatus.OPEN

    def open(
        self,
        waves: Iterable[Wave],
        waitlist: Iterable[Application] = (),
        members: Iterable[Member] = (),
    ) -> list[Event]:
        """Open the wave: the waitlist goes under review in it, active members take part in it."""
        if self.status is not WaveStatus.PLANNED:
            raise IllegalTransition(
                f"wave {self.number}", "open", self.status.value, [WaveStatus.PLANNED.value]
            )
        already_open = [w.number for w in waves if w.is_open and w.number != self.number]
        if already_open:
            raise WaveConflict(
                f"cannot open wave {self.number}: wave {already_open[0]} is open;"
                " close it first (at most one wave is open)"
            )
        self.status = WaveStatus.OPEN
        events: list[Event] = [("wave.opened", self.opened_event_data())]
        for application in waitlist:
            events += application.review(self)
        for member in members:
            member.take_part_in(self)
        return events

    def close(self) -> list[Event]:
        if self.status is not WaveStatus.OPEN:
            raise IllegalTransition(
                f"wave {self.number}", "close", self.status.value, [WaveStatus.OPEN.value]
            )
        self.status = WaveStatus.CLOSED
        return [("wave.closed", {"number": self.number})]

    def state(self) -> dict[str, Any]:
        return {"status": self.status.value}

    def announcement(self, opened_at: datetime | None,
                     closed_at: datetime | None) -> Announcement | None:
        """The wave's present state told again (``hrc waves announce``), for a service that
        missed it (it subscribed later, its database was rebuilt); None for a planned wave.

        A repeat is dated when the wave really opened or closed (``opened_at``/``closed_at``,
        from the audit log; else the planned dates), not when it is sent: consumers keep the
        latest opening and the first closing, so a repeat dated today would make a closed wave
        look reopened. ``repeated`` tells notify that this is no news to announce to members.
        """
        if self.status is WaveStatus.OPEN:
            return Announcement("wave.opened", {**self.opened_event_data(), "repeated": True},
                                aware_utc(opened_at or self.opens_at))
        if self.status is WaveStatus.CLOSED:
            return Announcement("wave.closed", {"number": self.number},
                                aware_utc(closed_at or self.closes_at or self.opens_at))
        return None

    def opened_event_data(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "name": dict(self.name),
            "theme": dict(self.theme),
            "opens_at": self.opens_at.isoformat(),
            "closes_at": self.closes_at.isoformat() if self.closes_at else None,
            "description": dict(self.description) or None,
        }


# --- small rules shared by the aggregates -------------------------------------------------------

def government_key(government_name: str, country: str) -> str:
    """What makes two members the same government (an import is idempotent on it): the name
    without accents, case or punctuation, and the country. "Ville de Grigny" and "VILLE DE
    GRIGNY" are one; the generic words stay ("Mexico City" and "Mexico" are two governments)."""
    name = " ".join(_NON_WORD.sub(" ", unidecode(government_name).lower()).split())
    return f"{country.upper()}:{name}"


_NON_WORD = re.compile(r"[^a-z0-9]+")


def _multilingual(texts: Mapping[str, str], what: str) -> dict[str, str]:
    missing = [lang for lang in LANGUAGES if not (texts.get(lang) or "").strip()]
    if missing:
        raise InvalidRequest(f"the wave's {what} is missing in {', '.join(missing)}")
    return {lang: texts[lang].strip() for lang in LANGUAGES}


WAVE_DESCRIPTION_MAX = 2000


def _some_languages(texts: Mapping[str, str | None], what: str) -> dict[str, str]:
    """A text in the languages it was given in; a blank one is not given."""
    given = {lang: (texts.get(lang) or "").strip() for lang in LANGUAGES}
    too_long = [lang for lang, text in given.items() if len(text) > WAVE_DESCRIPTION_MAX]
    if too_long:
        raise InvalidRequest(f"the wave's {what} in {', '.join(too_long)} is longer than "
                             f"{WAVE_DESCRIPTION_MAX} characters")
    return {lang: text for lang, text in given.items() if text}


def _required_text(text: str | None, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidRequest(f"a {what} is required")
    if len(text) > 5000:
        raise InvalidRequest(f"the {what} is longer than 5000 characters")
    return text


def _parse_time(value: str | datetime) -> datetime:
    if isinstance(value, datetime):
        return aware_utc(value)
    try:
        return aware_utc(datetime.fromisoformat(value))
    except ValueError:
        raise InvalidRequest(f"{value!r} is not an ISO 8601 time") from None
