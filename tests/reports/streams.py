"""Events for the reports tests, built and validated through the shared catalogue."""
from __future__ import annotations

from datetime import UTC, datetime

from shared.events import Event, new_event


def at(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def received(reference: str, when: str, **fields) -> Event:
    data = {
        "reference": reference,
        "language": "en",
        "submitted_at": at(when).isoformat(),
        "government_name": f"City of {reference}",
        "country": "FR",
        "jurisdiction_type": "municipality",
        "population": 50_000,
        "authority_name": "A. Mayor",
        "authority_title": "Mayor",
        "contact_name": "C. Person",
        "contact_position": "Officer",
        "contact_email": "officer@example.org",
        "themes": ["housing"],
        "commitment": "We commit to human rights in our city, every day.",
        "consent": True,
        **fields,
    }
    return new_event("application.received", data, occurred_at=at(when))


def step(type_: str, reference: str, application_id: int, when: str, **fields) -> Event:
    defaults = {
        "application.under_review": {"wave": 3},
        "application.accepted": {"wave": 3, "member_id": application_id},
        "application.declined": {"reason": "Not a local or regional government."},
        "application.info_requested": {"message": "Please send the council decision."},
    }
    data = {"application_id": application_id, "reference": reference,
            **defaults.get(type_, {}), **fields}
    return new_event(type_, data, occurred_at=at(when))


def joined(member_id: int, when: str, **fields) -> Event:
    data = {
        "member_id": member_id,
        "wave": 1,
        "government_name": f"Member {member_id}",
        "country": "FR",
        "region": "Europe",
        "jurisdiction_type": "municipality",
        "population": 50_000,
        "themes": ["housing"],
        "joined_at": at(when).isoformat(),
        **fields,
    }
    return new_event("member.joined", data, occurred_at=at(when))


def withdrawn(member_id: int, when: str) -> Event:
    return new_event("member.withdrawn", {"member_id": member_id, "reason": "council vote"},
                     occurred_at=at(when))


def erased(member_id: int, when: str, references: list[str] = ()) -> Event:
    return new_event("member.erased", {"member_id": member_id, "references": list(references)},
                     occurred_at=at(when))


def wave_opened(number: int, when: str, closes: str | None = None) -> Event:
    data = {
        "number": number,
        "name": {"en": f"Wave {number}", "fr": f"Vague {number}", "es": f"Ola {number}"},
        "theme": {"en": "Dignity for all", "fr": "La dignité pour tous",
                  "es": "Dignidad para todos"},
        "opens_at": at(when).isoformat(),
        "closes_at": at(closes).isoformat() if closes else None,
    }
    return new_event("wave.opened", data, occurred_at=at(when))


def wave_closed(number: int, when: str) -> Event:
    return new_event("wave.closed", {"number": number}, occurred_at=at(when))


# The digest period of the seeded stream: the week from Monday 1 January 2024, 08:00 UTC.
PERIOD_START, PERIOD_END = "2024-01-01T08:00:00", "2024-01-08T08:00:00"


def seeded_stream() -> list[Event]:
    """A campaign with known numbers around the week [PERIOD_START, PERIOD_END).

    Before the week: 12 members joined (waves 1 and 2), one withdrew; so 11 at its start.
    In the week: 3 new applications; decisions: 2 accepted, 1 declined; 2 members joined.
    Waiting more than 14 days at the week's end: R-0090 (under review since December 1),
    R-0095 (waitlisted, filed 20 December) and R-0080 (filed 1 November, decided only after
    the week); not R-0099 (filed 30 December: 9 days) nor the week's new ones.
    """
    events = [
        wave_opened(1, "2022-03-01T00:00:00", closes="2022-12-01T00:00:00"),
        wave_closed(1, "2022-12-01T00:00:00"),
        wave_opened(2, "2023-03-01T00:00:00"),
    ]
    regions = ["Europe", "Africa", "Latin America", "Asia-Pacific"]
    for n in range(1, 13):
        wave = 1 if n <= 6 else 2
        month = 4 + (n % 6)
        year = 2022 if wave == 1 else 2023
        events.append(joined(n, f"{year}-{month:02d}-{n:02d}T10:00:00", wave=wave,
                             region=regions[n % 4], country=("FR", "SN", "BR", "KR")[n % 4],
                             population=n * 40_000, themes=["housing", "culture"][: 1 + n % 2]))
    events.append(withdrawn(3, "2023-10-01T00:00:00"))

    events += [
        received("R-0080", "2023-11-01T09:00:00"),
        step("application.under_review", "R-0080", 80, "2023-11-02T09:00:00"),
        step("application.accepted", "R-0080", 80, "2024-01-10T09:00:00", member_id=80),
        received("R-0090", "2023-12-01T09:00:00"),
        step("application.under_review", "R-0090", 90, "2023-12-02T09:00:00"),
        received("R-0095", "2023-12-20T09:00:00"),
        step("application.waitlisted", "R-0095", 95, "2023-12-20T10:00:00"),
        received("R-0099", "2023-12-30T09:00:00"),
        # Decided in the week, filed before it.
        received("R-0085", "2023-11-15T09:00:00", country="SN", government_name="Dakar"),
        step("application.accepted", "R-0085", 85, "2024-01-03T12:00:00", member_id=13),
        received("R-0086", "2023-11-16T09:00:00"),
        step("application.declined", "R-0086", 86, "2024-01-04T12:00:00"),
        # New in the week.
        received("R-0101", "2024-01-01T09:00:00", country="BR", government_name="Porto Alegre"),
        received("R-0102", "2024-01-03T09:00:00"),
        received("R-0103", "2024-01-08T07:59:59"),
        step("application.accepted", "R-0101", 101, "2024-01-05T12:00:00", member_id=14),
        joined(13, "2024-01-03T12:00:00", wave=2, government_name="Dakar", country="SN",
               region="Africa", reference="R-0085"),
        joined(14, "2024-01-05T12:00:00", wave=2, government_name="Porto Alegre", country="BR",
               region="Latin America", reference="R-0101"),
        # On the period's end: belongs to the next week.
        received("R-0104", PERIOD_END),
        joined(15, PERIOD_END, wave=2),
    ]
    return events
