"""Entities of the clinic: identity, validation of their own fields, and the Actor."""

from __future__ import annotations

from datetime import date

import pytest

from healthcare.domain.actor import Actor
from healthcare.domain.doctors import Doctor
from healthcare.domain.errors import InvalidInput, NaiveDatetime, PermissionDenied
from healthcare.domain.patients import Patient
from healthcare.domain.users import Role, normalize_email
from tests.factories import (
    AppointmentFactory,
    DoctorFactory,
    PatientFactory,
    UserFactory,
)


def test_an_email_is_stored_trimmed_and_in_lower_case() -> None:
    assert UserFactory(email="  Alice.Smith@Example.ORG ").email == "alice.smith@example.org"


@pytest.mark.parametrize("email", ["alice", "alice@", "@example.org", "a b@example.org", "a@b"])
def test_a_malformed_email_is_refused(email: str) -> None:
    with pytest.raises(InvalidInput):
        UserFactory(email=email)


@pytest.mark.parametrize(
    "email",
    [
        "ctl\u0001x\u0007@ex.am\u0002ple",  # control characters: registered before
        "a\u007f@example.org",
        "tab\tin@example.org",
        "pat@exa\u0000mple.org",
        "pat@example.org\u200b",  # an invisible zero-width space
        "Pat Lee <pat@example.org>",  # a display name
        '"quoted"@example.org',
        "pat@[127.0.0.1]",
        "pat@localhost",
        "pat@-example.org",
        "pat..lee@example.org",
        "x" * 250 + "@example.org",
    ],
)
def test_an_address_mail_could_not_carry_is_refused_for_users_and_patients(email: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        UserFactory(email=email)
    assert "email" in (refused.value.errors or {})
    with pytest.raises(InvalidInput):
        Patient(user_id=1, name="Ann", email=email)


def test_one_mailbox_has_one_stored_spelling() -> None:
    """Case, the IDNA form of the domain and Unicode composition all fold to one address, so the
    case-insensitive uniqueness of emails holds for each of them."""
    assert normalize_email("Zoë@Exämple.TEST") == "zoë@exämple.test"
    assert normalize_email("Zoe\u0308@exa\u0308mple.test") == "zoë@exämple.test"  # decomposed
    assert normalize_email(" pat@example.test ") == "pat@example.test"  # reserved .test is fine


def test_a_users_role_is_one_of_the_three() -> None:
    assert UserFactory(role="doctor").role is Role.DOCTOR
    with pytest.raises(ValueError):
        UserFactory(role="nurse")


def test_a_user_created_at_a_naive_time_is_refused() -> None:
    with pytest.raises(NaiveDatetime):
        UserFactory(created_at=UserFactory().created_at.replace(tzinfo=None))


def test_the_password_hash_never_shows_in_a_users_repr() -> None:
    user = UserFactory(password_hash="$argon2id$secret")
    assert "secret" not in repr(user)


@pytest.mark.parametrize(
    ("minutes", "valid"), [(4, False), (5, True), (30, True), (480, True), (481, False)]
)
def test_a_doctors_appointment_length_is_between_five_minutes_and_eight_hours(
    minutes: int, valid: bool
) -> None:
    if valid:
        assert DoctorFactory(appointment_minutes=minutes).appointment_minutes == minutes
    else:
        with pytest.raises(InvalidInput):
            DoctorFactory(appointment_minutes=minutes)


@pytest.mark.parametrize(
    "change",
    [{"name": "  "}, {"specialization": ""}, {"timezone": "Middle/Earth"}, {"name": "x" * 201}],
)
def test_a_doctor_needs_a_name_a_specialization_and_a_real_zone(change: dict[str, str]) -> None:
    with pytest.raises(InvalidInput):
        DoctorFactory(**change)


def test_a_doctor_defaults_to_thirty_minute_appointments_in_utc() -> None:
    doctor = Doctor(user_id=1, name="Dr. Smith", specialization="Cardiology")
    assert (doctor.appointment_minutes, doctor.timezone) == (30, "UTC")


def test_a_patient_born_in_the_future_is_refused_once_today_is_known() -> None:
    patient = PatientFactory(date_of_birth=date(2030, 6, 1))  # no "today" at construction
    patient.validate(today=date(2030, 6, 1))  # born today is fine
    with pytest.raises(InvalidInput):
        patient.validate(today=date(2030, 5, 31))


def test_a_patient_needs_a_name_and_a_valid_email_but_phone_and_insurance_are_optional() -> None:
    patient = Patient(user_id=1, name="Ann", email="ANN@example.org")
    assert (patient.email, patient.phone, patient.insurance_id) == ("ann@example.org", "", "")
    with pytest.raises(InvalidInput):
        Patient(user_id=1, name="", email="ann@example.org")


def test_a_patient_may_edit_only_the_contact_fields() -> None:
    assert Patient.CONTACT_FIELDS == {"name", "email", "phone"}


def test_stored_entities_are_equal_by_id_and_type() -> None:
    assert DoctorFactory(id=7, name="Dr. A") == DoctorFactory(id=7, name="Dr. B")
    assert DoctorFactory(id=7) != DoctorFactory(id=8)
    assert DoctorFactory(id=7) != PatientFactory(id=7)
    assert len({DoctorFactory(id=7), DoctorFactory(id=7)}) == 1


def test_an_unsaved_entity_equals_only_itself() -> None:
    doctor = DoctorFactory()
    twin = DoctorFactory(user_id=doctor.user_id, name=doctor.name)
    assert doctor == doctor  # noqa: PLR0124 - identity is the point
    assert doctor != twin
    assert len({doctor, twin}) == 2


def test_the_system_actor_is_an_admin_with_no_user_behind_it() -> None:
    system = Actor.system()
    assert system.is_admin and system.user_id is None
    assert not (system.is_doctor or system.is_patient)


def test_an_actor_without_the_role_is_refused() -> None:
    patient = Actor(user_id=1, role=Role.PATIENT, patient_id=1)
    patient.require_role(Role.PATIENT, Role.ADMIN)
    with pytest.raises(PermissionDenied):
        patient.require_role(Role.DOCTOR, Role.ADMIN)


def test_an_appointment_reason_longer_than_a_thousand_characters_is_refused() -> None:
    assert len(AppointmentFactory(reason="x" * 1000).reason) == 1000
    with pytest.raises(InvalidInput):
        AppointmentFactory(reason="x" * 1001)


def test_a_user_factory_builds_every_role() -> None:
    roles = {UserFactory().role, UserFactory(doctor=True).role, UserFactory(admin=True).role}
    assert roles == set(Role)
