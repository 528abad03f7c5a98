"""What a service holds about one person, for their export (GDPR article 15, subject access).

Each service answers ``GET /api/people?email=`` (staff token) with the rows of its own tables
that name the address, and, through ``events_about``, the events about that person it keeps in
its outbox and inbox: those payloads hold the contact's data too, and reports holds nothing else
about a person. ``hrc members export EMAIL`` gathers every service's answer into one document.

A person is found by address first; the references and member ids of what that finds lead to
the events that name the person only by them (``application.accepted`` carries no address).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import requests
from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from shared.erasure import Person
from shared.http import HttpError
from shared.inbox import InboxRow
from shared.outbox import OutboxRow
from shared.staff_api import StaffApi, StaffApiError

MAX_EMAIL_LENGTH = 320  # RFC 5321's path limit: what the contact columns hold
MAX_EVENTS = 1000


def gather(email: str, apis: Mapping[str, StaffApi], at: datetime,
           staff_accounts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One document of everything the services hold about ``email``, asked of each in turn.

    A service that does not answer is named in ``not_answered`` and the document says it is not
    ``complete``: an export that silently lacks the mails would mislead the person it is for.
    ``staff_accounts``: the console's accounts at that address, when the caller knows them.
    """
    email = email.strip().lower()
    document: dict[str, Any] = {"email": email, "exported_at": at.isoformat(), "complete": True,
                                "services": {}, "not_answered": {}}
    for name, api in apis.items():
        try:
            answer = api.get("/api/people", email=email)
        except (StaffApiError, requests.RequestException) as exc:
            if isinstance(exc, StaffApiError) and exc.status == 422:
                raise  # the address itself is refused: the same answer from every service
            document["not_answered"][name] = str(exc)
            document["complete"] = False
            continue
        document["services"][name] = {k: v for k, v in answer.items()
                                      if k not in ("service", "email")}
    if staff_accounts is not None:
        document["services"]["console"] = {"staff_accounts": [
            account for account in staff_accounts
            if str(account.get("email", "")).lower() == email]}
    return document


def email_asked(args: Mapping[str, str]) -> str:
    """The ``?email=`` of the request, normalised as addresses are compared; 422 if unusable."""
    email = str(args.get("email", "")).strip().lower()
    if not email:
        raise HttpError(422, "invalid_request", {"email": ["required"]})
    if len(email) > MAX_EMAIL_LENGTH or "@" not in email.strip("@") or any(
            c.isspace() or ord(c) < 32 for c in email):
        raise HttpError(422, "invalid_request", {"email": ["not an e-mail address"]})
    return email


def events_about(session: Session, email: str, references: Iterable[str] = (),
                 member_ids: Iterable[int] = ()) -> list[dict[str, Any]]:
    """The outbox and inbox events about the person at ``email``, oldest first."""
    person = Person.of(references, member_ids, [email])
    found: dict[tuple[str, str], dict[str, Any]] = {}
    # Twice at most: the events found by address name references and member ids, which name
    # the events that carry no address.
    for _ in range(2):
        for table, model in (("outbox", OutboxRow), ("inbox", InboxRow)):
            for row in _candidates(session, model, person):
                data = (row.payload or {}).get("data")
                if isinstance(data, Mapping) and person.named_in(data):
                    found[(table, row.event_id)] = _event(table, row)
        widened = Person.of(
            [*person.references, *(e["data"].get("reference") for e in found.values()
                                   if isinstance(e["data"].get("reference"), str))],
            [*person.member_ids, *(e["data"]["member_id"] for e in found.values()
                                   if isinstance(e["data"].get("member_id"), int))],
            person.emails)
        if widened == person:
            break
        person = widened
    return sorted(found.values(), key=lambda e: (str(e["occurred_at"]), e["table"]))


def _candidates(session: Session, model: Any, person: Person) -> Iterable[Any]:
    needles = person._needles()
    text = func.lower(cast(model.payload, String))
    # The text match only narrows the scan; each candidate is checked on its data.
    return session.scalars(select(model).where(
        or_(*(text.contains(n.lower(), autoescape=True) for n in needles)))
        .order_by(model.id).limit(MAX_EVENTS))


def _event(table: str, row: Any) -> dict[str, Any]:
    payload = row.payload or {}
    return {"table": table, "event_id": row.event_id, "type": payload.get("type", row.type),
            "occurred_at": payload.get("occurred_at"), "data": payload.get("data")}
