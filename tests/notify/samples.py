"""Events and notifications as the other services send them, for notify's tests."""
from __future__ import annotations

import base64
from typing import Any

from services.notify.domain import (
    ACKNOWLEDGEMENT,
    CONTACT_CHANGED,
    DECLINED,
    DELIVERY_FAILED,
    DIGEST,
    ERASURE,
    INFO_PROVIDED,
    INFO_REQUESTED,
    NEW_APPLICATION,
    PAGE_LINK,
    PASSWORD_RESET,
    WAITLISTED,
    WAVE_OPENED,
    WELCOME,
    WITHDRAWAL,
    Contact,
    Notification,
)
from shared.events import Event, new_event

# A 1x1 transparent PNG: a chart stand-in for inline (cid:) images.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)

HOSTILE_NAME = (
    "<b>Evil</b><script>alert(1)</script>\r\nBcc: victim@example.net\r\n\r\nInjected body"
    + "\u2028X-Injected: yes\x00\x1b" + "Ville " * 1700
)


def application_form(**overrides: Any) -> dict[str, Any]:
    form = {
        "reference": "HRC-2026-7KQ2M",
        "language": "fr",
        "submitted_at": "2026-11-24T10:00:00+00:00",
        "government_name": "Ville de Grigny",
        "country": "FR",
        "jurisdiction_type": "municipality",
        "population": 28000,
        "website": "https://www.grigny91.fr",
        "authority_name": "Philippe Rio",
        "authority_title": "Maire",
        "contact_name": "Zoé Martin",
        "contact_position": "Chargée des relations internationales",
        "contact_email": "zoe.martin@grigny.example",
        "contact_phone": None,
        "themes": ["right_to_the_city", "housing"],
        "commitment": "Nous nous engageons à faire des droits humains le cœur de nos politiques.",
        "frameworks": None,
        "consent": True,
    }
    form.update(overrides)
    return form


def received(**overrides: Any) -> Event:
    return new_event("application.received", application_form(**overrides))


def wave_opened(number: int = 3) -> Event:
    return new_event("wave.opened", {
        "number": number,
        "name": {
            "en": "Promoting pioneering local public policies to defend dignity for all",
            "fr": "Promouvoir des politiques publiques locales pionnières pour défendre "
                  "la dignité pour tous",
            "es": "Promover políticas públicas locales pioneras para defender la dignidad "
                  "de todas las personas",
        },
        "theme": {
            "en": "Care policies and local public services",
            "fr": "Politiques de soins et services publics locaux",
            "es": "Políticas de cuidados y servicios públicos locales",
        },
        "opens_at": "2026-11-24T00:00:00+00:00",
        "closes_at": "2027-03-31T00:00:00+00:00",
    })


def digest_data(recipients: list[str] | None = None) -> dict[str, Any]:
    return {
        "digest": "weekly",
        "period": {"start": "2026-11-16", "end": "2026-11-23"},
        "recipients": recipients or ["staff@localhost"],
        "subject": "Weekly digest 16–23 Nov 2026",
        "html": '<html><body><h1>Weekly digest</h1><img src="cid:chart-1@hrc"></body></html>',
        "text": "Weekly digest\n3 new applications",
        "attachments": [
            {"filename": "chart.png", "content_type": "image/png",
             "content_base64": base64.b64encode(PNG).decode(), "content_id": "chart-1@hrc"},
            {"filename": "members.csv", "content_type": "text/csv",
             "content_base64": base64.b64encode(b"name;country\nGrigny;FR\n").decode()},
        ],
        "language": "en",
    }


def every_notification(language: str, government_name: str = "Ville de Grigny",
                       name: str = "Zoé Martin") -> list[Notification]:
    """One notification of each template, addressed in ``language``."""
    person = Contact("zoe.martin@grigny.example", name, language, government_name)
    staff = Contact("staff@localhost", "", language, "")
    ref = "HRC-2026-7KQ2M"
    wave = {"wave": 3, "wave_name": "Nom de vague", "wave_theme": "Thème"}
    facts = {k: v for k, v in application_form(government_name=government_name).items()}
    return [
        Notification("e-ack", ACKNOWLEDGEMENT, person,
                     {"reference": ref, "government_name": government_name, "first": True,
                      "wave": 3}),
        Notification("e-new", NEW_APPLICATION, staff, {
            "reference": ref, "application_id": 42, "facts": facts, "wave": None,
            "waitlisted": True,
            "possible_duplicates": [{"reference": "HRC-2025-AAAAA", "kind": "member",
                                     "government_name": "Grigny", "score": 92.0}],
        }),
        Notification("e-info", INFO_REQUESTED, person, {
            "reference": ref, "government_name": government_name,
            "message": "Merci de joindre la délibération du conseil municipal.",
        }),
        Notification("e-acc", WELCOME, person,
                     {"reference": ref, "government_name": government_name, **wave}),
        Notification("e-dec", DECLINED, person, {
            "reference": ref, "government_name": government_name,
            "reason": "Le formulaire n'est pas signé par l'autorité politique.",
        }),
        Notification("e-wait", WAITLISTED, person,
                     {"reference": ref, "government_name": government_name, "first": True,
                      "wave": None}),
        Notification("e-wave", WAVE_OPENED, person, {
            "audience": "member", "government_name": government_name,
            "opens_at": "2026-11-24", "closes_at": "2027-03-31", **wave,
        }),
        Notification("e-wdr", WITHDRAWAL, person, {
            "as_member": True, "reference": "", "government_name": government_name,
            "reason": "Changement de mandature",
        }),
        Notification("e-era", ERASURE, person, {"government_name": government_name}),
        Notification("e-con", CONTACT_CHANGED, person, {"government_name": government_name}),
        Notification("e-dig", DIGEST, Contact("staff@localhost", "", language, ""),
                     digest_data()),
        Notification("e-fail", DELIVERY_FAILED, staff, {
            "failed_event_id": "e-ack", "failed_recipient": "zoe.martin@grigny.example",
            "failed_template": ACKNOWLEDGEMENT, "error": "550 5.1.1 no such user",
        }),
        Notification("e-pwd", PASSWORD_RESET, staff, {
            "link": "https://staff.uclg.example/password/s3cr3t", "minutes": 30,
        }),
        Notification("e-ans", INFO_PROVIDED, staff, {
            "reference": ref, "application_id": 42, "government_name": government_name,
            "message": "Voici la délibération.\nCordialement.",
            "attachments": [{"id": "a1b2", "filename": "délibération.pdf",
                             "content_type": "application/pdf", "size": 1234,
                             "sha256": "0" * 64}],
        }),
        Notification("e-link", PAGE_LINK, person, {
            "reference": ref, "government_name": government_name,
            "page_url": f"http://localhost:8000/applications/{ref}/k3y",
        }),
    ]
