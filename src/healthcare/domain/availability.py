"""Availability windows and the rules that keep them bookable."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from healthcare.domain.entity import Entity
from healthcare.domain.errors import (
    AvailabilityInUse,
    InPast,
    InvalidTimeRange,
    OverlappingAvailability,
)
from healthcare.domain.time import Interval

MAX_WINDOW = timedelta(hours=24)


@dataclass(eq=False)
class Availability(Entity):
    doctor_id: int
    start: datetime
    end: datetime
    id: int | None = None

    def __post_init__(self) -> None:
        interval = Interval(self.start, self.end)  # validates awareness and order
        self.start, self.end = interval.start, interval.end

    @property
    def interval(self) -> Interval:
        return Interval(self.start, self.end)


def validate_window(window: Interval, appointment_minutes: int, now: datetime | None) -> None:
    """A window holds at least one appointment, lasts at most 24 h and is not in the past.

    ``now`` is None when the start is not being set, so a window already under way may still
    have its end moved.
    """
    if window.duration < timedelta(minutes=appointment_minutes):
        raise InvalidTimeRange(
            f"A window must be at least one appointment long ({appointment_minutes} minutes).",
            {"end_time": ["Window shorter than one appointment."]},
        )
    if window.duration > MAX_WINDOW:
        raise InvalidTimeRange(
            "A window lasts at most 24 hours.", {"end_time": ["Window longer than 24 hours."]}
        )
    if now is not None and window.start < now:
        raise InPast("A window cannot start in the past.", {"start_time": ["In the past."]})


def ensure_no_overlap(window: Interval, others: Iterable[Availability]) -> None:
    if any(window.overlaps(other.interval) for other in others):
        raise OverlappingAvailability()


def ensure_still_covered(windows: Iterable[Interval], appointments: Iterable[Interval]) -> None:
    """Refuse a change that would strand an active appointment outside every window."""
    remaining = list(windows)
    for appointment in appointments:
        if not any(w.contains(appointment) for w in remaining):
            raise AvailabilityInUse()
