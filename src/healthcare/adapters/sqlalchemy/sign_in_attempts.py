"""Sign-in attempts counted in the application's database (the default): every worker and
instance that shares the database shares the counts, with no other service to run.

One row per bucket. Counting is one INSERT ... ON CONFLICT DO UPDATE ... RETURNING for all the
attempt's buckets: PostgreSQL takes each row's lock for the update, so concurrent upserts of one
bucket queue and each reads the count the previous one wrote; SQLite has one writer at a time.
No increment is lost and no two callers see the same count. Buckets are upserted in key order,
so two attempts never wait on each other's rows in opposite orders.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine, and_, bindparam, case, delete, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from healthcare.adapters.sqlalchemy.rows import SignInAttemptRow
from healthcare.adapters.sqlalchemy.types import UtcDateTime
from healthcare.domain.sign_in import Bucket, Tally

ATTEMPTS = SignInAttemptRow.__table__
_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


class SqlAlchemySignInAttempts:
    #: Rows of ended windows deleted each time a window opens: the table holds the buckets of
    #: the last window or so, however long the service runs.
    PURGE_BATCH = 100

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._insert = _INSERT[engine.dialect.name]

    def add(self, buckets: Sequence[Bucket], now: datetime) -> list[Tally]:
        table = ATTEMPTS.c
        ended = table.window_ends <= literal(now, UtcDateTime())
        rows = [
            {"bucket": b.key, "attempts": 1, "window_ends": now + b.allowance.window}
            for b in sorted(buckets, key=lambda b: b.key)
        ]
        statement = self._insert(ATTEMPTS).values(rows)
        upsert = statement.on_conflict_do_update(
            index_elements=[table.bucket],
            set_={
                "attempts": case((ended, 1), else_=table.attempts + 1),
                "window_ends": case((ended, statement.excluded.window_ends), else_=table.window_ends),
            },
        ).returning(table.bucket, table.attempts, table.window_ends)
        with self.engine.begin() as connection:
            counted = {row.bucket: Tally(row.attempts, row.window_ends) for row in connection.execute(upsert)}
        if any(tally.attempts == 1 for tally in counted.values()):
            self._purge(now)
        return [counted[bucket.key] for bucket in buckets]

    def give_back(self, tallies: Sequence[tuple[Bucket, Tally]], now: datetime) -> None:
        table = ATTEMPTS.c
        uncount = (
            update(ATTEMPTS)
            .where(
                and_(
                    table.bucket == bindparam("key"),
                    table.window_ends == bindparam("ends", type_=UtcDateTime()),
                    table.attempts > 0,
                )
            )
            .values(attempts=table.attempts - 1)
        )
        current = [
            {"key": bucket.key, "ends": tally.window_ends}
            for bucket, tally in tallies
            if tally.window_ends > now
        ]
        if current:
            with self.engine.begin() as connection:
                connection.execute(uncount, current)

    def _purge(self, now: datetime) -> None:
        """Delete a batch of buckets whose window has ended. Its own short transaction, which
        skips rows another transaction holds (PostgreSQL), so it never waits or deadlocks."""
        ended = (
            select(ATTEMPTS.c.bucket)
            .where(ATTEMPTS.c.window_ends <= now)
            .limit(self.PURGE_BATCH)
            .with_for_update(skip_locked=True)
        )
        with self.engine.begin() as connection:
            connection.execute(delete(ATTEMPTS).where(ATTEMPTS.c.bucket.in_(ended.scalar_subquery())))
