"""Medical records: who writes them, for whom, and who revises them."""

from __future__ import annotations

import pytest

from healthcare.domain.actor import Actor
from healthcare.domain.appointments import Status
from healthcare.domain.errors import (
    InvalidInput,
    PermissionDenied,
    TransitionNotAllowed,
)
from healthcare.domain.records import MedicalRecord
from tests.factories import AppointmentFactory, MedicalRecordFactory
from tests.unit.cast import (
    ADMIN,
    DOCTOR,
    OTHER_DOCTOR,
    OTHER_PATIENT,
    PATIENT,
    ROLES,
    at,
)

STRANGERS = {name: actor for name, actor in ROLES.items() if actor is not DOCTOR}


def appointment(status: Status = Status.COMPLETED):
    return AppointmentFactory(
        id=5, doctor_id=DOCTOR.doctor_id, patient_id=PATIENT.patient_id, start=at(9), status=status
    )


def write(by: Actor = DOCTOR, status: Status = Status.COMPLETED, **fields) -> MedicalRecord:
    return MedicalRecord.write_for(
        appointment(status), by, at(10), **{"diagnosis": "Flu", **fields}
    )


@pytest.mark.parametrize(
    "status", [Status.PENDING, Status.CONFIRMED, Status.COMPLETED, Status.NO_SHOW]
)
def test_the_appointments_doctor_writes_its_record_unless_it_was_cancelled(status: Status) -> None:
    record = write(status=status, treatment=" Rest ", notes="")
    assert (record.appointment_id, record.patient_id, record.doctor_id) == (
        5,
        PATIENT.patient_id,
        DOCTOR.doctor_id,
    )
    assert (record.diagnosis, record.treatment, record.notes) == ("Flu", "Rest", "")
    assert record.created_at == record.updated_at == at(10)
    assert record.id is None


def test_no_record_is_written_for_a_cancelled_appointment() -> None:
    with pytest.raises(TransitionNotAllowed):
        write(status=Status.CANCELLED)


@pytest.mark.parametrize("actor", STRANGERS.values(), ids=STRANGERS.keys())
def test_nobody_but_the_appointments_doctor_writes_its_record(actor: Actor) -> None:
    with pytest.raises(PermissionDenied):
        write(by=actor)


def test_the_record_is_about_the_appointments_patient() -> None:
    assert write(patient_id=PATIENT.patient_id).patient_id == PATIENT.patient_id
    with pytest.raises(InvalidInput):
        write(patient_id=OTHER_PATIENT.patient_id)


@pytest.mark.parametrize("diagnosis", ["", "   ", "x" * 20_001])
def test_a_record_needs_a_diagnosis_of_reasonable_length(diagnosis: str) -> None:
    with pytest.raises(InvalidInput):
        write(diagnosis=diagnosis)


def test_the_author_revises_the_record_and_its_update_time() -> None:
    record = MedicalRecordFactory(doctor_id=DOCTOR.doctor_id, diagnosis="Flu", treatment="Rest")
    record.revise(DOCTOR, at(12), diagnosis="Pneumonia", treatment=None)
    assert (record.diagnosis, record.treatment, record.updated_at) == ("Pneumonia", "Rest", at(12))


@pytest.mark.parametrize("actor", STRANGERS.values(), ids=STRANGERS.keys())
def test_nobody_but_the_author_revises_a_record(actor: Actor) -> None:
    record = MedicalRecordFactory(doctor_id=DOCTOR.doctor_id, diagnosis="Flu")
    with pytest.raises(PermissionDenied):
        record.revise(actor, at(12), diagnosis="Pneumonia")
    assert record.diagnosis == "Flu"


def test_a_revision_cannot_empty_the_diagnosis() -> None:
    record = MedicalRecordFactory(doctor_id=DOCTOR.doctor_id)
    with pytest.raises(InvalidInput):
        record.revise(DOCTOR, at(12), diagnosis=" ")


@pytest.mark.parametrize(
    ("actor", "author"),
    [(DOCTOR, True), (OTHER_DOCTOR, False), (ADMIN, False), (PATIENT, False)],
    ids=["author", "other_doctor", "admin", "patient"],
)
def test_only_the_writing_doctor_is_the_author(actor: Actor, author: bool) -> None:
    assert MedicalRecordFactory(doctor_id=DOCTOR.doctor_id).is_author(actor) is author
