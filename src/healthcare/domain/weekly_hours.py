"""Weekly hours: a doctor's recurring hours, as local wall-clock times in the doctor's IANA zone.

"Monday 09:00-17:00 Europe/Berlin" stays 09:00 local on both sides of a DST change; the hours
turn into UTC instants only when expanded for a concrete date.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from healthcare.domain.entity import Entity
from healthcare.domain.errors import (
    InvalidInput,
    InvalidTimeRange,
    OverlappingAvailability,
)
from healthcare.domain.time import Interval

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``at`` on ``day`` in ``tz``.

    PEP 495's ``fold=0`` settles the two DST edge cases the way calendars usually do: a wall
    time in the spring-forward gap (02:30 that never happens) is shifted forward by the gap
    (03:30 summer time), and one in the autumn overlap (01:30 that happens twice) is its first
    occurrence.
    """
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


@dataclass(eq=False)
class AvailabilityRule(Entity):
    """Every ``weekday`` (0 = Monday), ``start_time``-``end_time`` local, within validity."""

    doctor_id: int
    weekday: int
    start_time: time
    end_time: time
    valid_from: date
    valid_until: date | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise InvalidInput("weekday is 0 (Monday) to 6 (Sunday).", {"weekday": ["0 to 6."]})
        if self.end_time <= self.start_time:
            raise InvalidTimeRange(
                "end_time must be after start_time (hours end the same day).",
                {"end_time": ["Must be after start_time."]},
            )
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise InvalidTimeRange(
                "valid_until is before valid_from.", {"valid_until": ["Before valid_from."]}
            )

    def applies_on(self, day: date) -> bool:
        return (
            day.weekday() == self.weekday
            and day >= self.valid_from
            and (self.valid_until is None or day <= self.valid_until)
        )

    def overlaps(self, other: AvailabilityRule) -> bool:
        """Same weekday, overlapping hours and overlapping validity (touching is fine)."""
        if self.weekday != other.weekday:
            return False
        if not (self.start_time < other.end_time and other.start_time < self.end_time):
            return False
        self_until = self.valid_until or date.max
        other_until = other.valid_until or date.max
        return self.valid_from <= other_until and other.valid_from <= self_until

    def occurrences(self, within: Interval, tz: ZoneInfo) -> Iterator[Interval]:
        """The rule's windows that overlap ``within``, as UTC intervals."""
        first = within.start.astimezone(tz).date() - timedelta(days=1)
        last = within.end.astimezone(tz).date() + timedelta(days=1)
        day = first + timedelta(days=(self.weekday - first.weekday()) % 7)
        while day <= last:
            if self.applies_on(day):
                start = local_instant(day, self.start_time, tz)
                end = local_instant(day, self.end_time, tz)
                if end > start:
                    window = Interval(start, end)
                    if window.overlaps(within):
                        yield window
            day += timedelta(days=7)

    def validity(self, tz: ZoneInfo) -> Interval:
        """The UTC span the rule's occurrences can fall in (open-ended rules: to year 2999)."""
        until = self.valid_until or date(2999, 12, 30)
        return Interval(
            local_instant(self.valid_from, time(0), tz),
            local_instant(until + timedelta(days=1), time(0), tz),
        )


def ensure_rule_fits(rule: AvailabilityRule, others: Iterable[AvailabilityRule]) -> None:
    if any(rule.overlaps(other) for other in others if other.id != rule.id):
        raise OverlappingAvailability()


def validate_rule_hours(rule: AvailabilityRule, appointment_minutes: int) -> None:
    """Like a window, a rule's hours hold at least one appointment."""
    length = datetime.combine(date.min, rule.end_time) - datetime.combine(date.min, rule.start_time)
    if length < timedelta(minutes=appointment_minutes):
        raise InvalidTimeRange(
            f"The hours must be at least one appointment long ({appointment_minutes} minutes).",
            {"end_time": ["Shorter than one appointment."]},
        )
