"""How the engines are set up, and how a database in trouble reaches the application: as
StorageUnavailable (HTTP 503), never as a driver error."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import psycopg2.extensions
import pytest
from sqlalchemy import Engine, text

from healthcare.adapters.sqlalchemy import SqlAlchemyReadModel, SqlAlchemyUnitOfWork
from healthcare.application.ports import StorageUnavailable
from tests.factories import UserFactory
from tests.support.databases import engine_for


def test_sqlite_writes_ahead_and_checks_foreign_keys(sqlite_url: str) -> None:
    with engine_for(sqlite_url) as engine, engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_sqlite_database_locked_past_the_timeout_is_storage_unavailable(
    sqlite_url: str,
) -> None:
    with (
        engine_for(sqlite_url) as holder,
        engine_for(sqlite_url, statement_timeout_ms=100) as waiter,
        holder.connect() as connection,
    ):
        connection.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: the write lock is held
        with pytest.raises(StorageUnavailable), waiter.connect() as blocked:
            blocked.execute(text("SELECT 1"))


def test_a_sqlite_file_that_cannot_be_opened_is_storage_unavailable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/missing/dir/healthcare.db"
    with engine_for(url) as engine, pytest.raises(StorageUnavailable), engine.connect():
        pass


@pytest.mark.postgres
def test_a_server_that_cannot_be_reached_is_storage_unavailable() -> None:
    url = "postgresql+psycopg2://postgres@127.0.0.1:1/nowhere"
    with engine_for(url) as engine, pytest.raises(StorageUnavailable), engine.connect():
        pass


@pytest.mark.postgres
def test_a_statement_over_the_time_limit_is_storage_unavailable(postgres_url: str) -> None:
    with (
        engine_for(postgres_url, statement_timeout_ms=50) as engine,
        engine.connect() as connection,
        pytest.raises(StorageUnavailable),
    ):
        connection.execute(text("SELECT pg_sleep(1)"))


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_connection_lost_mid_transaction_is_storage_unavailable_and_then_replaced(
    engine: Engine, database_url: str, sql_uow: Callable[[], SqlAlchemyUnitOfWork]
) -> None:
    with sql_uow() as uow:
        backend_pid = uow.tx.execute(text("SELECT pg_backend_pid()")).scalar()
        with engine_for(database_url) as other, other.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend_pid})
        with pytest.raises(StorageUnavailable):
            uow.users.add(UserFactory())
    with sql_uow() as uow:  # the pool let the dead connection go
        assert uow.users.get(1) is None


def _terminate(url: str, backend_pid: int) -> None:
    """Kill one server process from another connection, as a database restart would."""
    with engine_for(url) as other, other.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend_pid})


@pytest.mark.postgres
@pytest.mark.parametrize("read_only", [False, True], ids=["transaction", "read-only"])
def test_a_dead_pooled_connection_is_replaced_before_the_first_statement_fails(
    postgres_url: str, read_only: bool
) -> None:
    """The database restarted since the pooled connection was last used: nothing has happened
    yet, so the unit of work's first statement is sent again on a fresh connection."""
    with engine_for(postgres_url, pool_size=1) as engine:
        with SqlAlchemyUnitOfWork(engine) as uow:
            dead = uow.tx.execute(text("SELECT pg_backend_pid()")).scalar()
        _terminate(postgres_url, dead)
        unit = SqlAlchemyUnitOfWork(engine)
        with unit.read_only() if read_only else unit as uow:
            fresh = uow.tx.execute(text("SELECT pg_backend_pid()")).scalar()
            uow.users.get(1)
        assert fresh != dead


@pytest.mark.postgres
def test_a_read_on_a_dead_pooled_connection_answers_from_a_fresh_one(postgres_url: str) -> None:
    with engine_for(postgres_url, pool_size=1) as engine:
        reads = SqlAlchemyReadModel(engine)
        with engine.connect() as connection:
            dead = connection.execute(text("SELECT pg_backend_pid()")).scalar()
        _terminate(postgres_url, dead)
        assert reads.token_holder(1, ["jti:x"]) is None


@pytest.mark.postgres
def test_a_read_only_unit_of_work_reads_outside_a_transaction_and_returns_its_connection_clean(
    postgres_url: str,
) -> None:
    with engine_for(postgres_url, pool_size=1) as engine:
        with SqlAlchemyUnitOfWork(engine).read_only() as uow:
            uow.users.get(1)
            # No BEGIN was sent: the driver holds no open transaction after the read.
            driver = uow.tx.connection.connection.dbapi_connection
            assert driver.autocommit is True
            assert driver.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE
        with SqlAlchemyUnitOfWork(engine) as uow:  # the one pooled connection again
            uow.users.get(1)
            assert uow.tx.connection.connection.dbapi_connection is driver
            assert driver.autocommit is False
            assert driver.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_INTRANS


def test_a_sqlite_read_only_unit_of_work_does_not_wait_for_the_writers_lock(
    sqlite_url: str,
) -> None:
    with (
        engine_for(sqlite_url) as holder,
        engine_for(sqlite_url, statement_timeout_ms=100) as reader,
        holder.connect() as connection,
    ):
        connection.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: the write lock is held
        with SqlAlchemyUnitOfWork(reader).read_only() as uow:  # else unavailable after 100 ms
            assert uow.users.get(1) is None
        with pytest.raises(StorageUnavailable), SqlAlchemyUnitOfWork(reader) as uow:
            uow.users.get(1)


@pytest.mark.postgres
def test_a_connection_handed_back_inside_a_transaction_is_rolled_back_at_check_in(
    postgres_url: str,
) -> None:
    with engine_for(postgres_url, pool_size=1) as engine:
        leftover = engine.raw_connection()
        leftover.cursor().execute("SELECT 1")  # opens a transaction, never ended
        driver = leftover.dbapi_connection
        leftover.close()
        assert driver.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE
        with SqlAlchemyUnitOfWork(engine).read_only() as uow:
            assert uow.users.get(1) is None
            assert uow.tx.connection.connection.dbapi_connection is driver


@pytest.mark.postgres
def test_a_postgres_deadlock_is_transaction_aborted_for_the_use_case_to_retry(
    postgres_url: str,
) -> None:
    """Two transactions lock two rows in opposite orders: PostgreSQL aborts one of them, and the
    application sees TransactionAborted (which ``Service.retrying`` runs again)."""
    outcomes: list[str] = []
    both_hold_one = threading.Barrier(2)
    with engine_for(postgres_url) as engine:
        with engine.begin() as setup:
            setup.execute(text("CREATE TABLE deadlock_pair (id int PRIMARY KEY)"))
            setup.execute(text("INSERT INTO deadlock_pair VALUES (1), (2)"))

        def lock(first: int, second: int) -> None:
            try:
                with engine.begin() as connection:
                    lock_row = text("UPDATE deadlock_pair SET id = id WHERE id = :id")
                    connection.execute(lock_row, {"id": first})
                    both_hold_one.wait(timeout=10)
                    connection.execute(lock_row, {"id": second})
                outcomes.append("committed")
            except Exception as error:  # noqa: BLE001 - the outcome is what is tested
                outcomes.append(type(error).__name__)

        try:
            threads = [threading.Thread(target=lock, args=pair) for pair in ((1, 2), (2, 1))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
        finally:
            with engine.begin() as teardown:
                teardown.execute(text("DROP TABLE deadlock_pair"))
    assert sorted(outcomes) == ["TransactionAborted", "committed"]
