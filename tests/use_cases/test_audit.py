"""The audit trail: every read, list, create and update of a medical record or a patient
profile leaves exactly one event per subject, refused attempts included."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from healthcare.application.commands import (
    BookAppointment,
    CreatePatient,
    CreateUser,
    RegisterPatient,
    ReviseMedicalRecord,
    UpdatePatient,
    WriteMedicalRecord,
)
from healthcare.application.ports import AuditFilter, RecordFilter
from healthcare.application.read_model import View
from healthcare.domain.appointments import Appointment
from healthcare.domain.audit import Action, Outcome, Resource
from healthcare.domain.errors import InvalidInput, NotFound, PermissionDenied
from healthcare.domain.records import MedicalRecord
from tests.use_cases.clinic import OK, PASSWORD, WIDE, Clinic, Services, at, outcome

PATIENT, RECORD = Resource.PATIENT, Resource.MEDICAL_RECORD
ALLOWED, DENIED = Outcome.ALLOWED, Outcome.DENIED
READ, LIST, CREATE, UPDATE = Action.READ, Action.LIST, Action.CREATE, Action.UPDATE
FORBIDDEN = PermissionDenied  # the error; DENIED is the audit outcome


@dataclass(frozen=True)
class Scene:
    booked: Appointment  # 10:00, no record yet
    record: MedicalRecord  # on the patient's 11:00 appointment with the doctor


@pytest.fixture
def scene(services: Services, clinic: Clinic, booked: Appointment) -> Scene:
    earlier = services.appointments.book(
        clinic.patient, BookAppointment(doctor_id=clinic.doctor.doctor_id, start=at(11))
    )
    record = services.records.create(
        clinic.doctor, WriteMedicalRecord(earlier.id, diagnosis="Asthma")
    )
    return Scene(booked=booked, record=record)


def test_every_access_to_patient_data_leaves_one_audit_event(
    services: Services, clinic: Clinic, scene: Scene, clock
) -> None:
    """The attempts run one after another on one clinic; each must add exactly its own event."""
    s, c = services, clinic
    patient, record = c.patient.patient_id, scene.record.id
    note = ReviseMedicalRecord(notes="Inhaler")
    #: (attempt, how it ends, the event it leaves: action, resource, outcome, actor, resource id, patient id)
    attempts = [
        ("read own profile", lambda: s.patients.get(c.patient, patient), OK,
         (READ, PATIENT, ALLOWED, c.patient, patient, patient)),
        ("read a stranger's profile", lambda: s.patients.get(c.other_patient, patient), NotFound,
         (READ, PATIENT, DENIED, c.other_patient, patient, None)),
        ("list own profile", lambda: s.patients.list(c.patient, WIDE), OK,
         (LIST, PATIENT, ALLOWED, c.patient, patient, patient)),
        ("list no patients", lambda: s.patients.list(c.other_doctor, WIDE), OK,
         (LIST, PATIENT, ALLOWED, c.other_doctor, None, None)),
        ("create a profile as a doctor",
         lambda: s.patients.create(c.doctor, CreatePatient(c.patient.user_id, "X", "x@example.org")), FORBIDDEN,
         (CREATE, PATIENT, DENIED, c.doctor, None, None)),
        ("update own phone", lambda: s.patients.update(c.patient, patient, UpdatePatient(phone="555-0123")), OK,
         (UPDATE, PATIENT, ALLOWED, c.patient, patient, patient)),
        ("update a profile as its doctor", lambda: s.patients.update(c.doctor, patient, UpdatePatient(phone="1")), FORBIDDEN,
         (UPDATE, PATIENT, DENIED, c.doctor, patient, None)),
        ("update own insurance", lambda: s.patients.update(c.patient, patient, UpdatePatient(insurance_id="X")), FORBIDDEN,
         (UPDATE, PATIENT, DENIED, c.patient, patient, None)),
        ("write a record as the patient",
         lambda: s.records.create(c.patient, WriteMedicalRecord(scene.booked.id, diagnosis="Fine")), FORBIDDEN,
         (CREATE, RECORD, DENIED, c.patient, None, None)),
        ("write a record as a stranger doctor",
         lambda: s.records.create(c.other_doctor, WriteMedicalRecord(scene.booked.id, "Flu", patient_id=patient)), NotFound,
         (CREATE, RECORD, DENIED, c.other_doctor, None, patient)),
        ("read own record", lambda: s.records.get(c.patient, record), OK,
         (READ, RECORD, ALLOWED, c.patient, record, patient)),
        ("read a stranger's record", lambda: s.records.get(c.other_patient, record), NotFound,
         (READ, RECORD, DENIED, c.other_patient, record, None)),
        ("list records as the doctor", lambda: s.records.list(c.doctor, WIDE), OK,
         (LIST, RECORD, ALLOWED, c.doctor, record, patient)),
        ("list a stranger's records", lambda: s.records.list(c.other_patient, WIDE, RecordFilter(patient_id=patient)), OK,
         (LIST, RECORD, ALLOWED, c.other_patient, None, patient)),
        ("revise own record", lambda: s.records.update(c.doctor, record, note), OK,
         (UPDATE, RECORD, ALLOWED, c.doctor, record, patient)),
        ("revise a record as an admin", lambda: s.records.update(c.admin, record, note), FORBIDDEN,
         (UPDATE, RECORD, DENIED, c.admin, record, None)),
        ("revise a stranger's record", lambda: s.records.update(c.other_patient, record, note), NotFound,
         (UPDATE, RECORD, DENIED, c.other_patient, record, None)),
    ]  # fmt: skip
    found, wanted = [], []
    for name, attempt, ends, (action, resource, result, actor, resource_id, patient_id) in attempts:
        before = len(services.audit_trail())
        ends_as = outcome(attempt)
        trail = services.audit_trail()  # newest first
        found.append((name, ends_as, [event_of(e) for e in trail[: len(trail) - before]]))
        wanted.append(
            (
                name,
                ends,
                [(action, resource, result, actor.user_id, resource_id, patient_id, clock.now())],
            )
        )
    assert found == wanted


def event_of(event: View) -> tuple:
    return (
        event["action"],
        event["resource"],
        event["outcome"],
        event["actor"],
        event["resource_id"],
        event["patient"],
        event["at"],
    )


def test_writing_a_record_is_audited_with_the_new_records_id(
    services: Services, clinic: Clinic, scene: Scene, clock
) -> None:
    created = services.records.create(
        clinic.doctor, WriteMedicalRecord(scene.booked.id, diagnosis="Flu")
    )
    assert event_of(services.audit_trail()[0]) == (
        CREATE,
        RECORD,
        ALLOWED,
        clinic.doctor.user_id,
        created.id,
        clinic.patient.patient_id,
        clock.now(),
    )


def test_listing_patients_leaves_one_event_per_patient_shown(
    services: Services, clinic: Clinic
) -> None:
    services.patients.list(clinic.admin, WIDE)
    events = services.audit_trail(actor_id=clinic.admin.user_id, action=Action.LIST)
    expected = {clinic.patient.patient_id, clinic.other_patient.patient_id}
    assert {e["patient"] for e in events} == {e["resource_id"] for e in events} == expected
    assert len(events) == 2


def test_registration_and_an_admins_new_profile_are_audited_as_creations(
    services: Services, clinic: Clinic
) -> None:
    account = services.accounts.register_patient(
        RegisterPatient("new@example.org", PASSWORD, "New Patient")
    )
    created = services.accounts.create_user(
        clinic.admin, CreateUser("walk-in@example.org", PASSWORD, "patient", name="Walk In")
    )
    events = services.audit_trail(action=Action.CREATE, resource=PATIENT)
    assert [(e["actor"], e["patient"]) for e in events[:2]] == [
        (clinic.admin.user_id, created.patient.id),
        (account.user.id, account.patient.id),
    ]


def test_a_refused_change_leaves_no_allowed_event(services: Services, clinic: Clinic) -> None:
    before = services.audit_trail()
    with pytest.raises(InvalidInput):
        services.patients.update(
            clinic.admin, clinic.patient.patient_id, UpdatePatient(email="not-an-email")
        )
    assert services.audit_trail() == before


@pytest.mark.parametrize("role", ["doctor", "other_doctor", "patient", "other_patient"])
def test_only_admins_read_the_audit_trail(services: Services, clinic: Clinic, role: str) -> None:
    with pytest.raises(PermissionDenied):
        services.audit.list(clinic.roles[role], WIDE)


def test_an_admin_filters_the_trail_newest_first(
    services: Services, clinic: Clinic, scene: Scene
) -> None:
    services.records.get(clinic.patient, scene.record.id)
    with pytest.raises(NotFound):
        services.records.get(clinic.other_patient, scene.record.id)
    trail = services.audit.list(clinic.admin, WIDE).items
    assert [e["id"] for e in trail] == sorted((e["id"] for e in trail), reverse=True)
    denied = services.audit.list(clinic.admin, WIDE, AuditFilter(outcome=DENIED)).items
    assert [(e["actor"], e["resource_id"]) for e in denied] == [
        (clinic.other_patient.user_id, scene.record.id)
    ]
    reads = services.audit.list(
        clinic.admin,
        WIDE,
        AuditFilter(resource=RECORD, action=Action.READ, patient_id=clinic.patient.patient_id),
    ).items
    assert [e["actor"] for e in reads] == [clinic.patient.user_id]
    assert services.audit.list(clinic.admin, WIDE, AuditFilter(start=at(9))).total == 0
