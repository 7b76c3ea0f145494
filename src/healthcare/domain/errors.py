"""Domain errors.

Every rule violation raises a subclass of :class:`DomainError`. Each one belongs to exactly one
category (the direct subclasses below); the entrypoints map a category to a status code, so a new
rule never needs a new mapping. Messages are written for the client and never carry patient data.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every rule violation."""

    def __init__(self, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


# -- categories -----------------------------------------------------------------------------


class InvalidInput(DomainError):
    """The input breaks a rule on its own (past time, naive datetime, outside availability)."""


class NotFound(DomainError):
    """Absent, or not visible to the actor: the two are indistinguishable on purpose."""


class PermissionDenied(DomainError):
    """The actor can see the resource but their role or ownership does not allow the action."""


class Conflict(DomainError):
    """The input conflicts with existing state (slot taken, overlap, refused transition)."""


class AuthenticationFailed(DomainError):
    """Bad credentials, or an account that may no longer sign in."""


class Throttled(DomainError):
    """Too many attempts of this kind for now; ``retry_after_seconds`` says when to try again."""

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


# -- time ------------------------------------------------------------------------------------


class NaiveDatetime(InvalidInput):
    def __init__(self, field: str) -> None:
        super().__init__(
            f"{field} must carry a UTC offset, e.g. 2025-04-03T10:00:00Z",
            {field: ["Datetime must carry a UTC offset."]},
        )


class InvalidTimeRange(InvalidInput):
    pass


class InPast(InvalidInput):
    pass


# -- availability ----------------------------------------------------------------------------


class OverlappingAvailability(Conflict):
    def __init__(self) -> None:
        super().__init__("The window overlaps another availability window of this doctor.")


class AvailabilityInUse(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "The change would leave a pending or confirmed appointment outside availability."
        )


# -- booking ---------------------------------------------------------------------------------


class OutsideAvailability(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "The appointment does not lie inside one availability window of the doctor.",
            {"datetime": ["Outside the doctor's availability."]},
        )


class NotASlotStart(InvalidInput):
    """Section 8's grid: a patient books where the slot search offers, nowhere in between."""

    def __init__(self, nearest: list[str]) -> None:
        hint = f" Nearest slot starts: {', '.join(nearest)}." if nearest else ""
        super().__init__(
            f"Not a slot start: a booking starts at a slot start of the doctor's calendar.{hint}",
            {"datetime": ["Not a slot start."], **({"nearest": nearest} if nearest else {})},
        )


class NotWholeMinutes(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "A booking starts on a whole minute (no seconds).",
            {"datetime": ["Whole minutes only: no seconds or fractions."]},
        )


class SlotUnavailable(Conflict):
    def __init__(self) -> None:
        super().__init__("The doctor already has an appointment at that time.")


class PatientDoubleBooked(Conflict):
    def __init__(self) -> None:
        super().__init__("The patient already has an appointment at that time.")


class InBlockedPeriod(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "The doctor is unavailable then (a blocked period such as a holiday).",
            {"datetime": ["Inside a blocked period of the doctor."]},
        )


class TooShortNotice(InvalidInput):
    def __init__(self, earliest: str) -> None:
        super().__init__(
            f"Too short notice: this doctor can be booked from {earliest} on.",
            {"datetime": [f"Book at least the minimum notice ahead (from {earliest})."]},
        )


class BeyondHorizon(InvalidInput):
    def __init__(self, latest: str) -> None:
        super().__init__(
            f"Too far ahead: this doctor can be booked until {latest}.",
            {"datetime": [f"Beyond the booking horizon (until {latest})."]},
        )


class WeeklyHoursNeedAChoice(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "The doctor has weekly hours: changing the time zone moves them. Send "
            '"weekly_hours": "keep_local_times" to keep their local times in the new zone.',
            {"weekly_hours": ["Required with a new time zone while weekly hours exist."]},
        )


class HoldExpired(Conflict):
    def __init__(self) -> None:
        super().__init__("The hold has expired: the slot is no longer kept for the patient.")


class TooManyHolds(Conflict):
    def __init__(self, maximum: int) -> None:
        super().__init__(f"A patient keeps at most {maximum} holds at once.")


class DailyLimitReached(Conflict):
    def __init__(self) -> None:
        super().__init__("The doctor has no more appointments free on that day.")


class TransitionNotAllowed(Conflict):
    def __init__(self, current: str, target: str, why: str = "") -> None:
        detail = f": {why}" if why else ""
        super().__init__(f"Cannot go from {current} to {target}{detail}.")
        self.current = current
        self.target = target


# -- identity and uniqueness -----------------------------------------------------------------


class DuplicateEmail(Conflict):
    def __init__(self) -> None:
        super().__init__("A user with that email already exists.", {"email": ["Already in use."]})


class ProfileAlreadyExists(Conflict):
    def __init__(self, kind: str) -> None:
        super().__init__(f"That user already has a {kind} profile.")


class RecordAlreadyExists(Conflict):
    def __init__(self) -> None:
        super().__init__("That appointment already has a medical record.")


class IdempotencyKeyReused(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was already used for a different request.",
            {"Idempotency-Key": ["Used before with another body; use a new key."]},
        )


class IdempotencyKeyTaken(Conflict):
    """Storage-level: another request stored the same key first (the caller looks it up)."""

    def __init__(self) -> None:
        super().__init__("This Idempotency-Key is being used by another request.")


class InUse(Conflict):
    """A resource still referenced by others cannot be deleted."""


class InvalidCredentials(AuthenticationFailed):
    def __init__(self) -> None:
        super().__init__("Invalid email or password.")


class InactiveUser(AuthenticationFailed):
    def __init__(self) -> None:
        super().__init__("This account is deactivated.")


class TooManySignInAttempts(Throttled):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            "Too many failed sign-in attempts; try again later.", retry_after_seconds
        )
