"""Patient profiles: admins see all, doctors their patients, patients themselves."""

from __future__ import annotations

from datetime import date

import pytest

from healthcare.application.commands import CreatePatient, UpdatePatient
from healthcare.domain.appointments import Appointment
from healthcare.domain.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    ProfileAlreadyExists,
)
from tests.use_cases.clinic import NON_ADMINS, OK, WIDE, Clinic, Services, outcome, row

DENIED = PermissionDenied


def test_an_admin_creates_a_profile_for_a_patient_user(services: Services, clinic: Clinic) -> None:
    user_id = services.new_user(clinic.admin, "patient")
    created = services.patients.create(
        clinic.admin,
        CreatePatient(
            user_id,
            "Walk In",
            "Walk-In@Example.org",
            phone="555-0111",
            date_of_birth=date(1990, 5, 17),
        ),
    )
    stored = services.patients.get(clinic.admin, created.id)
    assert (stored["user"], stored["email"], stored["date_of_birth"]) == (
        user_id,
        "walk-in@example.org",
        date(1990, 5, 17),
    )
    assert services.accounts.actor_for(user_id).patient_id == created.id


def test_nobody_but_an_admin_creates_a_patient_profile(services: Services, clinic: Clinic) -> None:
    user_id = services.new_user(clinic.admin, "patient")
    command = CreatePatient(user_id, "Walk In", "walk-in@example.org")
    outcomes = clinic.each_role(lambda a: services.patients.create(a, command), NON_ADMINS)
    assert outcomes == dict.fromkeys(NON_ADMINS, DENIED)
    assert services.accounts.actor_for(user_id).patient_id is None


def test_a_patient_profile_needs_a_patient_user_without_one(
    services: Services, clinic: Clinic
) -> None:
    doctor_user = services.new_user(clinic.admin, "doctor")
    with pytest.raises(InvalidInput):
        services.patients.create(
            clinic.admin, CreatePatient(doctor_user, "Walk In", "walk-in@example.org")
        )
    with pytest.raises(ProfileAlreadyExists):
        services.patients.create(
            clinic.admin, CreatePatient(clinic.patient.user_id, "Twin", "twin@example.org")
        )


def test_a_profile_born_in_the_future_is_refused(services: Services, clinic: Clinic) -> None:
    user_id = services.new_user(clinic.admin, "patient")
    with pytest.raises(InvalidInput):
        services.patients.create(
            clinic.admin,
            CreatePatient(
                user_id, "Walk In", "walk-in@example.org", date_of_birth=date(2031, 1, 1)
            ),
        )


def test_a_patient_profile_is_seen_by_admins_their_doctors_and_themself(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    mine, theirs = clinic.patient.patient_id, clinic.other_patient.patient_id
    sight = clinic.sight(
        lambda a: services.patients.get(a, mine), lambda a: services.patients.list(a, WIDE)
    )
    assert sight == row(
        (OK, {mine, theirs}), (OK, {mine}), (NotFound, set()), (OK, {mine}), (NotFound, {theirs})
    )


def test_a_doctor_sees_a_patient_only_once_they_have_an_appointment(
    services: Services, clinic: Clinic
) -> None:
    with pytest.raises(NotFound):
        services.patients.get(clinic.doctor, clinic.patient.patient_id)


def test_a_cancelled_appointment_still_makes_the_patient_the_doctors(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    services.appointments.cancel(clinic.patient, booked.id)
    assert (
        services.patients.get(clinic.doctor, clinic.patient.patient_id)["id"]
        == clinic.patient.patient_id
    )


def test_an_unknown_patient_is_not_found(services: Services, clinic: Clinic) -> None:
    missing = clinic.patient.patient_id + clinic.other_patient.patient_id + 1000
    with pytest.raises(NotFound):
        services.patients.get(clinic.admin, missing)
    with pytest.raises(NotFound):
        services.patients.update(clinic.admin, missing, UpdatePatient(phone="1"))


@pytest.mark.parametrize("role", ["admin", "patient"])
def test_an_admin_or_the_patient_changes_the_profile(
    services: Services, clinic: Clinic, role: str
) -> None:
    services.patients.update(
        clinic.roles[role], clinic.patient.patient_id, UpdatePatient(phone="555-0123")
    )
    assert services.patients.get(clinic.admin, clinic.patient.patient_id)["phone"] == "555-0123"


def test_nobody_else_changes_the_profile_and_a_stranger_does_not_even_see_it(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    refused = ["doctor", "other_doctor", "other_patient"]
    change = UpdatePatient(phone="555-0123")
    outcomes = clinic.each_role(
        lambda a: services.patients.update(a, clinic.patient.patient_id, change), refused
    )
    assert outcomes == {"doctor": DENIED, "other_doctor": NotFound, "other_patient": NotFound}
    assert services.patients.get(clinic.admin, clinic.patient.patient_id)["phone"] == "555-0100"


def test_a_patient_changes_their_contact_fields(services: Services, clinic: Clinic) -> None:
    change = UpdatePatient(name="Pat Q. Doe", email="Pat.Doe@Example.org", phone="555-0999")
    services.patients.update(clinic.patient, clinic.patient.patient_id, change)
    stored = services.patients.get(clinic.patient, clinic.patient.patient_id)
    assert (stored["name"], stored["email"], stored["phone"]) == (
        "Pat Q. Doe",
        "pat.doe@example.org",
        "555-0999",
    )


def test_a_patient_cannot_change_anything_but_contact_fields(
    services: Services, clinic: Clinic
) -> None:
    changes = {
        "insurance": UpdatePatient(insurance_id="INS-FAKE"),
        "birth date": UpdatePatient(date_of_birth=date(1980, 1, 1)),
        "contact and insurance": UpdatePatient(phone="1", insurance_id="INS-FAKE"),
    }
    outcomes = {
        name: outcome(
            lambda c=c: services.patients.update(clinic.patient, clinic.patient.patient_id, c)
        )
        for name, c in changes.items()
    }
    assert outcomes == dict.fromkeys(changes, DENIED)
    stored = services.patients.get(clinic.admin, clinic.patient.patient_id)
    assert (stored["insurance_id"], stored["date_of_birth"], stored["phone"]) == (
        "",
        None,
        "555-0100",
    )


def test_an_admin_changes_any_field_and_can_clear_the_birth_date(
    services: Services, clinic: Clinic
) -> None:
    patient_id = clinic.patient.patient_id
    services.patients.update(
        clinic.admin,
        patient_id,
        UpdatePatient(insurance_id="INS-42", date_of_birth=date(1980, 1, 1)),
    )
    assert services.patients.get(clinic.admin, patient_id)["insurance_id"] == "INS-42"
    services.patients.update(clinic.admin, patient_id, UpdatePatient(date_of_birth=None))
    stored = services.patients.get(clinic.admin, patient_id)
    assert (stored["insurance_id"], stored["date_of_birth"]) == ("INS-42", None)


def test_an_invalid_profile_change_is_refused(services: Services, clinic: Clinic) -> None:
    changes = [
        UpdatePatient(email="not-an-email"),
        UpdatePatient(name=" "),
        UpdatePatient(date_of_birth=date(2030, 1, 8)),
    ]
    outcomes = [
        outcome(lambda c=c: services.patients.update(clinic.admin, clinic.patient.patient_id, c))
        for c in changes
    ]
    assert outcomes == [InvalidInput] * 3
    stored = services.patients.get(clinic.admin, clinic.patient.patient_id)
    assert stored["email"] == "pat@example.org"
