"""factory-boy factories for the domain entities, filled by faker.

Every factory builds an unsaved entity (``id=None``) that is valid on its own; pass ``id=`` for
a stored-looking one. Times are aware UTC, in the future of the fixed test clock
(``tests.conftest.NOW``), and minute-aligned so they are easy to reason about.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factory
from factory import fuzzy
from faker import Faker

from healthcare.domain.appointments import Appointment, Status
from healthcare.domain.audit import Action, AuditEvent, Outcome, Resource
from healthcare.domain.availability import Availability
from healthcare.domain.doctors import Doctor
from healthcare.domain.patients import Patient
from healthcare.domain.records import MedicalRecord
from healthcare.domain.users import Role, User

#: The same instant as ``tests.conftest.NOW``; repeated so factories import nothing from pytest.
BASE = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)

fake = Faker()

SPECIALIZATIONS = ("Cardiology", "Dermatology", "General Practice", "Neurology", "Pediatrics")


def future_start(days: int = 30) -> datetime:
    """A quarter-hour aligned instant between one and ``days`` days after BASE."""
    return BASE + timedelta(minutes=15 * fake.random_int(4 * 24, 4 * 24 * days))


class UserFactory(factory.Factory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"{fake.user_name()}{n}@{fake.domain_name()}")
    password_hash = "$argon2id$v=19$m=8,t=1,p=1$not-a-real-hash"
    role = Role.PATIENT
    created_at = factory.LazyFunction(lambda: BASE - timedelta(days=30))
    is_active = True
    id = None

    class Params:
        admin = factory.Trait(role=Role.ADMIN)
        doctor = factory.Trait(role=Role.DOCTOR)


class DoctorFactory(factory.Factory):
    class Meta:
        model = Doctor

    user_id = factory.Sequence(lambda n: 1000 + n)
    name = factory.LazyFunction(lambda: f"Dr. {fake.name()}")
    specialization = fuzzy.FuzzyChoice(SPECIALIZATIONS)
    appointment_minutes = 30
    timezone = "UTC"
    id = None


class PatientFactory(factory.Factory):
    class Meta:
        model = Patient

    user_id = factory.Sequence(lambda n: 2000 + n)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"patient{n}@example.org")
    phone = factory.Faker("numerify", text="+1-###-###-####")
    insurance_id = factory.Faker("bothify", text="INS-########")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=1, maximum_age=99)
    id = None


class AvailabilityFactory(factory.Factory):
    """A window of ``hours`` hours (default 4) starting at ``start``."""

    class Meta:
        model = Availability
        exclude = ("hours",)

    doctor_id = factory.Sequence(lambda n: 1 + n)
    hours = 4
    start = factory.LazyFunction(future_start)
    end = factory.LazyAttribute(lambda o: o.start + timedelta(hours=o.hours))
    id = None


class AppointmentFactory(factory.Factory):
    """A pending appointment of ``minutes`` minutes (default 30) starting at ``start``."""

    class Meta:
        model = Appointment
        exclude = ("minutes",)

    patient_id = factory.Sequence(lambda n: 1 + n)
    doctor_id = factory.Sequence(lambda n: 1 + n)
    minutes = 30
    start = factory.LazyFunction(future_start)
    end = factory.LazyAttribute(lambda o: o.start + timedelta(minutes=o.minutes))
    created_at = factory.LazyFunction(lambda: BASE)
    updated_at = factory.SelfAttribute("created_at")
    status = Status.PENDING
    reason = factory.Faker("sentence", nb_words=6)
    cancellation_reason = None
    id = factory.Sequence(lambda n: 1 + n)


class MedicalRecordFactory(factory.Factory):
    """A record for ``appointment`` (an AppointmentFactory one unless given)."""

    class Meta:
        model = MedicalRecord
        exclude = ("appointment",)

    appointment = factory.SubFactory(AppointmentFactory, status=Status.COMPLETED)
    patient_id = factory.SelfAttribute("appointment.patient_id")
    appointment_id = factory.SelfAttribute("appointment.id")
    doctor_id = factory.SelfAttribute("appointment.doctor_id")
    diagnosis = factory.Faker("sentence", nb_words=4)
    treatment = factory.Faker("sentence", nb_words=8)
    notes = factory.Faker("paragraph", nb_sentences=2)
    created_at = factory.SelfAttribute("appointment.end")
    updated_at = factory.SelfAttribute("created_at")
    id = None


class AuditEventFactory(factory.Factory):
    class Meta:
        model = AuditEvent

    at = factory.LazyFunction(lambda: BASE)
    actor_id = factory.Sequence(lambda n: 1 + n)
    action = fuzzy.FuzzyChoice(list(Action))
    resource = fuzzy.FuzzyChoice(list(Resource))
    resource_id = factory.Sequence(lambda n: 1 + n)
    patient_id = factory.Sequence(lambda n: 1 + n)
    outcome = Outcome.ALLOWED
    id = None


def start_over(seed: str) -> None:
    """Make the factories repeat themselves: the same names, emails and sequence numbers as
    the last time they started over with ``seed`` (to build one clinic twice)."""
    factory.random.reseed_random(seed)
    fake.seed_instance(seed)
    for made in (
        UserFactory,
        DoctorFactory,
        PatientFactory,
        AvailabilityFactory,
        AppointmentFactory,
        MedicalRecordFactory,
        AuditEventFactory,
    ):
        made.reset_sequence()
