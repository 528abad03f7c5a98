"""The registry's handlers.py: one handler for each event type it subscribes to."""
from services.registry.handlers import handlers
from shared.events import subscriptions


def test_the_registrys_handlers_cover_what_it_subscribes_to():
    assert set(handlers()) == {event_type.name for event_type in subscriptions("registry")}
