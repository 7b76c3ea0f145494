"""Blocked periods: time a doctor is away (holiday, training), removed from their availability."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from healthcare.domain.actor import Actor
from healthcare.domain.entity import Entity
from healthcare.domain.text import require_text
from healthcare.domain.time import Interval


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
