"""console's handler registry: one handler for each event the catalogue says console consumes."""
from services.console.handlers import handlers
from shared.events import subscriptions


def test_the_handlers_cover_exactly_the_catalogue_subscriptions():
    assert handlers.types() == {t.name for t in subscriptions("console")}
