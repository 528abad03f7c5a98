"""A member notify hears of only after a wave opened, though it joined before (an import just
before the opening: the events travel on different queues), gets the wave's announcement once,
through the inbox on SQLite and PostgreSQL; a closed wave owes nothing."""
from __future__ import annotations

from datetime import datetime

from services.notify import db
from shared.events import new_event
from tests.notify import samples


def _joined(member_id: int, email: str, at: str, wave: int = 1):
    return new_event("member.joined", {
        "member_id": member_id, "wave": wave, "government_name": f"Ville {member_id}",
        "country": "FR", "region": "Europe", "contact_email": email, "contact_name": "Contact",
        "language": "es", "imported": True}, occurred_at=datetime.fromisoformat(at))


def _opened(number: int, at: str):
    event = samples.wave_opened(number)
    return new_event(event.type, event.data, occurred_at=datetime.fromisoformat(at))


def _announcements(notify):
    return sorted(m.recipient for m in notify.rows(db.NotificationRow.template == "wave_opened"))


def test_a_member_heard_of_after_the_opening_gets_its_announcement_once(notify):
    notify.receive(_joined(1, "first@city.example", "2026-12-01T10:00:00+00:00"),
                   _opened(4, "2026-12-01T10:00:05+00:00"),
                   _joined(2, "second@city.example", "2026-12-01T10:00:01+00:00"),
                   _joined(3, "after@city.example", "2026-12-01T10:30:00+00:00"))
    assert _announcements(notify) == ["first@city.example", "second@city.example"]
    [late] = notify.rows(db.NotificationRow.recipient == "second@city.example")
    assert late.language == "es" and late.context["wave"] == 4
    # Delivered again: the same key, no second mail.
    notify.receive(_joined(2, "second@city.example", "2026-12-01T10:00:01+00:00"))
    assert _announcements(notify) == ["first@city.example", "second@city.example"]


def test_a_closed_wave_owes_no_announcement_even_if_its_closing_came_first(notify):
    notify.receive(new_event("wave.closed", {"number": 4}),
                   _opened(4, "2026-12-01T10:00:00+00:00"),
                   _joined(1, "late@city.example", "2026-12-01T09:00:00+00:00"))
    assert _announcements(notify) == []
    with notify.database.transaction() as session:
        assert db.SqlDirectory(session).open_wave() is None
