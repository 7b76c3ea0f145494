"""Integration fixtures: the SQL backends only, each on a clean migrated database."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine

from healthcare.adapters.sqlalchemy import SqlAlchemyUnitOfWork, make_session_factory
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
    writing = make_session_factory(engine)
    reading = make_session_factory(engine, read_only=True)
    return lambda: SqlAlchemyUnitOfWork(writing, reading)
