"""Commands: the inputs of the write use cases, named as verbs.

Partial updates use :data:`UNSET` for "not given", so ``None`` can still mean "clear this".
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, time
from typing import Any, Final


class _Unset:
    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = _Unset()


def given(command: object) -> dict[str, Any]:
    """The fields of a partial-update command that were actually given."""
    return {
        f.name: getattr(command, f.name)
        for f in fields(command)  # type: ignore[arg-type]
        if getattr(command, f.name) is not UNSET
    }


@dataclass(frozen=True)
class RegisterPatient:
    email: str
    password: str
    name: str
    phone: str = ""
    insurance_id: str = ""
    date_of_birth: date | None = None


@dataclass(frozen=True)
class CreateUser:
    email: str
    password: str
    role: str
    #: With a doctor or patient role, also create the profile under this name.
    name: str | None = None
    specialization: str = "General Practice"


@dataclass(frozen=True)
class UpdateUser:
    is_active: bool | Any = UNSET
    email: str | Any = UNSET
    password: str | Any = UNSET


@dataclass(frozen=True)
class CreateDoctor:
    user_id: int
    name: str
    specialization: str
    appointment_minutes: int = 30
    timezone: str = "UTC"


@dataclass(frozen=True)
class UpdateDoctor:
    name: str | Any = UNSET
    specialization: str | Any = UNSET
    appointment_minutes: int | Any = UNSET
    timezone: str | Any = UNSET
    #: With a new time zone while the doctor has weekly hours: how to treat them (the only
    #: choice: ``keep_local_times``, the hours stay at the same wall-clock times in the new
    #: zone). Without it such a change is refused.
    weekly_hours: str | Any = UNSET


@dataclass(frozen=True)
class CreatePatient:
    user_id: int
    name: str
    email: str
    phone: str = ""
    insurance_id: str = ""
    date_of_birth: date | None = None


@dataclass(frozen=True)
class UpdatePatient:
    name: str | Any = UNSET
    email: str | Any = UNSET
    phone: str | Any = UNSET
    insurance_id: str | Any = UNSET
    date_of_birth: date | None | Any = UNSET


@dataclass(frozen=True)
class CreateAvailability:
    start: datetime
    end: datetime
    #: Omitted by a doctor: their own profile.
    doctor_id: int | None = None


@dataclass(frozen=True)
class UpdateAvailability:
    start: datetime | Any = UNSET
    end: datetime | Any = UNSET


@dataclass(frozen=True)
class CreateRule:
    """Weekly hours: every ``weekday`` (0 = Monday) from ``start_time`` to ``end_time``, local."""

    weekday: int
    start_time: time
    end_time: time
    #: Omitted: today in the doctor's time zone.
    valid_from: date | None = None
    valid_until: date | None = None
    #: Omitted by a doctor: their own profile.
    doctor_id: int | None = None


@dataclass(frozen=True)
class UpdateRule:
    weekday: int | Any = UNSET
    start_time: time | Any = UNSET
    end_time: time | Any = UNSET
    valid_from: date | Any = UNSET
    valid_until: date | None | Any = UNSET


@dataclass(frozen=True)
class CreateException:
    """A blocked period (holiday, training) of a doctor."""

    start: datetime
    end: datetime
    reason: str = ""
    #: Omitted by a doctor: their own profile.
    doctor_id: int | None = None


@dataclass(frozen=True)
class UpdatePolicy:
    """A doctor's own booking policy; ``None`` goes back to the clinic's default."""

    min_notice_minutes: int | None | Any = UNSET
    horizon_days: int | None | Any = UNSET
    buffer_minutes: int | None | Any = UNSET
    max_per_day: int | None | Any = UNSET


@dataclass(frozen=True)
class BookAppointment:
    doctor_id: int
    start: datetime
    #: Omitted by a patient: themself. Required from an admin.
    patient_id: int | None = None
    reason: str = ""
    #: Rule 5: only "pending" is accepted.
    status: str | None = None
    #: The end a client states (FHIR's ``Appointment.end``): it must be the doctor's length
    #: after ``start``. Omitted: it follows from the start.
    end: datetime | None = None


@dataclass(frozen=True)
class PlaceHold:
    """SPEC section 8: keep a slot for the patient while they finish booking."""

    doctor_id: int
    start: datetime
    #: Omitted by a patient: themself. Required from an admin.
    patient_id: int | None = None


@dataclass(frozen=True)
class JoinWaitlist:
    """SPEC section 8: wait for any slot of the doctor starting in [start, end)."""

    doctor_id: int
    start: datetime
    end: datetime
    #: Omitted by a patient: themself. Required from an admin.
    patient_id: int | None = None


@dataclass(frozen=True)
class UpdateAppointment:
    """A partial update: a new ``start`` reschedules, a ``status`` runs that lifecycle action."""

    start: datetime | Any = UNSET
    reason: str | Any = UNSET
    status: str | Any = UNSET
    cancellation_reason: str | None | Any = UNSET


@dataclass(frozen=True)
class WriteMedicalRecord:
    appointment_id: int
    diagnosis: str
    treatment: str = ""
    notes: str = ""
    patient_id: int | None = None


@dataclass(frozen=True)
class ReviseMedicalRecord:
    diagnosis: str | Any = UNSET
    treatment: str | Any = UNSET
    notes: str | Any = UNSET


@dataclass(frozen=True)
class CreateWebhook:
    url: str
    events: list[str]
    description: str = ""


@dataclass(frozen=True)
class ChangeWebhook:
    url: str | Any = UNSET
    events: list[str] | Any = UNSET
    description: str | Any = UNSET
    #: True again after a 410 disabled it: its undelivered events resume.
    is_active: bool | Any = UNSET


@dataclass(frozen=True)
class CreateCalendarFeed:
    #: An admin names the doctor; a doctor or a patient omits it (the feed is their own).
    doctor_id: int | None = None
