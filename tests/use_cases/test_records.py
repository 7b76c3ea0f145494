"""Medical records: written by the appointment's doctor, read by the few who may."""

from __future__ import annotations

from datetime import timedelta

import pytest

from healthcare.application.commands import (
    BookAppointment,
    ReviseMedicalRecord,
    WriteMedicalRecord,
)
from healthcare.application.ports import RecordFilter
from healthcare.domain.appointments import Appointment
from healthcare.domain.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    RecordAlreadyExists,
    TransitionNotAllowed,
)
from healthcare.domain.records import MedicalRecord
from tests.use_cases.clinic import OK, WIDE, Clinic, Services, at, ids, row

DENIED = PermissionDenied


def write(services: Services, actor, appointment_id: int, **fields) -> MedicalRecord:
    return services.records.create(
        actor, WriteMedicalRecord(appointment_id, **{"diagnosis": "Hypertension", **fields})
    )


@pytest.fixture
def record(services: Services, clinic: Clinic, booked: Appointment) -> MedicalRecord:
    return write(
        services, clinic.doctor, booked.id, treatment="Lisinopril 10 mg", notes="Recheck in 4 weeks"
    )


def introduce_other_doctor(services: Services, clinic: Clinic) -> None:
    """Give the other doctor an appointment with the patient, so the patient becomes theirs too."""
    services.appointments.book(
        clinic.patient, BookAppointment(doctor_id=clinic.other_doctor.doctor_id, start=at(11))
    )


def test_the_appointments_doctor_writes_its_record(
    services: Services, clinic: Clinic, booked: Appointment, clock
) -> None:
    created = write(services, clinic.doctor, booked.id, patient_id=clinic.patient.patient_id)
    stored = services.records.get(clinic.admin, created.id)
    assert (stored["appointment"], stored["patient"], stored["doctor"]) == (
        booked.id,
        clinic.patient.patient_id,
        clinic.doctor.doctor_id,
    )
    assert (stored["diagnosis"], stored["created_at"], stored["updated_at"]) == (
        "Hypertension",
        clock.now(),
        clock.now(),
    )


def test_nobody_else_writes_the_record(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    refused = ["admin", "other_doctor", "patient", "other_patient"]
    outcomes = clinic.each_role(lambda a: write(services, a, booked.id), refused)
    assert outcomes == {
        "admin": DENIED,
        "other_doctor": NotFound,
        "patient": DENIED,
        "other_patient": DENIED,
    }
    assert services.records.list(clinic.admin, WIDE).total == 0


def test_a_record_is_for_the_appointments_patient(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    with pytest.raises(InvalidInput):
        write(services, clinic.doctor, booked.id, patient_id=clinic.other_patient.patient_id)


def test_no_record_for_a_cancelled_appointment(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    services.appointments.cancel(clinic.patient, booked.id)
    with pytest.raises(TransitionNotAllowed):
        write(services, clinic.doctor, booked.id)


def test_an_appointment_has_one_record_at_most(
    services: Services, clinic: Clinic, record: MedicalRecord
) -> None:
    with pytest.raises(RecordAlreadyExists):
        write(services, clinic.doctor, record.appointment_id, diagnosis="Second opinion")
    assert services.records.list(clinic.admin, WIDE).total == 1


def test_a_record_for_an_unknown_appointment_is_not_found(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    with pytest.raises(NotFound):
        write(services, clinic.doctor, booked.id + 1000)


def test_a_record_is_read_by_its_patient_their_doctors_and_admins(
    services: Services, clinic: Clinic, record: MedicalRecord
) -> None:
    sight = clinic.sight(
        lambda a: services.records.get(a, record.id), lambda a: services.records.list(a, WIDE)
    )
    seen, unseen = (OK, {record.id}), (NotFound, set())
    assert sight == row(seen, seen, unseen, seen, unseen)


def test_a_doctor_who_sees_the_patient_reads_another_doctors_record(
    services: Services, clinic: Clinic, record: MedicalRecord
) -> None:
    introduce_other_doctor(services, clinic)
    assert services.records.get(clinic.other_doctor, record.id)["id"] == record.id
    assert ids(services.records.list(clinic.other_doctor, WIDE)) == [record.id]


def test_an_unknown_record_is_not_found(
    services: Services, clinic: Clinic, record: MedicalRecord
) -> None:
    with pytest.raises(NotFound):
        services.records.get(clinic.admin, record.id + 1000)
    with pytest.raises(NotFound):
        services.records.update(clinic.doctor, record.id + 1000, ReviseMedicalRecord(notes="x"))


#: (who lists, the patient and doctor they filter on, whether they get the record)
FILTERS = [
    ("patient", "patient", None, True),
    ("patient", "other_patient", None, False),
    ("other_patient", "patient", None, False),
    ("doctor", None, "doctor", True),
    ("doctor", "other_patient", None, False),
    ("admin", "patient", "doctor", True),
    ("admin", None, "other_doctor", False),
    ("other_doctor", None, "doctor", False),
]


def test_a_record_filter_never_widens_what_one_may_see(
    services: Services, clinic: Clinic, record: MedicalRecord
) -> None:
    def sees(role: str, patient: str | None, doctor: str | None) -> bool:
        where = RecordFilter(
            patient_id=clinic.roles[patient].patient_id if patient else None,
            doctor_id=clinic.roles[doctor].doctor_id if doctor else None,
        )
        listed = ids(services.records.list(clinic.roles[role], WIDE, where))
        assert listed in ([], [record.id])
        return listed == [record.id]

    assert [(*case[:3], sees(*case[:3])) for case in FILTERS] == FILTERS


def test_records_are_listed_by_appointment(
    services: Services, clinic: Clinic, record: MedicalRecord
) -> None:
    listed = services.records.list(
        clinic.admin, WIDE, RecordFilter(appointment_id=record.appointment_id)
    )
    assert ids(listed) == [record.id]
    assert (
        services.records.list(
            clinic.admin, WIDE, RecordFilter(appointment_id=record.appointment_id + 1000)
        ).total
        == 0
    )


def test_only_the_author_revises_a_record(
    services: Services, clinic: Clinic, record: MedicalRecord
) -> None:
    refused = ["admin", "other_doctor", "patient", "other_patient"]
    change = ReviseMedicalRecord(diagnosis="Essential hypertension")
    outcomes = clinic.each_role(lambda a: services.records.update(a, record.id, change), refused)
    assert outcomes == {
        "admin": DENIED,
        "other_doctor": NotFound,
        "patient": DENIED,
        "other_patient": NotFound,
    }
    assert services.records.get(clinic.admin, record.id)["diagnosis"] == "Hypertension"
    services.records.update(clinic.doctor, record.id, change)
    stored = services.records.get(clinic.admin, record.id)
    assert (stored["diagnosis"], stored["treatment"]) == (
        "Essential hypertension",
        "Lisinopril 10 mg",
    )


def test_a_doctor_who_may_read_a_record_still_cannot_revise_it(
    services: Services, clinic: Clinic, record: MedicalRecord
) -> None:
    introduce_other_doctor(services, clinic)
    with pytest.raises(PermissionDenied):
        services.records.update(
            clinic.other_doctor, record.id, ReviseMedicalRecord(notes="mine now")
        )


def test_a_revision_changes_only_the_given_fields_and_the_update_time(
    services: Services, clinic: Clinic, record: MedicalRecord, clock
) -> None:
    clock.advance(timedelta(hours=1))
    services.records.update(clinic.doctor, record.id, ReviseMedicalRecord(notes="Stable"))
    stored = services.records.get(clinic.doctor, record.id)
    assert (stored["diagnosis"], stored["treatment"], stored["notes"]) == (
        "Hypertension",
        "Lisinopril 10 mg",
        "Stable",
    )
    assert stored["updated_at"] == clock.now() != stored["created_at"]


def test_a_revision_cannot_empty_the_diagnosis(
    services: Services, clinic: Clinic, record: MedicalRecord
) -> None:
    with pytest.raises(InvalidInput):
        services.records.update(clinic.doctor, record.id, ReviseMedicalRecord(diagnosis=""))
    assert services.records.get(clinic.doctor, record.id)["diagnosis"] == "Hypertension"
