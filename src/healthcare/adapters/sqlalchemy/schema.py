"""Schema management: Alembic migrations, configured from code, are the only way tables are made."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def upgrade_schema(engine: Engine, revision: str = "head") -> None:
    """Migrate to ``revision`` (the newest by default), in one transaction."""
    with _migrating(engine) as connection:
        command.upgrade(_config(connection), revision)


def downgrade_schema(engine: Engine, revision: str = "base") -> None:
    with _migrating(engine) as connection:
        command.downgrade(_config(connection), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for an empty (never migrated) database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the migration history is empty"
    return head


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Building an index or constraint on a large table may take longer than the
            # request time limit the engine sets; a migration must not be cut short by it.
            connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        yield connection


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config
