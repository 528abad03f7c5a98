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
