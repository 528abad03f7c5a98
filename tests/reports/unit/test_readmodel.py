import random
from dataclasses import asdict

from services.reports.domain import InMemoryStore
from services.reports.handlers import project
from shared.events import subscriptions
from tests.reports.streams import (
    at,
    erased,
    joined,
    received,
    seeded_stream,
    step,
    wave_closed,
    wave_opened,
    withdrawn,
)


def build(events) -> InMemoryStore:
    store = InMemoryStore()
    for event in events:
        project(event, store)
    return store


def state(store: InMemoryStore) -> dict:
    return {
        "applications": sorted((asdict(a) for a in store.applications()),
                               key=lambda a: a["reference"]),
        "members": sorted((asdict(m) for m in store.members()), key=lambda m: m["member_id"]),
        "decisions": sorted((asdict(d) for d in store.decisions()), key=lambda d: d["event_id"]),
        "waves": sorted((asdict(w) for w in store.waves()), key=lambda w: w["number"]),
    }


def test_every_event_reports_subscribes_to_has_one_handler():
    from services.reports.handlers import handlers, inbox_handlers, projections

    assert handlers.types().isdisjoint(projections.types())
    assert {t.name for t in subscriptions("reports")} == handlers.types() | projections.types()
    assert set(inbox_handlers({})) == handlers.types() | projections.types()
    # Every subscription but erasures and the staff token feeds the read model.
    assert handlers.types() == {"member.erased", "application.erased", "staff.token_issued"}


def test_an_application_moves_through_its_statuses():
    store = build([
        received("R-0001", "2024-01-01T09:00:00", population=12_000, themes=["food", "peace"]),
        step("application.under_review", "R-0001", 1, "2024-01-02T09:00:00"),
        step("application.info_requested", "R-0001", 1, "2024-01-03T09:00:00"),
        step("application.accepted", "R-0001", 1, "2024-01-04T09:00:00", member_id=7),
    ])
    view = store.application("R-0001")
    assert (view.status, view.application_id, view.member_id, view.wave) == ("accepted", 1, 7, 3)
    assert view.received_at == at("2024-01-01T09:00:00")
    assert view.status_at == at("2024-01-04T09:00:00")
    assert view.themes == ("food", "peace")
    assert [d.outcome for d in store.decisions()] == ["accepted"]


def test_a_registry_step_that_arrives_before_the_submission_still_wins():
    store = build([
        step("application.under_review", "R-0001", 1, "2024-01-02T09:00:00"),
        received("R-0001", "2024-01-01T09:00:00", government_name="Grigny"),
    ])
    view = store.application("R-0001")
    assert (view.status, view.government_name) == ("under_review", "Grigny")


def test_the_registry_step_wins_even_when_the_intake_clock_is_ahead():
    store = build([
        received("R-0001", "2024-01-02T09:00:00"),
        step("application.waitlisted", "R-0001", 1, "2024-01-02T08:59:00"),
    ])
    assert store.application("R-0001").status == "waitlisted"


def test_any_order_of_the_same_events_gives_the_same_model():
    events = seeded_stream()
    expected = state(build(events))
    for seed in range(20):
        shuffled = events[:]
        random.Random(seed).shuffle(shuffled)
        assert state(build(shuffled)) == expected


def test_a_decision_delivered_twice_counts_once():
    decision = step("application.declined", "R-0001", 1, "2024-01-02T09:00:00")
    store = build([received("R-0001", "2024-01-01T09:00:00"), decision, decision])
    assert len(list(store.decisions())) == 1


def test_a_withdrawn_member_leaves_the_count_from_its_withdrawal():
    store = build([joined(1, "2023-01-01T00:00:00"), withdrawn(1, "2023-06-01T00:00:00")])
    member = store.member(1)
    assert member.active_at(at("2023-05-31T23:59:59"))
    assert not member.active_at(at("2023-06-01T00:00:01"))
    assert member.left_reason == "withdrawn"


def test_erasing_a_contact_keeps_the_member_counted_whatever_the_order():
    events = [
        erased(5, "2024-02-01T00:00:00", references=["R-0005"]),
        joined(5, "2024-01-01T00:00:00", government_name="Somewhere", reference="R-0005"),
        received("R-0005", "2023-12-01T00:00:00", government_name="Somewhere"),
    ]
    for order in (events, events[::-1]):
        member = build(order).member(5)
        assert member.government_name == "Somewhere" and member.left_at is None
        assert member.active_at(at("2024-03-01T00:00:00"))


def test_waves_open_and_close():
    store = build([
        wave_opened(3, "2024-03-01T00:00:00"),
        wave_opened(4, "2025-03-01T00:00:00"),
        wave_closed(3, "2024-12-01T00:00:00"),
    ])
    assert not store.wave(3).is_open and store.wave(4).is_open
    assert store.wave(3).name["fr"] == "Vague 3"


def test_waves_told_again_dated_when_they_happened_leave_the_read_model_as_it_was():
    """hrc waves announce: fresh event ids, each dated when its wave opened or closed."""
    history = [wave_opened(3, "2024-03-01T00:00:00"), wave_opened(4, "2025-03-01T00:00:00"),
               wave_closed(3, "2024-12-01T00:00:00")]
    told_again = [wave_closed(3, "2024-12-01T00:00:00"), wave_opened(4, "2025-03-01T00:00:00")]
    assert state(build(history + told_again)) == state(build(history))
    rebuilt = build(told_again)
    assert open_waves(rebuilt) == [4] and rebuilt.wave(4).name["es"] == "Ola 4"


def open_waves(store: InMemoryStore) -> list[int]:
    return [w.number for w in store.waves() if w.is_open]
