from datetime import datetime

import pytest

from services.notify import domain
from services.notify.domain import Contact, RecipientNotYetKnown, Secretariat
from shared.events import new_event
from tests.notify import samples
from tests.notify.fakes import FakeDirectory, handle

DESK = Secretariat(emails=("staff@uclg.example", "ops@uclg.example"), language="es")
REF = "HRC-2026-7KQ2M"


@pytest.fixture
def directory():
    return FakeDirectory()


def received(directory, **form):
    return handle(samples.received(**form), directory, DESK)


def step(type_, **data):
    return new_event(type_, {"application_id": 42, "reference": REF, **data})


def filed(directory, **form):
    """Received, then under review in wave 3: where every decision starts from."""
    received(directory, **form)
    return handle(step("application.under_review", wave=3), directory, DESK)


def test_received_is_remembered_and_waits_for_the_registry_answer(directory):
    assert received(directory, language="es") == []
    assert directory.applicant(REF) == Contact("zoe.martin@grigny.example", "Zoé Martin", "es",
                                               "Ville de Grigny")
    assert directory.application_status(REF) == "received"


def test_under_review_acknowledges_the_applicant_and_alerts_every_staff_address(directory):
    received(directory, language="fr")
    duplicate = {"reference": "HRC-2025-AAAAA", "government_name": "Grigny",
                 "kind": "member", "score": 91.0}
    mails = handle(step("application.under_review", wave=3, possible_duplicates=[duplicate]),
                   directory, DESK)
    assert [(m.template, m.recipient, m.language) for m in mails] == [
        (domain.NEW_APPLICATION, "staff@uclg.example", "es"),
        (domain.NEW_APPLICATION, "ops@uclg.example", "es"),
        (domain.ACKNOWLEDGEMENT, "zoe.martin@grigny.example", "fr"),
    ]
    alert = mails[0].context
    assert alert["facts"]["government_name"] == "Ville de Grigny"
    assert alert["possible_duplicates"][0]["reference"] == "HRC-2025-AAAAA"
    assert alert["application_id"] == 42 and not alert["waitlisted"]
    assert mails[2].context == {"first": True, "reference": REF,
                                "government_name": "Ville de Grigny", "wave": 3,
                                "page_url": None}


def test_waitlisted_is_the_acknowledgement_when_no_wave_is_open(directory):
    received(directory)
    mails = handle(step("application.waitlisted"), directory, DESK)
    assert [m.template for m in mails] == [
        domain.NEW_APPLICATION, domain.NEW_APPLICATION, domain.WAITLISTED]
    assert mails[-1].context["first"] and mails[0].context["waitlisted"]
    assert directory.statuses[REF] == "waitlisted"


def test_review_after_the_waiting_list_tells_the_applicant_but_not_staff_again(directory):
    received(directory)
    handle(step("application.waitlisted"), directory, DESK)
    [mail] = handle(step("application.under_review", wave=4), directory, DESK)
    assert (mail.template, mail.context["first"], mail.context["wave"]) == (
        domain.ACKNOWLEDGEMENT, False, 4)


def test_a_waitlisted_applicant_hears_once_when_a_wave_opens_whichever_event_comes_first():
    # The registry opens wave 4 and takes the waiting list into review: two events, two queues.
    opened_first, reviewed_first = FakeDirectory(), FakeDirectory()
    mails = {}
    for directory, order in ((opened_first, ("wave", "review")),
                             (reviewed_first, ("review", "wave"))):
        received(directory)
        handle(step("application.waitlisted"), directory, DESK)
        events = {"wave": samples.wave_opened(4),
                  "review": step("application.under_review", wave=4)}
        mails[order] = [(m.template, m.recipient) for name in order
                        for m in handle(events[name], directory, DESK)]
    assert mails[("wave", "review")] == [(domain.WAVE_OPENED, "zoe.martin@grigny.example")]
    assert mails[("review", "wave")] == [(domain.ACKNOWLEDGEMENT, "zoe.martin@grigny.example")]


def test_a_step_before_the_application_is_known_is_retried_later(directory):
    with pytest.raises(RecipientNotYetKnown):
        handle(step("application.declined", reason="Incomplete form"), directory, DESK)


@pytest.mark.parametrize(("type_", "data", "template", "key"), [
    ("application.info_requested", {"message": "Please send the council decision."},
     domain.INFO_REQUESTED, "message"),
    ("application.declined", {"reason": "Not a local government."}, domain.DECLINED, "reason"),
    ("application.withdrawn", {"reason": "New mayor."}, domain.WITHDRAWAL, "reason"),
])
def test_each_decision_writes_to_the_applicant(directory, type_, data, template, key):
    filed(directory, language="fr")
    [mail] = handle(step(type_, **data), directory, DESK)
    assert (mail.template, mail.recipient, mail.language) == (
        template, "zoe.martin@grigny.example", "fr")
    assert mail.context[key] == data[key]


def test_acceptance_welcomes_with_the_wave_name_in_the_applicant_language(directory):
    handle(samples.wave_opened(3), directory, DESK)
    filed(directory, language="es")
    [mail] = handle(step("application.accepted", member_id=7, wave=3), directory, DESK)
    assert mail.template == domain.WELCOME
    assert mail.context["wave"] == 3
    assert mail.context["wave_name"].startswith("Promover políticas")
    assert directory.member(7).email == "zoe.martin@grigny.example"


def joined(member_id, email=None, language="en", name="Ville"):
    data = {"member_id": member_id, "wave": 1, "government_name": name, "country": "FR",
            "region": "Europe"}
    if email:
        data.update(contact_email=email, contact_name="Contact", language=language)
    return new_event("member.joined", data)


def test_member_joined_sends_nothing_but_is_remembered(directory):
    assert handle(joined(1, "a@city.example", "fr"), directory, DESK) == []
    assert directory.member(1) == Contact("a@city.example", "Contact", "fr", "Ville")


def test_wave_opened_goes_to_active_members_and_waitlisted_applicants_once_each(directory):
    handle(joined(1, "a@city.example", "fr"), directory, DESK)
    handle(joined(2, "b@city.example", "es"), directory, DESK)
    handle(joined(3, "gone@city.example"), directory, DESK)
    handle(new_event("member.withdrawn", {"member_id": 3}), directory, DESK)
    handle(joined(4, "A@City.example"), directory, DESK)  # same mailbox as member 1
    received(directory, reference="HRC-2026-WAIT1", contact_email="w@town.example")
    handle(new_event("application.waitlisted", {"application_id": 9,
                                                "reference": "HRC-2026-WAIT1"}), directory, DESK)
    received(directory, reference="HRC-2026-REVW1", contact_email="r@town.example")
    handle(new_event("application.under_review", {"application_id": 10, "wave": 3,
                                                  "reference": "HRC-2026-REVW1"}),
           directory, DESK)

    mails = handle(samples.wave_opened(4), directory, DESK)

    assert [(m.recipient, m.context["audience"], m.language) for m in mails] == [
        ("a@city.example", "member", "fr"),
        ("b@city.example", "member", "es"),
        ("w@town.example", "waitlisted", "fr"),
    ]
    assert all(m.template == domain.WAVE_OPENED and m.announcement for m in mails)
    assert mails[1].context["wave_name"].startswith("Promover")
    assert len({m.key for m in mails}) == 3


def test_member_withdrawal_is_confirmed_to_the_member(directory):
    handle(joined(5, "m@city.example", "es"), directory, DESK)
    [mail] = handle(new_event("member.withdrawn", {"member_id": 5, "reason": "x"}),
                    directory, DESK)
    assert (mail.template, mail.recipient, mail.context["as_member"]) == (
        domain.WITHDRAWAL, "m@city.example", True)


def test_erasure_confirms_then_forgets_everything_about_the_person(directory):
    filed(directory)
    handle(step("application.accepted", member_id=7, wave=3), directory, DESK)
    [mail] = handle(new_event("member.erased", {"member_id": 7, "references": [REF]}),
                    directory, DESK)
    assert (mail.template, mail.recipient) == (domain.ERASURE, "zoe.martin@grigny.example")
    assert directory.member(7) is None
    assert directory.applicant(REF) is None and REF not in directory.facts
    assert directory.application_status(REF) == domain.ERASED
    again = handle(new_event("member.erased", {"member_id": 7, "references": [REF]}),
                   directory, DESK)
    assert again == []


def test_digest_goes_to_each_listed_recipient_once(directory):
    event = new_event("digest.ready", samples.digest_data(["a@x.org", "b@x.org", "a@x.org"]))
    mails = handle(event, directory, DESK)
    assert [m.recipient for m in mails] == ["a@x.org", "b@x.org"]
    assert mails[0].context["attachments"][0]["content_id"] == "chart-1@hrc"


def test_events_without_mail_produce_none(directory):
    assert handle(new_event("wave.closed", {"number": 2}), directory, DESK) == []


def test_a_failed_mail_alerts_staff_once_per_mail_but_an_alert_never_alerts():
    failed = domain.Notification("e1", domain.WELCOME,
                                 Contact("x@bad.example", "X", "fr", "Ville"))
    alerts = domain.delivery_failure_alert(failed, "550 no such user", DESK)
    assert [a.recipient for a in alerts] == ["staff@uclg.example", "ops@uclg.example"]
    assert alerts[0].language == "es" and alerts[0].template == domain.DELIVERY_FAILED
    assert alerts[0].event_id == domain.delivery_failure_alert(failed, "other", DESK)[0].event_id
    assert domain.delivery_failure_alert(alerts[0], "550", DESK) == []


def test_an_unknown_language_falls_back_to_english():
    assert Contact("a@b.c", "", "de", "").language == "en"


def test_an_imported_member_is_not_welcomed_but_hears_of_the_next_wave(directory):
    joined = new_event("member.joined", {
        "member_id": 9, "wave": 1, "government_name": "Grigny", "country": "FR",
        "region": "Europe", "reference": "IMP-0A1B2C3D4E", "contact_name": "Amanda",
        "contact_email": "amanda@grigny.example", "language": "fr", "imported": True})
    assert handle(joined, directory, DESK) == []
    mails = handle(samples.wave_opened(4), directory, DESK)
    assert [(m.template, m.recipient, m.language) for m in mails] == [
        (domain.WAVE_OPENED, "amanda@grigny.example", "fr")]


PAGE = f"https://apply.example/applications/{REF}/k3y"


def test_the_acknowledgement_and_the_information_request_link_the_applicants_page(directory):
    received(directory, page_url=PAGE)
    mails = handle(step("application.under_review", wave=3), directory, DESK)
    [ack] = [m for m in mails if m.template == domain.ACKNOWLEDGEMENT]
    assert ack.context["page_url"] == PAGE
    # Staff never get the applicant's key.
    assert all(PAGE not in str(m.context) for m in mails if m.template != domain.ACKNOWLEDGEMENT)
    [info] = handle(step("application.info_requested", message="La délibération ?"),
                    directory, DESK)
    assert info.context["page_url"] == PAGE


def test_an_answer_tells_every_staff_address_once_with_the_application_id(directory):
    received(directory, page_url=PAGE)
    handle(step("application.under_review", wave=3), directory, DESK)
    answer = new_event("application.info_provided", {
        "reference": REF, "message": "Voici.",
        "attachments": [{"id": "a1", "filename": "d.pdf", "content_type": "application/pdf",
                         "size": 10, "sha256": "a" * 64}]})
    mails = handle(answer, directory, DESK)
    assert [(m.template, m.recipient) for m in mails] == [
        (domain.INFO_PROVIDED, "staff@uclg.example"), (domain.INFO_PROVIDED, "ops@uclg.example")]
    assert mails[0].context["application_id"] == 42
    assert mails[0].context["attachments"][0]["id"] == "a1"
    assert len({m.key for m in mails}) == 2


def test_a_lost_link_mails_the_new_address_to_the_known_applicant(directory):
    received(directory, page_url=PAGE)
    fresh = PAGE.replace("k3y", "fresh")
    [mail] = handle(new_event("application.link_requested",
                              {"reference": REF, "page_url": fresh}), directory, DESK)
    assert (mail.template, mail.recipient) == (domain.PAGE_LINK, "zoe.martin@grigny.example")
    assert mail.context["page_url"] == fresh
    assert directory.applicant_facts(REF)["page_url"] == fresh


def test_an_unsubscribed_address_gets_no_announcement_but_every_other_mail(directory):
    handle(joined(1, "a@city.example", "fr"), directory, DESK)
    handle(joined(2, "b@city.example", "es"), directory, DESK)
    directory.unsubscribed_addresses.add("a@city.example")

    mails = handle(samples.wave_opened(4), directory, DESK)
    assert [m.recipient for m in mails] == ["b@city.example"]

    # The member still hears of what concerns it.
    [withdrawal] = handle(new_event("member.withdrawn", {"member_id": 1, "reason": "x"}),
                          directory, DESK)
    assert (withdrawal.recipient, withdrawal.template) == ("a@city.example", domain.WITHDRAWAL)


def test_an_unsubscribe_holds_whatever_the_case_of_the_address(directory):
    handle(joined(1, "Ana.Diaz@City.example", "es"), directory, DESK)
    directory.unsubscribed_addresses.add("ana.diaz@city.example")
    assert handle(samples.wave_opened(4), directory, DESK) == []


def told_again(event):
    """The same wave as the registry tells it again (hrc waves announce): a fresh event id."""
    return new_event("wave.opened", {**event.data, "repeated": True})


def test_a_wave_told_again_announces_nothing_but_is_known(directory):
    handle(joined(1, "a@city.example", "fr"), directory, DESK)
    opened = samples.wave_opened(4)
    first = handle(opened, directory, DESK)
    assert [m.recipient for m in first] == ["a@city.example"]

    assert handle(told_again(opened), directory, DESK) == []
    # A notify that never heard of the wave learns its names from the repeat, and mails no one.
    rebuilt = FakeDirectory()
    handle(joined(1, "a@city.example", "fr"), rebuilt, DESK)
    assert handle(told_again(opened), rebuilt, DESK) == []
    assert rebuilt.wave(4).name_in("fr").startswith("Promouvoir")


def test_an_announcement_is_keyed_by_its_wave_so_another_event_of_it_adds_no_mail(directory):
    handle(joined(1, "a@city.example", "fr"), directory, DESK)
    first = handle(samples.wave_opened(4), directory, DESK)
    second = handle(samples.wave_opened(4), directory, DESK)  # another event id, same wave
    assert [m.key for m in second] == [m.key for m in first]
    assert first[0].event_id == domain.announcement_id(4) != domain.announcement_id(5)


def test_a_repeat_that_overtakes_the_opening_does_not_swallow_the_announcement(directory):
    handle(joined(1, "a@city.example", "fr"), directory, DESK)
    opened = samples.wave_opened(4)
    assert handle(told_again(opened), directory, DESK) == []
    assert [m.recipient for m in handle(opened, directory, DESK)] == ["a@city.example"]


def test_the_announcement_carries_the_description_in_the_reader_s_language(directory):
    handle(joined(1, "a@city.example", "fr"), directory, DESK)
    handle(joined(2, "b@city.example", "es"), directory, DESK)
    opened = samples.wave_opened(4)
    described = new_event("wave.opened", {**opened.data, "description": {
        "fr": "La quatrième vague.\n\nElle parle   du soin."}})
    french, spanish = handle(described, directory, DESK)
    assert french.context["wave_description"] == ["La quatrième vague.", "Elle parle du soin."]
    assert spanish.context["wave_description"] == []


def instant(text):
    return datetime.fromisoformat(text)


def joined_at(member_id, email, occurred_at, wave=1):
    return new_event("member.joined", {
        "member_id": member_id, "wave": wave, "government_name": "Ville", "country": "FR",
        "region": "Europe", "contact_email": email, "contact_name": "Contact", "language": "fr",
    }, occurred_at=instant(occurred_at))


def opened_at(number, occurred_at):
    event = samples.wave_opened(number)
    return new_event(event.type, event.data, occurred_at=instant(occurred_at))


def test_a_member_heard_of_after_the_opening_is_owed_the_announcement_once(directory):
    # Imported a second before the wave opened; its member.joined came after the opening.
    handle(joined_at(1, "early@city.example", "2026-12-01T10:00:00+00:00"), directory, DESK)
    opening = handle(opened_at(4, "2026-12-01T10:00:01+00:00"), directory, DESK)
    late = handle(joined_at(2, "late@city.example", "2026-12-01T10:00:00.500000+00:00"),
                  directory, DESK)

    assert [m.recipient for m in opening] == ["early@city.example"]
    assert [(m.recipient, m.template, m.context["wave"], m.language) for m in late] == [
        ("late@city.example", domain.WAVE_OPENED, 4, "fr")]
    assert late[0].event_id == opening[0].event_id == domain.announcement_id(4)
    # The member the opening mailed, told again (a redelivery), gets the same key: no new mail.
    again = handle(joined_at(1, "early@city.example", "2026-12-01T10:00:00+00:00"),
                   directory, DESK)
    assert [m.key for m in again] == [opening[0].key]


def test_who_joins_after_the_opening_or_into_the_wave_is_not_owed_it(directory):
    handle(opened_at(4, "2026-12-01T10:00:00+00:00"), directory, DESK)
    assert handle(joined_at(1, "imported@city.example", "2026-12-01T11:00:00+00:00"),
                  directory, DESK) == []
    assert handle(joined_at(2, "welcomed@city.example", "2026-12-01T09:00:00+00:00", wave=4),
                  directory, DESK) == []


def test_no_late_announcement_of_a_closed_wave_even_when_the_closing_came_first(directory):
    handle(new_event("wave.closed", {"number": 4}), directory, DESK)
    handle(opened_at(4, "2026-12-01T10:00:00+00:00"), directory, DESK)  # crossed on the way
    assert directory.open_wave() is None
    assert handle(joined_at(1, "a@city.example", "2026-12-01T09:00:00+00:00"),
                  directory, DESK) == []


def test_no_late_announcement_to_an_unsubscribed_address(directory):
    directory.unsubscribed_addresses.add("late@city.example")
    handle(opened_at(4, "2026-12-01T10:00:00+00:00"), directory, DESK)
    assert handle(joined_at(1, "Late@City.example", "2026-12-01T09:00:00+00:00"),
                  directory, DESK) == []
