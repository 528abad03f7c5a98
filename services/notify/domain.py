"""Which mails each event produces, for whom, in which language.

Notify keeps its own projection of the people it writes to (the ``Directory``), learned from
events: ``application.received`` carries the applicant's contact, ``application.accepted`` links
a member to the application, ``member.joined`` carries the member's contact. One function per
event type (``application_received``, ``member_joined``...) takes its typed event, updates that
projection and returns the notifications the event calls for; notify's handlers (handlers.py)
call them. Pure Python: the directory is a port that the database (or a test's fake) implements.

Events reach notify through one queue per type, so their order is not the registry's. Each
application step is applied only from the states the registry's own rules allow it from
(``_AFTER``): a step that arrives early raises ``NotYet`` and waits for the one before it; a
step that arrives after a final state (accepted, declined, withdrawn) happened before it, and
its mail is obsolete. An event about someone erased is dropped: notify keeps only that the
reference or member was erased, so nothing personal comes back.
"""
from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from shared.clock import parse_instant
from shared.erasure import ERASED as ERASED_VALUE
from shared.events import (
    LANGUAGES,
    ApplicationAccepted,
    ApplicationDeclined,
    ApplicationErased,
    ApplicationInfoProvided,
    ApplicationInfoRequested,
    ApplicationLinkRequested,
    ApplicationReceived,
    ApplicationStep,
    ApplicationUnderReview,
    ApplicationWaitlisted,
    ApplicationWithdrawn,
    DigestReady,
    MemberContactChanged,
    MemberErased,
    MemberJoined,
    MemberWithdrawn,
    StaffPasswordResetRequested,
    TypedEvent,
    WaveClosed,
    WaveOpened,
)

log = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "en"
ERASED = "erased"

# Templates, one per kind of mail; each exists as subject, text and HTML (templates/mail/).
ACKNOWLEDGEMENT = "acknowledgement"
NEW_APPLICATION = "new_application"
INFO_REQUESTED = "info_requested"
WELCOME = "welcome"
DECLINED = "declined"
WAITLISTED = "waitlisted"
WAVE_OPENED = "wave_opened"
WITHDRAWAL = "withdrawal"
ERASURE = "erasure"
CONTACT_CHANGED = "contact_changed"
DIGEST = "digest"
DELIVERY_FAILED = "delivery_failed"
PASSWORD_RESET = "password_reset"
INFO_PROVIDED = "info_provided"
PAGE_LINK = "page_link"
TEMPLATES = (
    ACKNOWLEDGEMENT,
    NEW_APPLICATION,
    INFO_REQUESTED,
    WELCOME,
    DECLINED,
    WAITLISTED,
    WAVE_OPENED,
    WITHDRAWAL,
    ERASURE,
    CONTACT_CHANGED,
    DIGEST,
    DELIVERY_FAILED,
    PASSWORD_RESET,
    INFO_PROVIDED,
    PAGE_LINK,
)
# What the staff alert repeats from the form: enough to judge, the rest is in the registry.
ALERT_FACTS = (
    "government_name", "country", "jurisdiction_type", "population", "website",
    "authority_name", "authority_title", "contact_name", "contact_position", "contact_email",
    "themes", "submitted_at",
)
# Announcements go to many at once, carry a one-click List-Unsubscribe, and are not sent to an
# address that used it; every other mail (acknowledgements, decisions, staff alerts) still is.
ANNOUNCEMENTS = frozenset({WAVE_OPENED})


class DomainError(Exception):
    """A rule of notify was broken."""


class NotYet(DomainError):
    """The event depends on one notify has not handled yet: it waits for it (the inbox retries
    it without counting an attempt) rather than being applied out of order."""


class RecipientNotYetKnown(NotYet):
    """An event names an application or member whose contact notify has not learned yet."""


@dataclass(frozen=True)
class Contact:
    email: str
    name: str
    language: str
    government_name: str

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            object.__setattr__(self, "language", DEFAULT_LANGUAGE)


@dataclass(frozen=True)
class Wave:
    number: int
    name: Mapping[str, str]
    theme: Mapping[str, str]
    opens_at: str | None = None
    closes_at: str | None = None
    # The registry's description, in the languages the campaign wrote it in (wave.opened).
    description: Mapping[str, str] | None = None
    # When the registry opened it (its wave.opened event), and closed it: who was a member then
    # is owed the announcement, even if notify hears of them after the opening.
    opened_at: str | None = None
    closed_at: str | None = None

    def name_in(self, language: str) -> str:
        return self.name.get(language) or self.name.get(DEFAULT_LANGUAGE, "")

    def description_in(self, language: str) -> list[str]:
        """The description in the reader's language, as paragraphs; none in another one."""
        text = (self.description or {}).get(language) or ""
        return [" ".join(part.split()) for part in re.split(r"\n\s*\n", text) if part.strip()]

    def theme_in(self, language: str) -> str:
        return self.theme.get(language) or self.theme.get(DEFAULT_LANGUAGE, "")


@dataclass(frozen=True)
class Secretariat:
    """Where staff mail goes, and in which language."""

    emails: tuple[str, ...]
    language: str = DEFAULT_LANGUAGE

    def contacts(self) -> list[Contact]:
        return [Contact(e, "", self.language, "") for e in self.emails]


@dataclass(frozen=True)
class Notification:
    """One mail to one recipient for one event; (event_id, recipient, template) is its key."""

    event_id: str
    template: str
    to: Contact
    context: Mapping[str, Any] = field(default_factory=dict)

    @property
    def recipient(self) -> str:
        return self.to.email

    @property
    def language(self) -> str:
        return self.to.language

    @property
    def announcement(self) -> bool:
        return self.template in ANNOUNCEMENTS

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.event_id, self.recipient, self.template)


class Directory(Protocol):
    """Notify's projection of applicants, members and waves."""

    def add_applicant(self, reference: str, contact: Contact, facts: Mapping[str, Any]) -> None: ...

    def applicant(self, reference: str) -> Contact | None: ...

    def applicant_facts(self, reference: str) -> Mapping[str, Any]: ...

    def note_facts(self, reference: str, facts: Mapping[str, Any]) -> None:
        """Add to what is known of an application (its registry id, its page's address)."""

    def application_status(self, reference: str) -> str | None: ...

    def set_application_status(self, reference: str, status: str) -> None: ...

    def add_member(
        self, member_id: int, contact: Contact | None, reference: str | None
    ) -> None: ...

    def member(self, member_id: int) -> Contact | None: ...

    def member_status(self, member_id: int) -> str | None: ...

    def member_reference(self, member_id: int) -> str | None: ...

    def set_member_status(self, member_id: int, status: str) -> None: ...

    def active_members(self) -> Iterable[Contact]: ...

    def waitlisted_applicants(self) -> Iterable[Contact]: ...

    def unsubscribed(self) -> Collection[str]:
        """The addresses (lower-cased) that asked for no more announcements."""

    def add_wave(self, wave: Wave) -> None:
        """Keep what is known of a wave; a closing already known stays (events may cross)."""

    def close_wave(self, number: int, closed_at: str) -> None: ...

    def wave(self, number: int) -> Wave | None: ...

    def open_wave(self) -> Wave | None:
        """The wave opened and not closed, with the highest number, if any."""

    def forget_member(self, member_id: int | None, references: Iterable[str]) -> None:
        """Remove the person's data; the member (None: an applicant only) and references stay
        known as ``ERASED`` until a new contact is set."""


def delivery_failure_alert(
    failed: Notification, error: str, secretariat: Secretariat
) -> list[Notification]:
    """Staff learn that a mail could not be delivered; never about their own alerts (no loop)."""
    event_id, recipient, template = failed.key
    if template == DELIVERY_FAILED:
        return []
    context = {
        "failed_event_id": event_id,
        "failed_recipient": recipient,
        "failed_template": template,
        "error": error,
    }
    # One alert per failed mail: its key is derived from the failed mail's key.
    alert_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"notify:{event_id}/{template}/{recipient}"))
    return [Notification(alert_id, DELIVERY_FAILED, c, context) for c in secretariat.contacts()]


# --- what each event calls for: one function per event type (the inbox's handlers call them) ---


def application_received(received: ApplicationReceived, directory: Directory,
                         _: Secretariat) -> list[Notification]:
    if directory.application_status(received.reference) == ERASED:
        return _dropped(received, f"application {received.reference} was erased")
    contact = Contact(
        email=received.contact_email,
        name=received.contact_name,
        language=received.language,
        government_name=received.government_name,
    )
    data = received.as_data()
    facts = {key: data.get(key) for key in ALERT_FACTS}
    # The applicant's page (its key included) goes only into mail to the applicant.
    facts[PAGE_URL] = received.page_url
    directory.add_applicant(received.reference, contact, facts)
    # No mail yet: the registry answers every application with waitlisted or under_review, and
    # the applicant's one acknowledgement says which; staff are alerted with the registry's
    # application id and its possible duplicates.
    return []


def application_filed(filed: ApplicationWaitlisted | ApplicationUnderReview,
                      directory: Directory, desk: Secretariat) -> list[Notification]:
    """waitlisted / under_review: the registry has filed (or re-filed) the application."""
    reference = filed.reference
    applicant = _applicant_step(filed, directory)
    if applicant is None:
        return []
    previous = directory.application_status(reference)
    first = previous == "received"
    waitlisted = isinstance(filed, ApplicationWaitlisted)
    wave = None if waitlisted else filed.wave
    directory.note_facts(reference, {"application_id": filed.application_id})
    directory.set_application_status(reference, "waitlisted" if waitlisted else "under_review")
    if _announced(previous, waitlisted, wave, directory):
        return []
    mails = []
    if first:
        alert = {
            "reference": reference,
            "application_id": filed.application_id,
            "facts": _staff_facts(directory.applicant_facts(reference)),
            "possible_duplicates": [dict(d) for d in filed.possible_duplicates],
            "wave": wave,
            "waitlisted": waitlisted,
        }
        mails += [Notification(filed.event_id, NEW_APPLICATION, c, alert)
                  for c in desk.contacts()]
    context = {
        "first": first,
        "reference": reference,
        "government_name": applicant.government_name,
        "wave": wave,
        "page_url": _page_url(directory, reference),
    }
    template = WAITLISTED if waitlisted else ACKNOWLEDGEMENT
    mails.append(Notification(filed.event_id, template, applicant, context))
    return mails


def _announced(previous: str | None, waitlisted: bool, wave: int | None,
               directory: Directory) -> bool:
    """A waitlisted application taken into review because a wave opened: if notify has handled
    that wave.opened, its announcement (sent to the applicant, then still waitlisted) said so,
    and a second mail would repeat it. If the wave.opened comes later, the applicant is no
    longer waitlisted then and this event's mail is the one they get."""
    return (previous == "waitlisted" and not waitlisted and wave is not None
            and directory.wave(wave) is not None)


def info_requested(request: ApplicationInfoRequested, directory: Directory,
                   _: Secretariat) -> list[Notification]:
    applicant = _applicant_step(request, directory)
    if applicant is None:
        return []
    directory.set_application_status(request.reference, "info_requested")
    context = {
        "reference": request.reference,
        "government_name": applicant.government_name,
        "message": request.message,
        "page_url": _page_url(directory, request.reference),
    }
    return [Notification(request.event_id, INFO_REQUESTED, applicant, context)]


def info_provided(answer: ApplicationInfoProvided, directory: Directory,
                  desk: Secretariat) -> list[Notification]:
    """The applicant answered from their page: staff are told once (the log's key), with the
    answer, the attachments to download and where to see the application."""
    applicant = _known_applicant(answer, directory)
    if applicant is None:
        return []
    facts = directory.applicant_facts(answer.reference)
    context = {
        "reference": answer.reference,
        "application_id": facts.get("application_id"),
        "government_name": applicant.government_name,
        "message": answer.message,
        "attachments": [dict(a) for a in answer.attachments],
    }
    return [Notification(answer.event_id, INFO_PROVIDED, c, context) for c in desk.contacts()]


def link_requested(request: ApplicationLinkRequested, directory: Directory,
                   _: Secretariat) -> list[Notification]:
    """"Lost your link?": the new address of the page, to the applicant's known address."""
    applicant = _known_applicant(request, directory)
    if applicant is None:
        return []
    directory.note_facts(request.reference, {PAGE_URL: request.page_url})
    context = {
        "reference": request.reference,
        "government_name": applicant.government_name,
        "page_url": request.page_url,
    }
    return [Notification(request.event_id, PAGE_LINK, applicant, context)]


def accepted(acceptance: ApplicationAccepted, directory: Directory,
             _: Secretariat) -> list[Notification]:
    applicant = _applicant_step(acceptance, directory)
    if applicant is None:
        return []
    directory.set_application_status(acceptance.reference, "accepted")
    directory.add_member(acceptance.member_id, None, acceptance.reference)
    wave = directory.wave(acceptance.wave)
    context = {
        "reference": acceptance.reference,
        "government_name": applicant.government_name,
        "wave": acceptance.wave,
        "wave_name": wave.name_in(applicant.language) if wave else "",
        "wave_theme": wave.theme_in(applicant.language) if wave else "",
    }
    return [Notification(acceptance.event_id, WELCOME, applicant, context)]


def declined(decision: ApplicationDeclined, directory: Directory,
             _: Secretariat) -> list[Notification]:
    applicant = _applicant_step(decision, directory)
    if applicant is None:
        return []
    directory.set_application_status(decision.reference, "declined")
    context = {
        "reference": decision.reference,
        "government_name": applicant.government_name,
        "reason": decision.reason,
    }
    return [Notification(decision.event_id, DECLINED, applicant, context)]


def application_withdrawn(withdrawal: ApplicationWithdrawn, directory: Directory,
                          _: Secretariat) -> list[Notification]:
    applicant = _applicant_step(withdrawal, directory)
    if applicant is None:
        return []
    directory.set_application_status(withdrawal.reference, "withdrawn")
    context = {
        "as_member": False,
        "reference": withdrawal.reference,
        "government_name": applicant.government_name,
        "reason": withdrawal.reason or "",
    }
    return [Notification(withdrawal.event_id, WITHDRAWAL, applicant, context)]


def member_joined(joined: MemberJoined, directory: Directory,
                  _: Secretariat) -> list[Notification]:
    if directory.member_status(joined.member_id) == ERASED:
        return _dropped(joined, f"member {joined.member_id} was erased")
    contact = None
    if joined.contact_email not in (None, "", ERASED_VALUE):
        contact = Contact(
            email=joined.contact_email,
            name=joined.contact_name or "",
            language=joined.language or DEFAULT_LANGUAGE,
            government_name=joined.government_name,
        )
    directory.add_member(joined.member_id, contact, joined.reference)
    directory.set_member_status(joined.member_id, "active")
    # The welcome mail goes out on application.accepted: one mail, not two.
    return _announcement_owed(joined, contact, directory)


def _announcement_owed(joined: MemberJoined, contact: Contact | None,
                       directory: Directory) -> list[Notification]:
    """A member who had joined before the open wave opened is owed its announcement, though
    notify heard of them only after the opening (an import just before a wave opens: the two
    events travel on different queues). Someone who joins later, imported or welcomed into the
    wave, is not. The announcement's key is the wave's, so a member the opening did mail is
    not mailed again."""
    wave = directory.open_wave()
    if contact is None or wave is None or wave.opened_at is None:
        return []
    if joined.wave >= wave.number:
        return []
    at, opened = parse_instant(joined.occurred_at), parse_instant(wave.opened_at)
    if at is None or opened is None or at >= opened:
        return []
    if contact.email.lower() in directory.unsubscribed():
        return []
    return [Notification(announcement_id(wave.number), WAVE_OPENED, contact,
                         _announcement_context("member", contact, wave))]


def member_withdrawn(withdrawal: MemberWithdrawn, directory: Directory,
                     _: Secretariat) -> list[Notification]:
    member_id = withdrawal.member_id
    status = directory.member_status(member_id)
    if status == ERASED:
        return _dropped(withdrawal, f"member {member_id} was erased")
    member = directory.member(member_id)
    if member is None:
        raise RecipientNotYetKnown(f"member {member_id}")
    reference = directory.member_reference(member_id)
    if reference and directory.application_status(reference) != "accepted":
        # The welcome (on application.accepted) goes first.
        raise NotYet(f"application {reference} is not accepted yet")
    directory.set_member_status(member_id, "withdrawn")
    context = {
        "as_member": True,
        "reference": "",
        "government_name": member.government_name,
        "reason": withdrawal.reason or "",
    }
    return [Notification(withdrawal.event_id, WITHDRAWAL, member, context)]


def member_erased(erased: MemberErased, directory: Directory,
                  _: Secretariat) -> list[Notification]:
    member_id = erased.member_id
    references = list(erased.references)
    if directory.member_status(member_id) == ERASED:
        return _dropped(erased, f"member {member_id} was erased already")
    # Never waits: whatever about this person arrives later is dropped. Read the address before
    # forgetting it: the confirmation is the last mail this person gets (if notify knew them).
    person = directory.member(member_id)
    for reference in references:
        person = person or directory.applicant(reference)
    directory.forget_member(member_id, references)
    if person is None:
        return []
    context = {"government_name": person.government_name}
    return [Notification(erased.event_id, ERASURE, person, context)]


def application_erased(erased: ApplicationErased, directory: Directory,
                       _: Secretariat) -> list[Notification]:
    """An applicant who never became a member is erased: confirmed to them, then forgotten."""
    person = directory.applicant(erased.reference)
    directory.forget_member(None, [erased.reference])
    if person is None:
        return []
    return [Notification(erased.event_id, ERASURE, person,
                         {"government_name": person.government_name})]


def member_contact_changed(change: MemberContactChanged, directory: Directory,
                           _: Secretariat) -> list[Notification]:
    """A new contact person: later mail goes to them, and they are told they are the contact."""
    previous = directory.member(change.member_id)
    government = change.government_name or (previous.government_name if previous else "")
    contact = Contact(email=change.contact_email, name=change.contact_name,
                      language=change.language, government_name=government)
    directory.add_member(change.member_id, contact, None)
    if directory.member_status(change.member_id) in (None, ERASED):
        directory.set_member_status(change.member_id, "active")
    return [Notification(change.event_id, CONTACT_CHANGED, contact,
                         {"government_name": government})]


def wave_opened(opened: WaveOpened, directory: Directory,
                _: Secretariat) -> list[Notification]:
    """A wave's announcement, once per wave and person: its mails are keyed by the wave
    (``announcement_id``), not by the event, since the same wave may be told in another event
    (``hrc waves announce`` sends it again with a fresh id, for a service that missed it)."""
    wave = Wave(
        number=opened.number,
        name=dict(opened.name),
        theme=dict(opened.theme),
        opens_at=opened.opens_at,
        closes_at=opened.closes_at,
        description=opened.description,
        opened_at=opened.occurred_at,
    )
    directory.add_wave(wave)
    if opened.repeated:
        # Told again, no news. Had notify missed the opening too (its database rebuilt, and
        # with it the log of who was mailed), a second announcement to every member is worse
        # than none.
        return _dropped(opened, f"wave {wave.number} told again: announced when it opened")
    mails = []
    # An unsubscribed address is skipped as if it had been announced to already.
    seen: set[str] = set(directory.unsubscribed())
    for audience, people in (("member", directory.active_members()),
                             ("waitlisted", directory.waitlisted_applicants())):
        for person in people:
            address = person.email.lower()
            if address in seen:
                continue
            seen.add(address)
            mails.append(Notification(announcement_id(wave.number), WAVE_OPENED, person,
                                      _announcement_context(audience, person, wave)))
    return mails


def _announcement_context(audience: str, person: Contact, wave: Wave) -> dict[str, Any]:
    return {
        "audience": audience,
        "government_name": person.government_name,
        "wave": wave.number,
        "wave_name": wave.name_in(person.language),
        "wave_theme": wave.theme_in(person.language),
        "wave_description": wave.description_in(person.language),
        "opens_at": (wave.opens_at or "")[:10],
        "closes_at": (wave.closes_at or "")[:10],
    }


def wave_closed(closed: WaveClosed, directory: Directory, _: Secretariat) -> list[Notification]:
    directory.close_wave(closed.number, closed.occurred_at)
    return []


def announcement_id(wave: int) -> str:
    """The key of a wave's announcement mails in the log, in place of an event's id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"notify:wave.opened/{wave}"))


def digest_ready(ready: DigestReady, _: Directory, __: Secretariat) -> list[Notification]:
    context = {
        "digest": ready.digest,
        "period": dict(ready.period),
        "subject": ready.subject,
        "html": ready.html,
        "text": ready.text,
        "attachments": [dict(a) for a in ready.attachments],
    }
    language = ready.language or DEFAULT_LANGUAGE
    return [
        Notification(ready.event_id, DIGEST, Contact(address, "", language, ""), context)
        for address in dict.fromkeys(ready.recipients)
    ]


def password_reset(request: StaffPasswordResetRequested, _: Directory,
                   __: Secretariat) -> list[Notification]:
    """A console account's reset link, in that account's language (the console sends it)."""
    person = Contact(request.email, "", request.language, "")
    return [Notification(request.event_id, PASSWORD_RESET, person,
                         {"link": request.link, "minutes": 30})]


# The registry's review, as notify sees it: each step and the states it may follow ("received"
# is notify's own state until the registry has filed the application, waitlisted or under review).
_AFTER = {
    ApplicationWaitlisted: {"received"},
    ApplicationUnderReview: {"received", "waitlisted", "info_requested"},
    ApplicationInfoRequested: {"under_review"},
    ApplicationAccepted: {"under_review"},
    ApplicationDeclined: {"under_review"},
    ApplicationWithdrawn: {"waitlisted", "under_review", "info_requested"},
}
_FINAL = {"accepted", "declined", "withdrawn"}


def _applicant_step(step: ApplicationStep, directory: Directory) -> Contact | None:
    """The applicant an application step is about, if the step applies now; None if it is to be
    dropped (the person erased, or the step overtaken by a final decision); NotYet if it must
    wait for the step before it."""
    reference = step.reference
    status = directory.application_status(reference)
    if status == ERASED:
        _dropped(step, f"application {reference} was erased")
        return None
    applicant = directory.applicant(reference)
    if applicant is None:
        raise RecipientNotYetKnown(f"application {reference}")
    if status in _AFTER[type(step)]:
        return applicant
    if status in _FINAL or (isinstance(step, ApplicationWaitlisted) and status != "received"):
        # Nothing follows a final state, and a waitlisting only ever comes first: this step
        # happened before the one already applied, and its mail would contradict it.
        _dropped(step, f"application {reference} is already {status}")
        return None
    raise NotYet(f"application {reference} is {status}: waiting for the step before "
                 f"{step.type}")


def _dropped(event: TypedEvent, why: str) -> list[Notification]:
    """Nothing to do for this event, ever: said in the log, and the event is done (not parked)."""
    log.info("notify: dropped %s %s: %s", event.type, event.event_id, why)
    return []


PAGE_URL = "page_url"


def _page_url(directory: Directory, reference: str) -> str | None:
    return directory.applicant_facts(reference).get(PAGE_URL)


def _staff_facts(facts: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in facts.items() if key != PAGE_URL}


def _known_applicant(event: ApplicationInfoProvided | ApplicationLinkRequested,
                     directory: Directory) -> Contact | None:
    """The applicant an event from their own page is about; None once they are erased."""
    reference = event.reference
    if directory.application_status(reference) == ERASED:
        _dropped(event, f"application {reference} was erased")
        return None
    applicant = directory.applicant(reference)
    if applicant is None:
        raise RecipientNotYetKnown(f"application {reference}")
    return applicant
