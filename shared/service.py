"""What every service class of the house has: its config, its database, its outbox and
``GET /health``. A service adds its inbox (its handlers), its staff access and its routes:

    @subscribed
    class RegistryService(Service):
        name = "registry"
        inbox = Inbox(handlers)
        staff = StaffAccess(...)
"""
from __future__ import annotations

from nameko.dependency_providers import Config

from shared.db import ServiceDatabase
from shared.health import HealthRoute
from shared.reliability import Outbox


class Service(HealthRoute):
    config = Config()
    db = ServiceDatabase()
    outbox = Outbox()
