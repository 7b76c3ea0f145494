"""Time values: every instant in the domain is timezone-aware and normalised to UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from healthcare.domain.errors import InvalidInput, InvalidTimeRange, NaiveDatetime


def require_aware(value: datetime, field: str = "datetime") -> datetime:
    """Return ``value`` in UTC; a naive datetime is refused, never guessed."""
    if value.tzinfo is UTC:  # what the databases return: nothing to check or convert
        return value
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise NaiveDatetime(field)
    return value.astimezone(UTC)


def wire_text(instant: datetime) -> str:
    """An instant as the API writes it: UTC, with a ``Z``."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``; anything else (paths, abbreviations) is invalid input."""
    if name not in _known_zones():
        raise InvalidInput(
            f"Unknown time zone {name!r}; use an IANA name such as Europe/Berlin.",
            {"timezone": ["Unknown IANA time zone."]},
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # pragma: no cover - tzdata mismatch
        raise InvalidInput(f"Unknown time zone {name!r}.") from exc


_ZONES: frozenset[str] | None = None


def _known_zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones()) | {"UTC"}
    return _ZONES


@dataclass(frozen=True, order=True)
class Interval:
    """A half-open UTC interval ``[start, end)``; touching intervals do not overlap."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", require_aware(self.start, "start"))
        object.__setattr__(self, "end", require_aware(self.end, "end"))
        if self.end <= self.start:
            raise InvalidTimeRange(
                "The end must be after the start.", {"end": ["Must be after the start."]}
            )

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        return self.start <= other.start and other.end <= self.end
