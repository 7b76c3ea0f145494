"""Doctor profiles: anyone signed in reads them; only admins manage them."""

from __future__ import annotations

import pytest

from healthcare.application.commands import CreateDoctor, UpdateDoctor
from healthcare.domain.appointments import Appointment
from healthcare.domain.errors import (
    InUse,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ProfileAlreadyExists,
)
from tests.use_cases.clinic import (
    NON_ADMINS,
    OK,
    WIDE,
    Clinic,
    Services,
    ids,
    outcome,
    row,
)

DENIED = PermissionDenied


def test_an_admin_creates_a_profile_for_a_doctor_user(services: Services, clinic: Clinic) -> None:
    user_id = services.new_user(clinic.admin, "doctor")
    created = services.doctors.create(
        clinic.admin,
        CreateDoctor(
            user_id,
            "Dr. Grace Hopper",
            "Neurology",
            appointment_minutes=20,
            timezone="Europe/Berlin",
        ),
    )
    stored = services.doctors.get(clinic.patient, created.id)
    assert (stored["user"], stored["name"], stored["specialization"]) == (
        user_id,
        "Dr. Grace Hopper",
        "Neurology",
    )
    assert (stored["appointment_minutes"], stored["timezone"]) == (20, "Europe/Berlin")
    assert services.accounts.actor_for(user_id).doctor_id == created.id


def test_nobody_but_an_admin_creates_a_doctor(services: Services, clinic: Clinic) -> None:
    command = CreateDoctor(services.new_user(clinic.admin, "doctor"), "Dr. X", "Neurology")
    outcomes = clinic.each_role(lambda a: services.doctors.create(a, command), NON_ADMINS)
    assert outcomes == dict.fromkeys(NON_ADMINS, DENIED)
    assert services.doctors.list(clinic.admin, WIDE).total == 2


@pytest.mark.parametrize("role", ["patient", "admin"])
def test_a_doctor_profile_needs_a_doctor_role_user(
    services: Services, clinic: Clinic, role: str
) -> None:
    with pytest.raises(InvalidInput):
        services.doctors.create(
            clinic.admin, CreateDoctor(services.new_user(clinic.admin, role), "Dr. X", "Neurology")
        )


def test_a_doctor_user_has_one_profile_at_most(services: Services, clinic: Clinic) -> None:
    with pytest.raises(ProfileAlreadyExists):
        services.doctors.create(
            clinic.admin, CreateDoctor(clinic.doctor.user_id, "Dr. Twin", "Neurology")
        )


def test_an_invalid_doctor_is_refused_on_create_and_on_update(
    services: Services, clinic: Clinic
) -> None:
    user_id = services.new_user(clinic.admin, "doctor")
    changes = {
        "too-short": {"appointment_minutes": 3},
        "no-zone": {"timezone": "Nowhere/City"},
        "no-name": {"name": ""},
    }
    created = {
        key: outcome(
            lambda c=c: services.doctors.create(
                clinic.admin,
                CreateDoctor(
                    **{"user_id": user_id, "name": "Dr. X", "specialization": "Neurology", **c}
                ),
            )
        )
        for key, c in changes.items()
    }
    updated = {
        key: outcome(
            lambda c=c: services.doctors.update(
                clinic.admin, clinic.doctor.doctor_id, UpdateDoctor(**c)
            )
        )
        for key, c in changes.items()
    }
    assert created == updated == dict.fromkeys(changes, InvalidInput)
    assert services.doctors.get(clinic.admin, clinic.doctor.doctor_id)["appointment_minutes"] == 30


def test_everyone_signed_in_reads_and_lists_the_doctors(services: Services, clinic: Clinic) -> None:
    both = (OK, {clinic.doctor.doctor_id, clinic.other_doctor.doctor_id})
    sight = clinic.sight(
        lambda a: services.doctors.get(a, clinic.doctor.doctor_id),
        lambda a: services.doctors.list(a, WIDE),
    )
    assert sight == row(both, both, both, both, both)


def test_doctors_are_listed_by_specialization_in_any_case(
    services: Services, clinic: Clinic
) -> None:
    for specialization in ["Cardiology", "cardiology", "CARDIOLOGY"]:
        listed = services.doctors.list(clinic.patient, WIDE, specialization=specialization)
        assert ids(listed) == [clinic.doctor.doctor_id], specialization
    assert services.doctors.list(clinic.patient, WIDE, specialization="Oncology").total == 0


def test_an_unknown_doctor_is_not_found(services: Services, clinic: Clinic) -> None:
    missing = clinic.doctor.doctor_id + clinic.other_doctor.doctor_id + 1000
    outcomes = [
        outcome(lambda: services.doctors.get(clinic.admin, missing)),
        outcome(lambda: services.doctors.update(clinic.admin, missing, UpdateDoctor(name="Dr. X"))),
        outcome(lambda: services.doctors.delete(clinic.admin, missing)),
    ]
    assert outcomes == [NotFound] * 3


def test_an_admin_updates_only_the_given_fields(services: Services, clinic: Clinic) -> None:
    services.doctors.update(
        clinic.admin, clinic.doctor.doctor_id, UpdateDoctor(appointment_minutes=45)
    )
    stored = services.doctors.get(clinic.doctor, clinic.doctor.doctor_id)
    assert (stored["appointment_minutes"], stored["name"], stored["specialization"]) == (
        45,
        "Dr. Ada Lovelace",
        "Cardiology",
    )


def test_nobody_but_an_admin_updates_or_deletes_a_doctor(
    services: Services, clinic: Clinic
) -> None:
    doctor_id = clinic.doctor.doctor_id
    updates = clinic.each_role(
        lambda a: services.doctors.update(a, doctor_id, UpdateDoctor(name="Dr. X")), NON_ADMINS
    )
    deletes = clinic.each_role(lambda a: services.doctors.delete(a, doctor_id), NON_ADMINS)
    assert updates == deletes == dict.fromkeys(NON_ADMINS, DENIED)
    assert services.doctors.get(clinic.admin, doctor_id)["name"] == "Dr. Ada Lovelace"


def test_an_admin_deletes_a_doctor_nobody_booked(services: Services, clinic: Clinic) -> None:
    services.doctors.delete(clinic.admin, clinic.other_doctor.doctor_id)
    with pytest.raises(NotFound):
        services.doctors.get(clinic.admin, clinic.other_doctor.doctor_id)
    assert ids(services.doctors.list(clinic.admin, WIDE)) == [clinic.doctor.doctor_id]


def test_a_doctor_with_appointments_is_not_deleted(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    services.appointments.cancel(clinic.patient, booked.id)  # history counts, cancelled or not
    with pytest.raises(InUse):
        services.doctors.delete(clinic.admin, clinic.doctor.doctor_id)
    doctor_id = clinic.doctor.doctor_id
    assert services.doctors.get(clinic.admin, doctor_id)["id"] == doctor_id
