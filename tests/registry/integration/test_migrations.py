from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from services.registry.service import MIGRATIONS


def alembic(database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def test_migrations_go_down_and_up_again(database):
    tables = {"applications", "members", "waves", "audit_log", "staff_tokens", "outbox", "inbox"}
    assert tables <= set(inspect(database.engine).get_table_names())
    with database.engine.begin() as connection:
        config = alembic(database)
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
        assert "waves" not in inspect(connection).get_table_names()
        command.upgrade(config, "head")
        assert tables <= set(inspect(connection).get_table_names())


FORM = {
    "jurisdiction_type": "municipality", "population": 29000, "website": "https://grigny91.fr",
    "authority_name": "Philippe Rio", "authority_title": "Maire", "contact_name": "Amanda Test",
    "contact_position": "Chargée de mission", "contact_email": "amanda@example.org",
    "contact_phone": None, "language": "fr", "themes": ["housing", "culture"],
    "commitment": "Nous nous engageons à faire des droits humains une réalité locale.",
    "frameworks": None, "listing_consent": True,
}


def test_the_form_moves_into_columns_of_its_own_and_back(database):
    """0007: an application stored with its form in JSON reads the same, field by field, as
    the mapped Application; going down rebuilds the form."""
    from services.registry.db import registry

    received_at = datetime(2024, 5, 2, 9, 30)
    with database.engine.begin() as connection:
        config = alembic(database)
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
        old = sa.table("applications", *(sa.column(name) for name in (
            "reference", "status", "government_name", "country", "received_at", "region",
            "possible_duplicate", "erased", "imported", "version")),
            sa.column("form", sa.JSON), sa.column("possible_duplicates", sa.JSON))
        connection.execute(old.insert().values(
            reference="HRC-2024-OLD01", status="waitlisted", government_name="Ville de Grigny",
            country="FR", received_at=received_at, region="Europe", possible_duplicate=False,
            erased=False, imported=False, version=1, form=FORM, possible_duplicates=None))
        command.upgrade(config, "head")
    with registry(database) as store:
        application = store.application_by_reference("HRC-2024-OLD01")
        assert {name: getattr(application, name) for name in FORM} == FORM
        assert application.submitted_at == received_at.replace(tzinfo=UTC)
        assert application.possible_duplicates == []
        assert store.applications(language="fr", theme="culture").total == 1
        assert store.applications(theme="food").total == 0
    with database.engine.begin() as connection:
        config = alembic(database)
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
        form = connection.execute(sa.select(sa.table("applications", sa.column(
            "form", sa.JSON)).c.form)).scalar_one()
        command.upgrade(config, "head")
    assert form == FORM
