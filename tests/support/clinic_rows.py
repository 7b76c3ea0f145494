"""A clinic stored through the repositories: users with profiles, windows, appointments.

Built from the factories in ``tests.factories``, with the foreign keys a real database checks
(the factories alone invent ids that need not exist).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from healthcare.application.unit_of_work import UnitOfWork
from healthcare.domain.appointments import Appointment
from healthcare.domain.availability import Availability
from healthcare.domain.doctors import Doctor
from healthcare.domain.patients import Patient
from healthcare.domain.users import Role
from tests.factories import (
    AppointmentFactory,
    AvailabilityFactory,
    DoctorFactory,
    PatientFactory,
    UserFactory,
)

T = TypeVar("T")

#: A working day after the tests' fixed present (``tests.conftest.NOW``, 2030-01-07 08:00).
DAY = datetime(2030, 1, 8, tzinfo=UTC)


def at(hour: int, minute: int = 0) -> datetime:
    return DAY + timedelta(hours=hour, minutes=minute)


def stored(uow_factory: Callable[[], UnitOfWork], build: Callable[[UnitOfWork], T]) -> T:
    """Run ``build`` in its own committed transaction and return what it made."""
    with uow_factory() as uow:
        made = build(uow)
        uow.commit()
    return made


def add_doctor(uow: UnitOfWork, **fields: object) -> Doctor:
    user = uow.users.add(UserFactory(role=Role.DOCTOR))
    return uow.doctors.add(DoctorFactory(user_id=user.id, **fields))


def add_patient(uow: UnitOfWork, **fields: object) -> Patient:
    user = uow.users.add(UserFactory(role=Role.PATIENT))
    return uow.patients.add(PatientFactory(user_id=user.id, **fields))


def add_window(uow: UnitOfWork, doctor: Doctor, start: datetime, end: datetime) -> Availability:
    return uow.availabilities.add(AvailabilityFactory(doctor_id=doctor.id, start=start, end=end))


def add_appointment(
    uow: UnitOfWork, doctor: Doctor, patient: Patient, start: datetime, **fields: object
) -> Appointment:
    return uow.appointments.add(
        AppointmentFactory(id=None, doctor_id=doctor.id, patient_id=patient.id, start=start, **fields)
    )
