"""A service's handler registry (shared.inbox.Handlers): one handler per event type."""
import pytest

from shared.inbox import Handlers


def test_handlers_are_found_by_the_type_they_handle():
    handlers = Handlers()

    @handlers.handles("application.received")
    def receive(event, session):
        return None

    assert handlers({}) == {"application.received": receive}


def test_a_second_handler_for_one_type_is_refused():
    handlers = Handlers()
    handlers.handles("wave.opened")(lambda event, session: None)
    with pytest.raises(ValueError, match="wave.opened"):
        handlers.handles("wave.opened")(lambda event, session: None)



def test_a_typed_handler_takes_its_event_built_from_the_envelope():
    from shared.events import ApplicationWithdrawalRequested, new_event

    handlers = Handlers()
    taken = []

    @handlers.handles(ApplicationWithdrawalRequested)
    def withdrew(request, session):
        taken.append(request)

    event = new_event("application.withdrawal_requested", {"reference": "HRC-2026-ABCDE"})
    handlers()["application.withdrawal_requested"](event, None)
    assert taken == [ApplicationWithdrawalRequested(reference="HRC-2026-ABCDE", reason=None)]


def test_one_handler_may_handle_every_step_of_the_review():
    from shared.events import APPLICATION_STEPS, ApplicationStep, new_event

    handlers = Handlers()
    taken = []

    @handlers.handles(*APPLICATION_STEPS)
    def follow(step: ApplicationStep, session):
        taken.append(type(step).__name__)

    assert handlers.types() == {kind.type for kind in APPLICATION_STEPS}
    handlers()["application.declined"](new_event("application.declined", {
        "application_id": 1, "reference": "HRC-2026-ABCDE", "reason": "Incomplete"}), None)
    assert taken == ["ApplicationDeclined"]
