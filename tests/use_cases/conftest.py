"""Fixtures of the use-case suite: the services on the parametrized storage, and a clinic."""

from __future__ import annotations

import pytest

from healthcare.adapters.clock import FixedClock
from healthcare.adapters.security import Argon2PasswordHasher
from healthcare.application.commands import (
    BookAppointment,
    CreateAvailability,
    CreateUser,
    RegisterPatient,
)
from healthcare.domain.actor import Actor
from healthcare.domain.appointments import Appointment
from tests.conftest import Storage
from tests.use_cases.clinic import PASSWORD, Clinic, Services, at


@pytest.fixture
def services(
    storage: Storage, clock: FixedClock, hasher: Argon2PasswordHasher
) -> Services:
    return Services.build(storage, clock, hasher)


@pytest.fixture
def clinic(services: Services) -> Clinic:
    accounts = services.accounts
    system = Actor.system()
    admin = accounts.create_user(system, CreateUser("admin@clinic.test", PASSWORD, "admin"))

    def doctor(email: str, name: str, specialization: str) -> Actor:
        account = accounts.create_user(
            system, CreateUser(email, PASSWORD, "doctor", name=name, specialization=specialization)
        )
        return accounts.actor_for(account.user.id)

    def patient(email: str, name: str) -> Actor:
        account = accounts.register_patient(
            RegisterPatient(email, PASSWORD, name, phone="555-0100")
        )
        return accounts.actor_for(account.user.id)

    ada = doctor("ada@clinic.test", "Dr. Ada Lovelace", "Cardiology")
    bob = doctor("bob@clinic.test", "Dr. Bob Kahn", "Dermatology")
    window = services.availability.create(ada, CreateAvailability(start=at(9), end=at(12)))
    other_window = services.availability.create(bob, CreateAvailability(start=at(9), end=at(12)))
    return Clinic(
        admin=accounts.actor_for(admin.user.id),
        doctor=ada,
        other_doctor=bob,
        patient=patient("pat@example.org", "Pat Doe"),
        other_patient=patient("quinn@example.org", "Quinn Roe"),
        window=window,
        other_window=other_window,
    )


@pytest.fixture
def booked(services: Services, clinic: Clinic) -> Appointment:
    """The patient's pending 10:00 appointment with the doctor."""
    return services.appointments.book(
        clinic.patient,
        BookAppointment(doctor_id=clinic.doctor.doctor_id, start=at(10), reason="Checkup"),
    )
