"""The database's own guarantees, hit directly through the repositories on both engines.

The services check the same rules first; these tests skip the services to prove the storage
would refuse on its own (which is what settles a race), and that each refusal surfaces as the
domain error the in-memory adapter raises.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from healthcare.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from healthcare.domain.appointments import Status
from healthcare.domain.errors import (
    DomainError,
    DuplicateEmail,
    InUse,
    InvalidInput,
    OverlappingAvailability,
    PatientDoubleBooked,
    ProfileAlreadyExists,
    RecordAlreadyExists,
    SlotUnavailable,
)
from healthcare.domain.time import Interval
from healthcare.domain.users import Role
from tests.factories import (
    DoctorFactory,
    MedicalRecordFactory,
    PatientFactory,
    UserFactory,
)
from tests.support.clinic_rows import (
    add_appointment,
    add_doctor,
    add_patient,
    add_window,
    at,
    stored,
)

UowFactory = Callable[[], SqlAlchemyUnitOfWork]


def refused(
    sql_uow: UowFactory, error: type[DomainError], write: Callable[[SqlAlchemyUnitOfWork], object]
) -> None:
    """``write`` raises ``error``, raised by the database; the unit of work ends there (no use
    case goes on after a broken guarantee), and the next one starts clean."""
    with pytest.raises(error) as raised, sql_uow() as uow:
        write(uow)
    assert raised.value.__cause__ is not None, "refused by a service-side check, not the database"
    stored(sql_uow, lambda uow: uow.users.add(UserFactory()))


def test_an_email_differing_only_in_case_is_a_duplicate(sql_uow: UowFactory) -> None:
    stored(sql_uow, lambda uow: uow.users.add(UserFactory(email="anna@example.org")))
    other = UserFactory(email="anna@example.org")
    other.email = "Anna@Example.ORG"  # past the domain's folding, to reach the unique index
    refused(sql_uow, DuplicateEmail, lambda uow: uow.users.add(other))


def test_changing_an_email_to_one_in_use_is_a_duplicate(sql_uow: UowFactory) -> None:
    stored(sql_uow, lambda uow: uow.users.add(UserFactory(email="anna@example.org")))
    bob = stored(sql_uow, lambda uow: uow.users.add(UserFactory(email="bob@example.org")))
    bob.email = "anna@example.org"
    refused(sql_uow, DuplicateEmail, lambda uow: uow.users.update(bob))


@pytest.mark.parametrize(
    ("role", "repository", "factory"),
    [(Role.DOCTOR, "doctors", DoctorFactory), (Role.PATIENT, "patients", PatientFactory)],
)
def test_a_user_has_at_most_one_profile_of_a_kind(
    sql_uow: UowFactory, role: Role, repository: str, factory: type
) -> None:
    user = stored(sql_uow, lambda uow: uow.users.add(UserFactory(role=role)))
    stored(sql_uow, lambda uow: getattr(uow, repository).add(factory(user_id=user.id)))
    refused(
        sql_uow,
        ProfileAlreadyExists,
        lambda uow: getattr(uow, repository).add(factory(user_id=user.id)),
    )


def test_a_doctor_cannot_have_two_active_appointments_that_overlap(sql_uow: UowFactory) -> None:
    doctor, first, second = stored(
        sql_uow, lambda uow: (add_doctor(uow), add_patient(uow), add_patient(uow))
    )
    stored(sql_uow, lambda uow: add_appointment(uow, doctor, first, at(10)))
    refused(sql_uow, SlotUnavailable, lambda uow: add_appointment(uow, doctor, second, at(10, 15)))


def test_a_patient_cannot_have_two_active_appointments_that_overlap(sql_uow: UowFactory) -> None:
    patient, one, other = stored(
        sql_uow, lambda uow: (add_patient(uow), add_doctor(uow), add_doctor(uow))
    )
    stored(sql_uow, lambda uow: add_appointment(uow, one, patient, at(10)))
    refused(
        sql_uow, PatientDoubleBooked, lambda uow: add_appointment(uow, other, patient, at(9, 45))
    )


def test_a_clash_with_both_the_doctor_and_the_patient_is_reported_as_the_doctors(
    sql_uow: UowFactory,
) -> None:
    doctor, patient = stored(sql_uow, lambda uow: (add_doctor(uow), add_patient(uow)))
    stored(sql_uow, lambda uow: add_appointment(uow, doctor, patient, at(10)))
    refused(sql_uow, SlotUnavailable, lambda uow: add_appointment(uow, doctor, patient, at(10)))


def test_moving_an_appointment_onto_another_is_refused(sql_uow: UowFactory) -> None:
    doctor, first, second = stored(
        sql_uow, lambda uow: (add_doctor(uow), add_patient(uow), add_patient(uow))
    )
    stored(sql_uow, lambda uow: add_appointment(uow, doctor, first, at(10)))
    later = stored(sql_uow, lambda uow: add_appointment(uow, doctor, second, at(11)))
    later.start, later.end = at(10, 15), at(10, 45)
    refused(sql_uow, SlotUnavailable, lambda uow: uow.appointments.update(later))


def test_touching_appointments_and_cancelled_ones_do_not_block(sql_uow: UowFactory) -> None:
    doctor, patient, other = stored(
        sql_uow, lambda uow: (add_doctor(uow), add_patient(uow), add_patient(uow))
    )
    with sql_uow() as uow:
        add_appointment(uow, doctor, patient, at(10))  # 10:00-10:30
        add_appointment(uow, doctor, patient, at(10, 30))  # touches it
        add_appointment(uow, doctor, other, at(11), status=Status.CANCELLED)
        add_appointment(uow, doctor, other, at(11))  # over the cancelled one
        uow.commit()
    with sql_uow() as uow:
        day = Interval(at(0), at(23))
        assert len(uow.appointments.active_overlapping(day, doctor_id=doctor.id)) == 3


def test_reactivating_an_appointment_over_another_is_refused(sql_uow: UowFactory) -> None:
    doctor, patient, other = stored(
        sql_uow, lambda uow: (add_doctor(uow), add_patient(uow), add_patient(uow))
    )
    cancelled = stored(
        sql_uow,
        lambda uow: add_appointment(uow, doctor, patient, at(10), status=Status.CANCELLED),
    )
    stored(sql_uow, lambda uow: add_appointment(uow, doctor, other, at(10)))
    cancelled.status = Status.PENDING
    refused(sql_uow, SlotUnavailable, lambda uow: uow.appointments.update(cancelled))


def test_a_doctors_availability_windows_do_not_overlap(sql_uow: UowFactory) -> None:
    doctor = stored(sql_uow, add_doctor)
    stored(sql_uow, lambda uow: add_window(uow, doctor, at(9), at(12)))
    stored(sql_uow, lambda uow: add_window(uow, doctor, at(12), at(13)))  # touching is fine
    refused(
        sql_uow, OverlappingAvailability, lambda uow: add_window(uow, doctor, at(11), at(14))
    )


def test_windows_of_different_doctors_may_overlap(sql_uow: UowFactory) -> None:
    one, other = stored(sql_uow, lambda uow: (add_doctor(uow), add_doctor(uow)))
    stored(sql_uow, lambda uow: add_window(uow, one, at(9), at(12)))
    stored(sql_uow, lambda uow: add_window(uow, other, at(9), at(12)))


def test_an_appointment_has_at_most_one_medical_record(sql_uow: UowFactory) -> None:
    doctor, patient = stored(sql_uow, lambda uow: (add_doctor(uow), add_patient(uow)))
    appointment = stored(
        sql_uow, lambda uow: add_appointment(uow, doctor, patient, at(10), status=Status.COMPLETED)
    )
    stored(sql_uow, lambda uow: uow.records.add(MedicalRecordFactory(appointment=appointment)))
    refused(
        sql_uow,
        RecordAlreadyExists,
        lambda uow: uow.records.add(MedicalRecordFactory(appointment=appointment)),
    )


def test_a_reference_to_a_missing_row_is_invalid_input(sql_uow: UowFactory) -> None:
    refused(sql_uow, InvalidInput, lambda uow: uow.doctors.add(DoctorFactory(user_id=999)))


def test_deleting_a_doctor_with_appointments_is_refused_but_windows_go_with_the_doctor(
    sql_uow: UowFactory,
) -> None:
    doctor, patient, free = stored(
        sql_uow, lambda uow: (add_doctor(uow), add_patient(uow), add_doctor(uow))
    )
    stored(sql_uow, lambda uow: add_appointment(uow, doctor, patient, at(10)))
    window = stored(sql_uow, lambda uow: add_window(uow, free, at(9), at(12)))
    refused(sql_uow, InUse, lambda uow: uow.doctors.delete(doctor.id))
    stored(sql_uow, lambda uow: uow.doctors.delete(free.id))
    with sql_uow() as uow:
        assert uow.doctors.get(free.id) is None
        assert uow.availabilities.get(window.id) is None


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE appointments SET end_at = start_at",
        "UPDATE appointments SET status = 'postponed'",
        "UPDATE availabilities SET end_time = start_time",
        "UPDATE users SET role = 'superuser'",
    ],
)
def test_the_schema_refuses_values_the_domain_never_produces(
    engine: Engine, sql_uow: UowFactory, statement: str
) -> None:
    def clinic(uow: SqlAlchemyUnitOfWork) -> None:
        doctor, patient = add_doctor(uow), add_patient(uow)
        add_window(uow, doctor, at(9), at(12))
        add_appointment(uow, doctor, patient, at(10))

    stored(sql_uow, clinic)
    with pytest.raises(IntegrityError, match="(?i)check constraint"), engine.begin() as connection:
        connection.execute(text(statement))
