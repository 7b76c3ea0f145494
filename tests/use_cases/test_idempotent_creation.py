"""Every creating use case a client would retry takes an idempotency key: a retry with the same
key and request creates nothing new (bookings: ``test_idempotent_booking.py``)."""

from __future__ import annotations

import pytest

from healthcare.application.commands import (
    BookAppointment,
    RegisterPatient,
    WriteMedicalRecord,
)
from healthcare.domain.errors import DuplicateEmail, IdempotencyKeyReused
from tests.use_cases.clinic import PASSWORD, WIDE, Clinic, Services, at


@pytest.fixture
def visit(services: Services, clinic: Clinic) -> int:
    """A confirmed appointment of the patient with the doctor, ready for its record."""
    booked = services.appointments.book(
        clinic.patient, BookAppointment(doctor_id=clinic.doctor.doctor_id, start=at(10))
    )
    services.appointments.confirm(clinic.doctor, booked.id)
    return booked.id  # type: ignore[return-value]


def test_a_record_written_again_under_its_key_is_the_same_record(
    services: Services, clinic: Clinic, visit: int
) -> None:
    write = WriteMedicalRecord(appointment_id=visit, diagnosis="Flu", treatment="Rest")
    first = services.records.create(clinic.doctor, write, "record-1")
    again = services.records.create(clinic.doctor, write, "record-1")
    assert again.id == first.id
    records = services.records.list(clinic.admin, WIDE).items
    assert [r["id"] for r in records] == [first.id]


def test_a_records_key_with_another_body_is_refused_and_writes_nothing(
    services: Services, clinic: Clinic, visit: int
) -> None:
    services.records.create(clinic.doctor, WriteMedicalRecord(visit, "Flu"), "k")
    with pytest.raises(IdempotencyKeyReused):
        services.records.create(clinic.doctor, WriteMedicalRecord(visit, "Cold"), "k")
    assert [r["diagnosis"] for r in services.records.list(clinic.admin, WIDE).items] == ["Flu"]


def test_a_sign_up_retried_under_its_key_is_the_same_account(services: Services) -> None:
    sign_up = RegisterPatient("new@example.org", PASSWORD, "New Patient", phone="555")
    first = services.accounts.register_patient(sign_up, "sign-up-1")
    again = services.accounts.register_patient(sign_up, "sign-up-1")
    assert (again.user.id, again.patient.id) == (first.user.id, first.patient.id)  # type: ignore[union-attr]
    # A different capitalisation of the address is the same sign-up.
    upper = RegisterPatient("NEW@example.org", PASSWORD, "New Patient", phone="555")
    assert services.accounts.register_patient(upper, "sign-up-1").user.id == first.user.id


def test_a_sign_up_key_answers_only_whoever_knows_the_password(services: Services) -> None:
    first = RegisterPatient("new@example.org", PASSWORD, "New Patient")
    services.accounts.register_patient(first, "sign-up-1")
    guess = RegisterPatient("new@example.org", "another password", "New Patient")
    with pytest.raises(DuplicateEmail):
        services.accounts.register_patient(guess, "sign-up-1")
    other = RegisterPatient("other@example.org", PASSWORD, "Other Patient")
    with pytest.raises(IdempotencyKeyReused):
        services.accounts.register_patient(other, "sign-up-1")


def test_keys_of_signed_in_users_and_of_sign_ups_do_not_meet(
    services: Services, clinic: Clinic
) -> None:
    booked = services.appointments.book(
        clinic.patient, BookAppointment(doctor_id=clinic.doctor.doctor_id, start=at(10)), "same"
    )
    account = services.accounts.register_patient(
        RegisterPatient("new@example.org", PASSWORD, "New Patient"), "same"
    )
    assert booked.id is not None and account.user.id is not None
