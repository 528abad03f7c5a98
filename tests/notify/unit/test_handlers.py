"""notify's handler registry: one handler for each event the catalogue says notify consumes."""
from services.notify.handlers import handlers
from shared.events import subscriptions


def test_the_handlers_cover_exactly_the_catalogue_subscriptions():
    assert handlers.types() == {t.name for t in subscriptions("notify")}
