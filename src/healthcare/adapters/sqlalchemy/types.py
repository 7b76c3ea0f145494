"""Column types that keep the domain's promise: every instant is timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

#: SQLite stores "YYYY-MM-DD HH:MM:SS.ffffff" in UTC: fixed width and zero padded, so text
#: order is time order and SQLite triggers and indexes may compare the strings directly.
SQLITE_WIDTH = len("2030-01-07 08:00:00.000000")


class UtcDateTime(TypeDecorator[datetime]):
    """TIMESTAMP WITH TIME ZONE on PostgreSQL; sortable UTC text on SQLite.

    A naive datetime is refused on the way in rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(SQLITE_WIDTH))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored; the domain is UTC-aware")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # isoformat pads the year to four digits, unlike strftime("%Y").
            return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        # psycopg2 hands out the UTC singleton when the session's TimeZone is UTC.
        return value if value.tzinfo is UTC else value.astimezone(UTC)
