"""A doctor's own booking policy: which of the clinic's defaults they override.

Each field left ``None`` means "the clinic's default" (``weekly.BookingPolicy`` built from the
settings), so changing a clinic default changes every doctor who has not chosen otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from healthcare.domain.errors import InvalidInput

MAX_BUFFER_MINUTES = 8 * 60
#: (field, lowest, highest): a week of notice, two years of horizon, a working day of buffer.
LIMITS = (
    ("min_notice_minutes", 0, 7 * 24 * 60),
    ("horizon_days", 1, 730),
    ("buffer_minutes", 0, MAX_BUFFER_MINUTES),
    ("max_per_day", 1, 200),
)


@dataclass(frozen=True)
class PolicyOverrides:
    min_notice_minutes: int | None = None
    horizon_days: int | None = None
    buffer_minutes: int | None = None
    max_per_day: int | None = None

    def __post_init__(self) -> None:
        for name, low, high in LIMITS:
            value = getattr(self, name)
            if value is not None and not (
                isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
            ):
                raise InvalidInput(
                    f"{name} must be an integer from {low} to {high}, or null for the clinic's "
                    "default.",
                    {name: [f"From {low} to {high}, or null."]},
                )

    def changes(self) -> dict[str, Any]:
        """The overridden fields as ``BookingPolicy`` fields."""
        minutes = lambda value: timedelta(minutes=value)
        chosen = {
            "min_notice": (self.min_notice_minutes, minutes),
            "horizon": (self.horizon_days, lambda value: timedelta(days=value)),
            "buffer": (self.buffer_minutes, minutes),
            "max_per_day": (self.max_per_day, lambda value: value),
        }
        return {name: convert(value) for name, (value, convert) in chosen.items() if value is not None}
