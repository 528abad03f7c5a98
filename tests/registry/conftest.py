"""The registry's database on SQLite and on PostgreSQL, migrated, for integration and e2e tests."""
from __future__ import annotations

import pytest

from services.registry.service import MIGRATIONS
from shared import db as shared_db


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> shared_db.Database:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/registry.db"
    else:
        url = request.getfixturevalue("postgres")("registry").url
    shared_db.migrate(url, MIGRATIONS)
    yield shared_db.database_for(url)
    shared_db.dispose_all()


@pytest.fixture
def postgresql_database(postgres) -> shared_db.Database:
    """For what only PostgreSQL can show: writers interleaving (SQLite serialises them)."""
    url = postgres("registry").url
    shared_db.migrate(url, MIGRATIONS)
    yield shared_db.database_for(url)
    shared_db.dispose_all()
