"""The booking policy: when a patient may book, and the buffer that binds everyone.

One type for the clinic's defaults (from the settings) and for a doctor's own choices: a field
a doctor leaves ``None`` takes the clinic's value (``doctor.policy.over(clinic)``), so changing
a clinic default changes every doctor who has not chosen otherwise. The front desk (admins) may
override notice, horizon and the daily cap for walk-ins; the buffer is physical (room turnover)
and binds everyone. ``LIMITS`` is the one table of bounds: the settings, the API and this type
all check against it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any

from healthcare.domain.errors import (
    BeyondHorizon,
    DailyLimitReached,
    InvalidInput,
    TooShortNotice,
)
from healthcare.domain.time import Interval, wire_text


@dataclass(frozen=True)
class Limit:
    low: int
    high: int
    description: str


#: A week of notice, two years of horizon, a working day of buffer, thirty days of cut-off.
LIMITS: dict[str, Limit] = {
    "min_notice_minutes": Limit(0, 7 * 24 * 60, "Minimum notice for a patient's booking, in minutes."),
    "horizon_days": Limit(1, 730, "How far ahead a patient may book, in days."),
    "buffer_minutes": Limit(
        0, 8 * 60, "Free time kept after each appointment, in minutes (binds everyone)."
    ),
    "max_per_day": Limit(
        1, 200, "Most active appointments of a doctor per local day; null: no cap."
    ),
    "late_cancel_hours": Limit(
        0, 30 * 24, "A cancellation closer to the start than this is allowed but recorded as late."
    ),
}
#: What an admin may set for one doctor; the late-cancellation cut-off is clinic-wide.
DOCTOR_CHOICES = ("min_notice_minutes", "horizon_days", "buffer_minutes", "max_per_day")
MAX_BUFFER = timedelta(minutes=LIMITS["buffer_minutes"].high)


def check_limit(name: str, value: object) -> None:
    """``value`` is an integer within ``LIMITS[name]`` (None: not chosen)."""
    limit = LIMITS[name]
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not limit.low <= value <= limit.high:
        raise InvalidInput(
            f"{name} must be an integer from {limit.low} to {limit.high}, or null.",
            {name: [f"From {limit.low} to {limit.high}, or null."]},
        )


@dataclass(frozen=True)
class BookingPolicy:
    min_notice_minutes: int | None = None
    horizon_days: int | None = None
    buffer_minutes: int | None = None
    #: None in the policy in force: no cap.
    max_per_day: int | None = None
    late_cancel_hours: int | None = None

    def __post_init__(self) -> None:
        for field in fields(self):
            check_limit(field.name, getattr(self, field.name))

    def over(self, defaults: BookingPolicy) -> BookingPolicy:
        """The policy in force: these choices, and ``defaults`` where none was made."""
        return replace(defaults, **self.choices())

    def choices(self) -> dict[str, Any]:
        """The fields this policy sets."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    # -- the policy in force (every field but the cap is set) -------------------------------

    @property
    def min_notice(self) -> timedelta:
        return timedelta(minutes=self.min_notice_minutes)  # type: ignore[arg-type]

    @property
    def horizon(self) -> timedelta:
        return timedelta(days=self.horizon_days)  # type: ignore[arg-type]

    @property
    def buffer(self) -> timedelta:
        return timedelta(minutes=self.buffer_minutes)  # type: ignore[arg-type]

    def earliest_start(self, now: datetime) -> datetime:
        return now + self.min_notice

    def latest_start(self, now: datetime) -> datetime:
        return now + self.horizon

    def planning_horizon(self, now: datetime) -> Interval:
        """From now to the latest start a patient may book: the period the doctor's
        bookable slots are planned over."""
        return Interval(now, self.latest_start(now))

    def is_late_cancellation(self, start: datetime, now: datetime) -> bool:
        return start - now < timedelta(hours=self.late_cancel_hours)  # type: ignore[arg-type]

    def check_timing(self, start: datetime, now: datetime) -> None:
        """Minimum notice and horizon (they bind patients; the front desk may override)."""
        if start < self.earliest_start(now):
            raise TooShortNotice(wire_text(self.earliest_start(now)))
        if start > self.latest_start(now):
            raise BeyondHorizon(wire_text(self.latest_start(now)))

    def check_daily_cap(self, booked_that_day: int) -> None:
        if self.max_per_day is not None and booked_that_day >= self.max_per_day:
            raise DailyLimitReached()


#: The clinic's defaults when the settings say nothing else.
CLINIC_DEFAULTS = BookingPolicy(
    min_notice_minutes=120, horizon_days=90, buffer_minutes=0, max_per_day=None, late_cancel_hours=24
)

