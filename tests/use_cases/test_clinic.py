"""The seeded clinic itself: the fixtures the rest of the suite relies on."""

from __future__ import annotations

from healthcare.domain.users import Role
from tests.use_cases.clinic import Clinic, Services, at


def test_the_clinic_has_one_actor_of_each_kind_with_their_profiles(clinic: Clinic) -> None:
    assert clinic.admin.role is Role.ADMIN and clinic.admin.user_id is not None
    assert {clinic.doctor.role, clinic.other_doctor.role} == {Role.DOCTOR}
    assert {clinic.patient.role, clinic.other_patient.role} == {Role.PATIENT}
    assert None not in {clinic.doctor.doctor_id, clinic.other_doctor.doctor_id}
    assert None not in {clinic.patient.patient_id, clinic.other_patient.patient_id}
    assert len({a.user_id for a in clinic.roles.values()}) == 5


def test_each_doctor_has_a_morning_window_today(services: Services, clinic: Clinic) -> None:
    for actor, window in (
        (clinic.doctor, clinic.window),
        (clinic.other_doctor, clinic.other_window),
    ):
        stored = services.availability.get(actor, window.id)
        assert (stored["doctor"], stored["start_time"], stored["end_time"]) == (
            actor.doctor_id,
            at(9),
            at(12),
        )
