"""Engines and sessions for SQLite and PostgreSQL, tuned for a multi-threaded web server."""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import psycopg2
from psycopg2.extensions import (
    TRANSACTION_STATUS_IDLE,
    TRANSACTION_STATUS_INERROR,
    TRANSACTION_STATUS_INTRANS,
)
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url

from healthcare.application.ports import StorageUnavailable, TransactionAborted

log = logging.getLogger(__name__)

POSTGRES_CONNECT_TIMEOUT_S = 5
_INSIDE_A_TRANSACTION = (TRANSACTION_STATUS_INTRANS, TRANSACTION_STATUS_INERROR)

#: PostgreSQL's "run it again" errors: deadlock_detected and serialization_failure.
_ABORTED_FOR_ANOTHER = ("40P01", "40001")

#: SQLite's OperationalErrors that mean "cannot reach the data now", not "your SQL is wrong".
_SQLITE_UNAVAILABLE = ("database is locked", "database is busy", "unable to open", "disk I/O")


def create_engine_from_url(
    url: str, *, statement_timeout_ms: int = 15000, pool_size: int = 10
) -> Engine:
    """An engine for ``url`` whose connection failures surface as ``StorageUnavailable``.

    ``statement_timeout_ms`` bounds how long one statement may take: PostgreSQL cancels it
    after that; SQLite waits that long for another writer's lock (its busy timeout).
    """
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        engine = _sqlite_engine(url, busy_timeout_ms=statement_timeout_ms, pool_size=pool_size)
    elif backend == "postgresql":
        engine = _postgres_engine(url, statement_timeout_ms, pool_size)
    else:
        raise ValueError(f"Unsupported database {backend!r}: use sqlite or postgresql+psycopg2.")
    event.listen(engine, "handle_error", _storage_unavailable, retval=True)
    return engine


#: The execution option that marks a read-only transaction's connection (``transaction.reading``):
#: on PostgreSQL it reads in autocommit, with no BEGIN and no ROLLBACK round trips; on SQLite it
#: begins a deferred transaction, a snapshot that does not wait for (or block) the writer.
READ_ONLY = "healthcare_read_only"


def _sqlite_engine(url: str, busy_timeout_ms: int, pool_size: int) -> Engine:
    # An in-memory database lives and dies with its one connection (SQLAlchemy's default
    # pool for it keeps one per thread): fit for a single-threaded script, not for serving.
    database = make_url(url).database
    in_memory = database in (None, "", ":memory:")
    engine = create_engine(
        url,
        # Sessions live in whichever web worker thread runs the request; the pool hands a
        # connection to one thread at a time.
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
        **({} if in_memory else {"pool_size": pool_size, "max_overflow": pool_size}),
    )
    queue = None if in_memory else WriterQueue(Path(str(database)), busy_timeout_ms / 1000)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Take transaction control from the driver (SQLAlchemy's documented pysqlite recipe),
        # so BEGIN below is the only one, and SELECTs and SAVEPOINTs run inside it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL lets readers of other connections go on while one writes.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        # Take the write lock up front: a deferred transaction that reads and then writes
        # fails with "database is locked" the moment another writer got there first, whereas
        # an immediate one waits its turn and then sees that writer's rows. A read-only
        # unit of work never writes, so its snapshot need not queue behind the writer.
        if connection.get_execution_options().get(READ_ONLY, False):
            connection.exec_driver_sql("BEGIN")
            return
        if queue is None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        # The pooled connection's info outlives this Connection: the check-in below reads it.
        held = connection.connection.info
        queue.enter(held)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            queue.leave(held)
            raise

    if queue is not None:

        @event.listens_for(engine, "checkin")
        def _leave_the_queue(_dbapi_connection: Any, record: Any) -> None:
            # A unit of work hands its connection back right after COMMIT or ROLLBACK.
            queue.leave(record.info)

    return engine


class WriterQueue:
    """Writers to one SQLite file take turns, across threads and processes, without sleeping.

    SQLite's own busy handler makes a writer that finds the file locked sleep in growing steps
    (up to 100 ms), so under contention a write waits far longer than the writes ahead of it
    take. Here a writer first takes a lock of its process (threads queue on it and the next is
    woken at once), then an exclusive ``flock`` on a file beside the database, which every
    process of the app (web workers, batch jobs) takes the same way; only then ``BEGIN
    IMMEDIATE``. The lock is released when the connection goes back to the pool, right after
    COMMIT or ROLLBACK; the OS releases the ``flock`` of a process that dies. Waiting longer
    than the busy timeout is ``StorageUnavailable`` (503), as SQLite's own timeout is.
    """

    #: How often the one waiting thread of a process retries another process's ``flock``.
    POLL_S = 0.0005
    HELD = "healthcare_writer_queue"

    def __init__(self, database: Path, timeout_s: float) -> None:
        self.path = database.with_name(database.name + ".writers")
        self.timeout_s = timeout_s
        self._turn = threading.Lock()
        self._file: tuple[int, Any] | None = None  # (pid, open file): a fork needs its own

    def enter(self, held: dict[str, Any]) -> None:
        if held.get(self.HELD):
            return  # this connection began again before going back to the pool
        deadline = time.monotonic() + self.timeout_s
        if not self._turn.acquire(timeout=self.timeout_s):
            raise StorageUnavailable("The database is busy; try again shortly.")
        try:
            lock_file = self._lock_file()
            while True:
                try:
                    fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StorageUnavailable("The database is busy; try again shortly.") from None
                    time.sleep(self.POLL_S)
        except BaseException:
            self._turn.release()
            raise
        held[self.HELD] = True

    def leave(self, held: dict[str, Any]) -> None:
        if held.pop(self.HELD, False):
            fcntl.flock(self._lock_file(), fcntl.LOCK_UN)
            self._turn.release()

    def _lock_file(self) -> Any:
        if self._file is None or self._file[0] != os.getpid():
            self._file = (os.getpid(), open(self.path, "a+b"))  # noqa: SIM115 - kept open
        return self._file[1]


def _postgres_engine(url: str, statement_timeout_ms: int, pool_size: int) -> Engine:
    engine = create_engine(
        url,
        # No pre-ping: it costs a round trip per checkout (two per request). After a restart the
        # first statement on a stale connection fails as a disconnect, which invalidates the
        # whole pool and answers that one request 503 (Retry-After); the next one reconnects.
        pool_pre_ping=False,
        # Every unit of work ends its transaction (commit, or rollback on exit) before the
        # session hands the connection back, so the pool's own ROLLBACK on return would be a
        # second, empty round trip per unit of work. ``_back_to_idle`` rolls back only a
        # connection that really comes back inside a transaction.
        pool_reset_on_return=None,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={
            "connect_timeout": POSTGRES_CONNECT_TIMEOUT_S,
            "options": f"-c statement_timeout={statement_timeout_ms}",
        },
    )

    # Read-only units of work run in psycopg2's autocommit, set on the driver's connection
    # directly: the isolation_level="AUTOCOMMIT" option would cost a SET round trip when the
    # connection goes back to the pool. psycopg2 then sends no BEGIN, and its rollback at the
    # session's end sends nothing.
    @event.listens_for(engine, "begin")
    def _read_without_transaction(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY, False):
            driver = connection.connection.dbapi_connection
            # Only an idle connection may switch; any other (a broken one) reads as it is, and
            # its failure surfaces as a disconnect (503), not as a refused switch (500).
            if driver.get_transaction_status() == TRANSACTION_STATUS_IDLE:
                driver.autocommit = True

    @event.listens_for(engine, "checkin")
    def _back_to_idle(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is None or dbapi_connection.closed:
            return
        try:
            # libpq knows the state without asking the server: no round trip in the usual case.
            if dbapi_connection.get_transaction_status() in _INSIDE_A_TRANSACTION:
                dbapi_connection.rollback()
            if dbapi_connection.autocommit:
                dbapi_connection.autocommit = False
        except psycopg2.Error:
            # A broken connection: its next use fails as a disconnect, which replaces the pool.
            log.warning("a pooled connection could not be reset at check-in", exc_info=True)

    return engine


class ConnectionLost(StorageUnavailable):
    """The connection died (the database restarted or the network dropped it)."""


def _storage_unavailable(context: ExceptionContext) -> BaseException | None:
    """Connection loss, timeouts and lock waits become ``StorageUnavailable`` (HTTP 503)."""
    if context.is_pre_ping:
        return None  # the pool handles a dead pooled connection by reconnecting
    error = context.original_exception
    if getattr(error, "pgcode", None) in _ABORTED_FOR_ANOTHER:
        aborted = TransactionAborted("A concurrent transaction won; try again.")
        aborted.__cause__ = error
        return aborted
    if context.is_disconnect:
        lost = ConnectionLost("The database connection was lost; try again shortly.")
        lost.__cause__ = error
        return lost
    if _is_unavailable(error):
        unavailable = StorageUnavailable("The database is unavailable; try again shortly.")
        unavailable.__cause__ = error
        return unavailable
    return None


def _is_unavailable(error: BaseException) -> bool:
    if isinstance(error, sqlite3.OperationalError):
        return any(reason in str(error) for reason in _SQLITE_UNAVAILABLE)
    # Includes a server that is down, a query cancelled by statement_timeout and a deadlock.
    return isinstance(error, psycopg2.OperationalError)
