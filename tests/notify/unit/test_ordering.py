"""Per-recipient order in notify, whatever order the queues deliver in: a step that arrives
before the one it follows waits for it, a step overtaken by a final decision is dropped, and
nothing about an erased person is applied or parked."""
from __future__ import annotations

import itertools
import random

import pytest

from services.notify import domain
from services.notify.domain import NotYet, Secretariat
from shared.events import new_event
from tests.notify import samples
from tests.notify.fakes import FakeDirectory, handle

DESK = Secretariat(emails=("staff@uclg.example",), language="en")
REF = "HRC-2026-7KQ2M"
PERSON = "zoe.martin@grigny.example"


def step(type_, **data):
    return new_event(type_, {"application_id": 42, "reference": REF, **data})


def joined(member_id=7):
    return new_event("member.joined", {
        "member_id": member_id, "wave": 4, "government_name": "Ville de Grigny",
        "country": "FR", "region": "Europe", "reference": REF})


def run_as_the_inbox_would(events, directory):
    """Each pass tries every event still waiting, in arrival order, as the inbox's retries do;
    returns the mails in the order they were queued and the events left waiting."""
    waiting, mails = list(events), []
    while waiting:
        progressed, still = False, []
        for event in waiting:
            try:
                mails += handle(event, directory, DESK)
                progressed = True
            except NotYet:
                still.append(event)
        waiting = still
        if not progressed:
            break
    return mails, waiting


# An application's whole life at the registry, in its order.
LIFE = [
    samples.received(),
    step("application.waitlisted"),
    step("application.under_review", wave=4),
    step("application.info_requested", message="Please send the council decision."),
    step("application.under_review", wave=4),
    step("application.accepted", member_id=7, wave=4),
    joined(),
    new_event("member.withdrawn", {"member_id": 7, "reason": "New council"}),
]


def _orders():
    rng = random.Random(10)
    orders = [list(LIFE), list(reversed(LIFE))]
    for _ in range(200):
        order = list(LIFE)
        rng.shuffle(order)
        orders.append(order)
    return orders


@pytest.mark.parametrize("order", _orders())
def test_any_delivery_order_acknowledges_once_alerts_once_and_welcomes_last(order):
    mails, waiting = run_as_the_inbox_would(order, FakeDirectory())
    assert waiting == []
    to_person = [m.template for m in mails if m.recipient == PERSON]
    firsts = [m for m in mails if m.recipient == PERSON and m.context.get("first")]
    assert len(firsts) == 1
    assert [m.template for m in mails if m.recipient != PERSON] == [domain.NEW_APPLICATION]
    # The decision and its sequel come last, in the registry's order.
    assert to_person[-2:] == [domain.WELCOME, domain.WITHDRAWAL]
    if domain.INFO_REQUESTED in to_person:
        assert to_person.index(domain.INFO_REQUESTED) < to_person.index(domain.WELCOME)


def test_a_step_waits_for_the_one_before_without_failing():
    directory = FakeDirectory()
    handle(samples.received(), directory, DESK)
    early = step("application.accepted", member_id=7, wave=4)
    with pytest.raises(NotYet):
        handle(early, directory, DESK)
    handle(step("application.under_review", wave=4), directory, DESK)
    [welcome] = handle(early, directory, DESK)
    assert welcome.template == domain.WELCOME


def test_a_step_after_a_final_decision_is_dropped_with_a_log_line(caplog):
    directory = FakeDirectory()
    handle(samples.received(), directory, DESK)
    handle(step("application.under_review", wave=4), directory, DESK)
    handle(step("application.withdrawn", reason="New council"), directory, DESK)
    with caplog.at_level("INFO", logger="services.notify.domain"):
        assert handle(step("application.info_requested", message="Late question"),
                      directory, DESK) == []
    assert "already withdrawn" in caplog.text


ERASE_WITHIN_A_SECOND = [
    step("application.accepted", member_id=7, wave=4),
    joined(),
    new_event("member.withdrawn", {"member_id": 7, "reason": "New council"}),
    new_event("member.erased", {"member_id": 7, "references": [REF]}),
]


@pytest.mark.parametrize("order", list(itertools.permutations(ERASE_WITHIN_A_SECOND)))
def test_accept_withdraw_erase_within_a_second_in_any_order_parks_nothing(order, caplog):
    directory = FakeDirectory()
    handle(samples.received(), directory, DESK)
    handle(step("application.under_review", wave=4), directory, DESK)
    with caplog.at_level("INFO", logger="services.notify.domain"):
        mails, waiting = run_as_the_inbox_would(order, directory)
    assert waiting == []
    templates = [m.template for m in mails]
    # The erasure is confirmed, and nothing reaches the person after it.
    assert templates[-1] == domain.ERASURE and templates.count(domain.ERASURE) == 1
    assert directory.member(7) is None and directory.applicant(REF) is None
    if order[0].type == "member.erased":
        assert templates == [domain.ERASURE]
        assert caplog.text.count("was erased") == 3


def test_an_erased_applicant_s_late_application_received_is_not_stored(caplog):
    directory = FakeDirectory()
    handle(new_event("member.erased", {"member_id": 7, "references": [REF]}), directory, DESK)
    with caplog.at_level("INFO", logger="services.notify.domain"):
        assert handle(samples.received(), directory, DESK) == []
    assert directory.applicant(REF) is None
    assert "was erased" in caplog.text
