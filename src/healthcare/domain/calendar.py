"""A doctor's calendar: their open time in a range, from one-off windows and weekly hours, less
blocked periods. Booking checks, slot search and calendar changes all ask this one object."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from healthcare.domain.availability import ensure_still_covered
from healthcare.domain.errors import AvailabilityInUse
from healthcare.domain.time import Interval, require_aware
from healthcare.domain.weekly_hours import AvailabilityRule, local_instant


def local_day(instant: datetime, tz: ZoneInfo) -> Interval:
    """The UTC span of the doctor's local calendar day that ``instant`` falls on."""
    day = require_aware(instant, "instant").astimezone(tz).date()
    return Interval(local_instant(day, time(0), tz), local_instant(day + timedelta(days=1), time(0), tz))


@dataclass
class Calendar:
    """One-off windows and weekly hours add time, blocked periods remove it; ``busy`` is the
    time the doctor's active appointments hold (each with its buffer), ``patient_busy`` a
    patient's own active appointments, where a search for that patient loaded them."""

    tz: ZoneInfo
    windows: list[Interval] = field(default_factory=list)
    rules: list[AvailabilityRule] = field(default_factory=list)
    blocked: list[Interval] = field(default_factory=list)
    busy: list[Interval] = field(default_factory=list)
    patient_busy: list[Interval] = field(default_factory=list)

    def open_intervals(self, within: Interval) -> list[Interval]:
        """Windows and rule occurrences overlapping ``within``, sorted (each one a unit: an
        appointment must fit inside one of them)."""
        found = [w for w in self.windows if w.overlaps(within)]
        for rule in self.rules:
            found.extend(rule.occurrences(within, self.tz))
        return sorted(set(found))

    def ensure_keeps(self, booked: Iterable[Interval]) -> None:
        """Refuse a change to the calendar that would leave an active appointment outside
        every open interval, or inside a blocked period."""
        for appointment in booked:
            ensure_still_covered(self.open_intervals(appointment), [appointment])
            if any(appointment.overlaps(b) for b in self.blocked):
                raise AvailabilityInUse()
