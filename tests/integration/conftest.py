"""Integration fixtures: the SQL backends only, each on a clean migrated database."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine

from healthcare.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from tests.support.databases import backend_params, engine_for


@pytest.fixture(params=backend_params("sqlite", "postgres"))
def database_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    with engine_for(database_url) as engine:
        yield engine


@pytest.fixture
def sql_uow(engine: Engine) -> Callable[[], SqlAlchemyUnitOfWork]:
    """Makes units of work on the backend under test (``uow_factory`` also covers memory)."""
    return lambda: SqlAlchemyUnitOfWork(engine)
