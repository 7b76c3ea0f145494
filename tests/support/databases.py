"""Real databases for tests.

PostgreSQL: one uniquely named database per test run and per pytest-xdist worker, migrated
once, emptied (TRUNCATE) before each test and dropped when the run ends, so parallel runs never
meet and nothing is left behind. SQLite: a template file migrated once per run and copied for
each test, which is much faster than migrating every time.

PostgreSQL is found at ``TEST_POSTGRES_URL`` (a database the tests may connect to as a user who
may create databases), by default ``postgresql+psycopg2://postgres@127.0.0.1:5432/postgres``.
"""

from __future__ import annotations

import functools
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, TextClause, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from healthcare.adapters.sqlalchemy import create_engine_from_url, upgrade_schema

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
DATABASE_PREFIX = "healthcare_test_"
ALEMBIC_TABLE = "alembic_version"


# -- PostgreSQL ------------------------------------------------------------------------------


def require_postgres(admin_url: str = POSTGRES_ADMIN_URL) -> None:
    """Skip when PostgreSQL is unreachable on a developer's machine, but fail under CI:
    a CI run must never turn green by skipping the database it is there to test."""
    problem = _postgres_problem(admin_url)
    if problem is None:
        return
    message = (
        f"PostgreSQL is unreachable at {make_url(admin_url).render_as_string()}: {problem}. "
        "Start it (e.g. `pg_ctlcluster <version> main start`) or point TEST_POSTGRES_URL at one."
    )
    unavailable(message)


def unavailable(message: str) -> None:
    """A service a test needs is missing: skip on a newcomer's machine, fail under CI."""
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def require_redis(url: str = REDIS_URL) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        unavailable(
            f"Redis is unreachable at {url}: {error}. Start it (redis-server) or set TEST_REDIS_URL."
        )


@functools.cache
def _postgres_problem(admin_url: str) -> str | None:
    engine = create_engine(admin_url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        return str(error.orig).strip().splitlines()[0]
    finally:
        engine.dispose()
    return None


def worker_name() -> str:
    """The pytest-xdist worker ("gw0", …), or "main" when the run is not distributed."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


class PostgresTestDatabase:
    """A fresh, migrated database of its own, until :meth:`drop`."""

    def __init__(self, admin_url: str = POSTGRES_ADMIN_URL) -> None:
        self.admin_url = admin_url
        self.name = f"{DATABASE_PREFIX}{worker_name()}_{uuid.uuid4().hex[:12]}"
        self.url = make_url(admin_url).set(database=self.name).render_as_string(hide_password=False)
        self.engine = create_engine_from_url(self.url, pool_size=2)

    @classmethod
    @contextmanager
    def created(
        cls, admin_url: str = POSTGRES_ADMIN_URL, *, migrated: bool = True
    ) -> Iterator[PostgresTestDatabase]:
        """A new database, migrated to head unless told otherwise, dropped on exit."""
        database = cls(admin_url)
        database._execute_as_admin(f'CREATE DATABASE "{database.name}"')
        try:
            if migrated:
                upgrade_schema(database.engine)
            yield database
        finally:
            database.drop()

    def truncate(self) -> None:
        """Empty every table (the schema and its revision stay), ids starting again at 1."""
        with self.engine.begin() as connection:
            connection.execute(self._truncate_statement)

    @functools.cached_property
    def _truncate_statement(self) -> TextClause:
        tables = sorted(set(inspect(self.engine).get_table_names()) - {ALEMBIC_TABLE})
        return text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")

    def drop(self) -> None:
        self.engine.dispose()
        # FORCE: engines a test forgot to dispose must not keep the database alive.
        self._execute_as_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def _execute_as_admin(self, statement: str) -> None:
        # CREATE and DROP DATABASE cannot run inside a transaction.
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(statement))
        finally:
            admin.dispose()


# -- SQLite ----------------------------------------------------------------------------------


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def migrate_sqlite_template(directory: Path) -> Path:
    """A migrated database file to copy for each test."""
    path = directory / "template.db"
    engine = create_engine_from_url(sqlite_url(path))
    try:
        upgrade_schema(engine)
    finally:
        # Closing the last connection checkpoints the WAL into the file, so the file alone
        # is the whole database.
        engine.dispose()
    assert not path.with_name(path.name + "-wal").exists(), "the template's WAL was not merged"
    return path


def fresh_sqlite_database(template: Path, directory: Path) -> str:
    """The URL of a new copy of ``template`` in ``directory``."""
    path = directory / "healthcare.db"
    shutil.copyfile(template, path)
    return sqlite_url(path)


# -- either ----------------------------------------------------------------------------------


def backend_params(*names: str) -> list[Any]:
    """Parameters for a fixture parametrized over backends, PostgreSQL's marked ``postgres``
    (so ``-m "not postgres"`` deselects them)."""
    return [
        pytest.param(name, marks=[pytest.mark.postgres] if name == "postgres" else [])
        for name in names
    ]


@contextmanager
def engine_for(url: str, **options: int) -> Iterator[Engine]:
    """An engine built the way the application builds it, disposed afterwards."""
    engine = create_engine_from_url(url, **options)
    try:
        yield engine
    finally:
        engine.dispose()
