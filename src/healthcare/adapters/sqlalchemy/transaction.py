"""One unit of database work on one pooled connection: the statements of a use case, or a read.

Made with ``reading(engine)`` it only reads: on PostgreSQL each statement then runs in
autocommit (no BEGIN and COMMIT round trips; one statement that also writes, as an audited read
does, commits on its own), on SQLite in a deferred transaction that does not queue behind the
writer. Otherwise it is a transaction, committed by ``commit`` and rolled back on exit.

Connections are not pinged when they leave the pool (a round trip per request). A pooled
connection may therefore be dead, after the database restarted since it was last used: when the
very first statement fails that way, nothing has happened yet, so the connection is replaced
(SQLAlchemy also discards the rest of the pool) and the statement sent again, once. A connection
lost later is ``StorageUnavailable`` (503): something may have happened.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from sqlalchemy import Connection, Engine

from healthcare.adapters.sqlalchemy.engine import READ_ONLY, ConnectionLost


def reading(engine: Engine) -> Engine:
    """``engine`` marked for read-only transactions (see the hooks in ``engine``)."""
    return engine.execution_options(**{READ_ONLY: True})


class Transaction:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        #: "postgresql" or "sqlite", for the few statements that differ.
        self.dialect = engine.dialect.name
        self._connection: Connection | None = None
        self._first = True

    def __enter__(self) -> Self:
        self._connection = self._engine.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._connection is not None
        self._connection.close()  # rolls back whatever was not committed

    @property
    def connection(self) -> Connection:
        assert self._connection is not None, "use the transaction in a with block"
        return self._connection

    def execute(self, statement: Any, parameters: Any = None) -> Any:
        if not self._first:
            return self.connection.execute(statement, parameters)
        try:
            result = self.connection.execute(statement, parameters)
        except ConnectionLost:
            self.connection.close()
            self._connection = self._engine.connect()
            result = self._connection.execute(statement, parameters)
        self._first = False
        return result

    def commit(self) -> None:
        self.connection.commit()

    def rollback(self) -> None:
        self.connection.rollback()
