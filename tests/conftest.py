"""Fixtures shared by every suite.

``uow_factory`` is parametrized over the storage backends, so a use-case test written once runs
on each of them. The in-memory backend needs nothing; SQLite uses a fresh file per test;
PostgreSQL uses one fresh database per test run (see ``tests/support/databases.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from healthcare.adapters.clock import FixedClock
from healthcare.adapters.in_memory import InMemoryStore, InMemoryUnitOfWork
from healthcare.adapters.security import Argon2PasswordHasher
from healthcare.application.unit_of_work import UnitOfWork

#: Tests run in a fixed present, so "the future" never drifts into "the past".
NOW = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)  # a Monday

BACKENDS = ["memory"]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture(scope="session")
def hasher() -> Argon2PasswordHasher:
    """argon2id with test-sized cost: the production parameters are tested separately."""
    return Argon2PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def uow_factory(backend: str) -> Iterator[Callable[[], UnitOfWork]]:
    if backend == "memory":
        store = InMemoryStore()
        yield lambda: InMemoryUnitOfWork(store)
        return
    raise AssertionError(f"unknown backend {backend}")  # pragma: no cover
