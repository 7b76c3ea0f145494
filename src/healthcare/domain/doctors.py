"""Doctors: who patients book with, how long a visit lasts, and in which time zone they work."""

from __future__ import annotations

from dataclasses import dataclass, field

from healthcare.domain.entity import Entity
from healthcare.domain.errors import InvalidInput
from healthcare.domain.policy import BookingPolicy
from healthcare.domain.text import require_text
from healthcare.domain.time import zone

MIN_APPOINTMENT_MINUTES = 5
MAX_APPOINTMENT_MINUTES = 8 * 60


@dataclass(eq=False)
class Doctor(Entity):
    user_id: int
    name: str
    specialization: str
    appointment_minutes: int = 30
    timezone: str = "UTC"
    id: int | None = None
    #: The doctor's own booking policy; what it leaves unset is the clinic's default.
    policy: BookingPolicy = field(default_factory=BookingPolicy)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        self.name = require_text(self.name, "name", 200)
        self.specialization = require_text(self.specialization, "specialization", 200)
        if not MIN_APPOINTMENT_MINUTES <= self.appointment_minutes <= MAX_APPOINTMENT_MINUTES:
            raise InvalidInput(
                f"appointment_minutes must be between {MIN_APPOINTMENT_MINUTES} "
                f"and {MAX_APPOINTMENT_MINUTES}.",
                {"appointment_minutes": ["Out of range."]},
            )
        zone(self.timezone)
