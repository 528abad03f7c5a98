"""Services whose handlers all take typed events read their stored events as kept: validated
once, when the inbox stored them (shared.inbox.stored_event)."""
from __future__ import annotations

import pytest

from services.intake import handlers as intake_handlers
from services.intake.service import IntakeService
from services.registry import handlers as registry_handlers
from services.registry.service import RegistryService
from shared.events import ApplicationReceived
from shared.inbox import Handlers, stored_event


@pytest.mark.parametrize("service, module", [(RegistryService, registry_handlers),
                                             (IntakeService, intake_handlers)])
def test_a_service_of_typed_handlers_reads_its_stored_events_as_kept(service, module):
    assert module.handlers.all_typed()
    assert service.inbox.options["read_event"] is stored_event


def test_a_handler_that_takes_the_event_itself_makes_the_handlers_not_all_typed():
    handlers = Handlers()
    handlers.handles(ApplicationReceived)(lambda received, session: None)
    assert handlers.all_typed()
    handlers.handles("wave.opened")(lambda event, session: None)
    assert not handlers.all_typed()
