"""Blocked periods: time a doctor is away (holiday, training), removed from their availability."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from healthcare.domain.entity import Entity
from healthcare.domain.text import require_text
from healthcare.domain.time import Interval


@dataclass(eq=False)
class AvailabilityException(Entity):
    """A blocked period (holiday, training): no slot inside it is bookable."""

    doctor_id: int
    start: datetime
    end: datetime
    #: Shown to the doctor and admins only (``access.Scope.sees_blocked_reason``).
    reason: str = ""
    id: int | None = None

    def __post_init__(self) -> None:
        interval = Interval(self.start, self.end)
        self.start, self.end = interval.start, interval.end
        self.reason = require_text(self.reason or "", "reason", 500, allow_empty=True)

    @property
    def interval(self) -> Interval:
        return Interval(self.start, self.end)
