import pytest

from services.reports.service import MIGRATIONS
from shared.db import Database, database_for, migrate


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.real)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'reports.db'}"
    return request.getfixturevalue("postgres")("reports").url


@pytest.fixture
def database(database_url) -> Database:
    migrate(database_url, MIGRATIONS)
    return database_for(database_url)
