"""The migrations build, remove and rebuild the schema on both engines, matching the rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from healthcare.adapters.sqlalchemy import (
    current_revision,
    downgrade_schema,
    head_revision,
    upgrade_schema,
)
from healthcare.adapters.sqlalchemy.rows import Base
from tests.support.databases import (
    PostgresTestDatabase,
    backend_params,
    engine_for,
    require_postgres,
    sqlite_url,
)

#: The migrations must build exactly the tables the row classes map.
TABLES = set(Base.metadata.tables)
#: Differences between the migrated schema and the row classes that would matter to the ORM
#: (column changes come as nested lists). Indexes, constraints and triggers live only in the
#: migration, on purpose.
TABLE_DIFFERENCES = {"add_table", "remove_table", "add_column", "remove_column"}


@pytest.fixture(params=backend_params("sqlite", "postgres"))
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database no migration has touched."""
    if request.param == "sqlite":
        with engine_for(sqlite_url(tmp_path / "empty.db")) as engine:
            yield engine
        return
    require_postgres()
    with PostgresTestDatabase.created(migrated=False) as database:
        yield database.engine


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_the_schema_goes_up_down_and_up_again(empty_engine: Engine) -> None:
    assert current_revision(empty_engine) is None

    upgrade_schema(empty_engine)
    assert current_revision(empty_engine) == head_revision()
    assert tables(empty_engine) == TABLES

    downgrade_schema(empty_engine)
    assert current_revision(empty_engine) is None
    assert tables(empty_engine) == set()

    upgrade_schema(empty_engine)
    assert current_revision(empty_engine) == head_revision()
    assert tables(empty_engine) == TABLES


def test_upgrading_an_up_to_date_schema_changes_nothing(engine: Engine) -> None:
    upgrade_schema(engine)
    assert current_revision(engine) == head_revision()


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_the_row_classes_describe_the_migrated_tables(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    columns_or_types = [d for d in differences if isinstance(d, list) or d[0] in TABLE_DIFFERENCES]
    assert columns_or_types == []
