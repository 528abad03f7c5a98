"""The machinery tables (outbox, inbox) alone, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from shared import db as shared_db


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/machinery.db"
    else:
        url = request.getfixturevalue("postgres")("machinery").url
    database = shared_db.database_for(url)
    shared_db.Base.metadata.create_all(database.engine)
    yield database
    database.engine.dispose()
    shared_db._databases.pop(url, None)


@pytest.fixture
def postgresql_database(postgres):
    """The machinery tables on PostgreSQL alone, for what only PostgreSQL does."""
    database = shared_db.database_for(postgres("machinery").url)
    shared_db.Base.metadata.create_all(database.engine)
    yield database
    database.dispose()
    shared_db._databases.pop(database.url, None)
