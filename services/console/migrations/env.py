from services.console.db import metadata
from shared.migrations import run_migrations

run_migrations(metadata)
