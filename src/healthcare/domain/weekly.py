"""Weekly hours, blocked periods and the booking policy: what makes a doctor's calendar.

Weekly hours are local wall-clock times in the doctor's IANA zone, so "Monday 09:00-17:00
Europe/Berlin" stays 09:00 local on both sides of a DST change; they turn into UTC instants only
when expanded for a concrete date.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from healthcare.domain.actor import Actor
from healthcare.domain.availability import ensure_still_covered
from healthcare.domain.errors import (
    AvailabilityInUse,
    BeyondHorizon,
    DailyLimitReached,
    InvalidInput,
    InvalidTimeRange,
    OverlappingAvailability,
    TooShortNotice,
)
from healthcare.domain.model import Entity, require_text
from healthcare.domain.policy import PolicyOverrides
from healthcare.domain.time import Interval, require_aware

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


@dataclass(eq=False)
class AvailabilityException(Entity):
    """A blocked period (holiday, training): no slot inside it is bookable."""

    doctor_id: int
    start: datetime
    end: datetime
    #: None only in a copy shown to someone who may not read it (see ``seen_by``).
    reason: str | None = ""
    id: int | None = None

    def __post_init__(self) -> None:
        interval = Interval(self.start, self.end)
        self.start, self.end = interval.start, interval.end
        if self.reason is not None:
            self.reason = require_text(self.reason, "reason", 500, allow_empty=True)

    @property
    def interval(self) -> Interval:
        return Interval(self.start, self.end)

    def managed_by(self, actor: Actor) -> bool:
        return actor.is_admin or (actor.is_doctor and actor.doctor_id == self.doctor_id)

    def seen_by(self, actor: Actor) -> AvailabilityException:
        """Everyone signed in sees when a doctor is away; only the doctor and admins see why
        (the reason may be personal)."""
        return self if self.managed_by(actor) else replace(self, reason=None)


@dataclass(frozen=True)
class BookingPolicy:
    """When a patient may book. The front desk (admin) may override notice, horizon and the
    daily cap for walk-ins; the buffer is physical (room turnover) and binds everyone."""

    min_notice: timedelta = timedelta(hours=2)
    horizon: timedelta = timedelta(days=90)
    buffer: timedelta = timedelta(0)
    max_per_day: int | None = None
    late_cancel_cutoff: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        for name in ("min_notice", "horizon", "buffer", "late_cancel_cutoff"):
            if getattr(self, name) < timedelta(0):
                raise InvalidInput(f"{name} must not be negative.", {name: ["Negative."]})
        if self.max_per_day is not None and self.max_per_day < 1:
            raise InvalidInput("max_per_day is at least 1.", {"max_per_day": ["At least 1."]})

    def earliest_start(self, now: datetime) -> datetime:
        return require_aware(now, "now") + self.min_notice

    def latest_start(self, now: datetime) -> datetime:
        return require_aware(now, "now") + self.horizon

    def is_late_cancellation(self, start: datetime, now: datetime) -> bool:
        return start - now < self.late_cancel_cutoff

    def with_overrides(self, overrides: PolicyOverrides) -> BookingPolicy:
        """This clinic-wide policy with a doctor's own choices applied."""
        return replace(self, **overrides.changes())

    def check_timing(self, start: datetime, now: datetime) -> None:
        """Minimum notice and horizon (they bind patients; the front desk may override)."""
        if start < self.earliest_start(now):
            raise TooShortNotice(_wire(self.earliest_start(now)))
        if start > self.latest_start(now):
            raise BeyondHorizon(_wire(self.latest_start(now)))

    def check_daily_cap(self, booked_that_day: int) -> None:
        if self.max_per_day is not None and booked_that_day >= self.max_per_day:
            raise DailyLimitReached()


def _wire(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local_day(instant: datetime, tz: ZoneInfo) -> Interval:
    """The UTC span of the doctor's local calendar day that ``instant`` falls on."""
    day = require_aware(instant, "instant").astimezone(tz).date()
    return Interval(local_instant(day, time(0), tz), local_instant(day + timedelta(days=1), time(0), tz))


@dataclass
class Calendar:
    """A doctor's open time in a range: one-off windows and weekly hours add time, blocked
    periods remove it. Booking checks and slot search both ask this one object."""

    tz: ZoneInfo
    windows: list[Interval] = field(default_factory=list)
    rules: list[AvailabilityRule] = field(default_factory=list)
    blocked: list[Interval] = field(default_factory=list)

    def open_intervals(self, within: Interval) -> list[Interval]:
        """Windows and rule occurrences overlapping ``within``, sorted (each one a unit: an
        appointment must fit inside one of them)."""
        found = [w for w in self.windows if w.overlaps(within)]
        for rule in self.rules:
            found.extend(rule.occurrences(within, self.tz))
        return sorted(set(found))

    def is_open(self, slot: Interval) -> bool:
        return any(w.contains(slot) for w in self.open_intervals(slot)) and not any(
            slot.overlaps(b) for b in self.blocked
        )

    def ensure_keeps(self, booked: Iterable[Interval]) -> None:
        """Refuse a change to the calendar that would leave an active appointment outside
        every open interval, or inside a blocked period."""
        for appointment in booked:
            ensure_still_covered(self.open_intervals(appointment), [appointment])
            if any(appointment.overlaps(b) for b in self.blocked):
                raise AvailabilityInUse()
