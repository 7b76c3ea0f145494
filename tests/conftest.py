"""Fixtures shared by every suite.

``uow_factory`` is parametrized over the storage backends, so a use-case test written once runs
on each of them. The in-memory backend needs nothing; SQLite uses a fresh file per test;
PostgreSQL uses one fresh database per test run and worker, emptied before each test (see
``tests/support/databases.py``). ``sqlite_url`` and ``postgres_url`` give a clean, migrated
database to tests that build their own engine (the Flask app, the concurrency tests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from healthcare.adapters.clock import FixedClock
from healthcare.adapters.in_memory import InMemoryStore, InMemoryUnitOfWork
from healthcare.adapters.security import Argon2PasswordHasher
from healthcare.adapters.in_memory.read_model import InMemoryReadModel
from healthcare.adapters.sqlalchemy import SqlAlchemyReadModel, SqlAlchemyUnitOfWork
from healthcare.application.read_model import ReadModel
from healthcare.application.unit_of_work import UnitOfWork
from tests.support.databases import (
    PostgresTestDatabase,
    backend_params,
    engine_for,
    fresh_sqlite_database,
    migrate_sqlite_template,
    require_postgres,
)

#: Tests run in a fixed present, so "the future" never drifts into "the past".
NOW = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)  # a Monday

BACKENDS = ["memory", "sqlite", "postgres"]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture(scope="session")
def hasher() -> Argon2PasswordHasher:
    """argon2id with test-sized cost: the production parameters are tested separately."""
    return Argon2PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(params=backend_params(*BACKENDS))
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@dataclass(frozen=True)
class Storage:
    """One backend's write side (units of work) and read side, on the same data."""

    uow_factory: Callable[[], UnitOfWork]
    read_model: ReadModel


@pytest.fixture
def storage(backend: str, request: pytest.FixtureRequest) -> Iterator[Storage]:
    if backend == "memory":
        store = InMemoryStore()
        yield Storage(lambda: InMemoryUnitOfWork(store), InMemoryReadModel(store))
        return
    url = request.getfixturevalue(f"{backend}_url")
    with engine_for(url) as engine:
        yield Storage(lambda: SqlAlchemyUnitOfWork(engine), SqlAlchemyReadModel(engine))


@pytest.fixture
def uow_factory(storage: Storage) -> Callable[[], UnitOfWork]:
    return storage.uow_factory


@pytest.fixture
def read_model(storage: Storage) -> ReadModel:
    return storage.read_model


# -- databases -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrate_sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A new, migrated SQLite database file for this test."""
    return fresh_sqlite_database(sqlite_template, tmp_path)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[PostgresTestDatabase]:
    require_postgres()
    with PostgresTestDatabase.created() as database:
        yield database


@pytest.fixture
def postgres_url(postgres_database: PostgresTestDatabase) -> str:
    """This run's migrated PostgreSQL database, emptied for this test."""
    postgres_database.truncate()
    return postgres_database.url
