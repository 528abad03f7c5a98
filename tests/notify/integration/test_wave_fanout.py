"""A wave.opened to 2,000 members: 2,000 mails, each once, even when the event comes twice.

How long it takes is measured by bench/notify_wave.py, not asserted here.
"""
from __future__ import annotations

from collections import Counter

from services.notify import db
from services.notify.domain import Contact
from shared.events import new_event
from tests.notify import samples

MEMBERS = 2000


def seed_members(database, count: int) -> None:
    with database.transaction() as session:
        directory = db.SqlDirectory(session)
        for member_id in range(1, count + 1):
            contact = Contact(f"member{member_id}@city{member_id}.example", f"Contact {member_id}",
                              ("en", "fr", "es")[member_id % 3], f"City {member_id}")
            directory.add_member(member_id, contact, None)


def test_wave_opened_to_2000_members_sends_2000_mails_once_each(notify, smtp_server):
    seed_members(notify.database, MEMBERS)
    wave = samples.wave_opened(4)
    notify.receive(wave)
    notify.receive(wave)  # redelivered by the broker
    with notify.database.transaction() as session:  # and handled again after a crash
        notify.processor.handlers[wave.type](wave, session)

    notify.send(timeout=300)

    mails = smtp_server.messages()
    recipients = Counter(r for rs, _ in mails for r in rs)
    assert len(mails) == MEMBERS
    assert set(recipients) == {f"member{i}@city{i}.example" for i in range(1, MEMBERS + 1)}
    assert max(recipients.values()) == 1
    assert notify.count(db.NotificationRow.status == db.SENT) == MEMBERS
    languages = Counter(m["Content-Language"] for _, m in mails)
    assert languages == {"en": 666, "fr": 667, "es": 667}


def test_a_wave_told_again_or_in_another_event_mails_no_member_a_second_time(notify,
                                                                           smtp_server):
    seed_members(notify.database, 3)
    opened = samples.wave_opened(4)
    notify.receive(opened)
    notify.send()
    assert len(smtp_server.messages()) == 3

    # hrc waves announce: the same wave, a fresh event id, marked as told again.
    notify.receive(new_event("wave.opened", {**opened.data, "repeated": True}))
    # And, were the registry ever to send it, another plain opening of the same wave.
    notify.receive(samples.wave_opened(4))
    notify.send()

    assert len(smtp_server.messages()) == 3
    assert notify.count(db.NotificationRow.template == "wave_opened") == 3
