"""The unit of work as every backend must honour it: nothing sticks without update and commit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from healthcare.application.unit_of_work import ReadOnlyViolation, UnitOfWork
from healthcare.domain.appointments import Appointment, Status
from healthcare.domain.availability import Availability
from healthcare.domain.errors import (
    OverlappingAvailability,
    PatientDoubleBooked,
    RecordAlreadyExists,
    SlotUnavailable,
)
from healthcare.domain.records import MedicalRecord
from tests.use_cases.clinic import Clinic, at


def stored(uow_factory: Callable[[], UnitOfWork], appointment_id: int) -> Appointment:
    with uow_factory() as uow:
        found = uow.appointments.get(appointment_id)
    assert found is not None
    return found


def test_a_change_without_update_is_lost_even_when_committed(
    uow_factory, booked: Appointment
) -> None:
    with uow_factory() as uow:
        appointment = uow.appointments.get(booked.id)
        appointment.status = Status.CANCELLED
        appointment.reason = "forgotten"
        uow.commit()
    assert (stored(uow_factory, booked.id).status, stored(uow_factory, booked.id).reason) == (
        Status.PENDING,
        "Checkup",
    )


def test_an_update_without_commit_is_rolled_back(uow_factory, booked: Appointment) -> None:
    with uow_factory() as uow:
        appointment = uow.appointments.get(booked.id)
        appointment.reason = "uncommitted"
        uow.appointments.update(appointment)
    assert stored(uow_factory, booked.id).reason == "Checkup"


def test_an_update_with_commit_is_kept(uow_factory, booked: Appointment) -> None:
    with uow_factory() as uow:
        appointment = uow.appointments.get(booked.id)
        appointment.reason = "committed"
        uow.appointments.update(appointment)
        uow.commit()
    assert stored(uow_factory, booked.id).reason == "committed"


def test_an_error_inside_the_unit_of_work_rolls_everything_back(
    uow_factory, clinic: Clinic, booked: Appointment
) -> None:
    with pytest.raises(RuntimeError), uow_factory() as uow:
        appointment = uow.appointments.get(booked.id)
        appointment.reason = "half done"
        uow.appointments.update(appointment)
        raise RuntimeError("crash before commit")
    assert stored(uow_factory, booked.id).reason == "Checkup"


def test_what_a_repository_returns_is_a_copy(uow_factory, booked: Appointment) -> None:
    with uow_factory() as uow:
        first = uow.appointments.get(booked.id)
        first.reason = "changed in memory only"
        again = uow.appointments.get(booked.id)
    assert again.reason == "Checkup"
    assert first is not again


# -- guarantees the storage keeps by itself (SPEC 3, rule 6: not only a read-then-write check) --


def overlapping_copy(booked: Appointment, **changes) -> Appointment:
    fields = {
        "patient_id": booked.patient_id,
        "doctor_id": booked.doctor_id,
        "start": booked.start + timedelta(minutes=15),
        "end": booked.end + timedelta(minutes=15),
        "created_at": booked.created_at,
        "updated_at": booked.updated_at,
        **changes,
    }
    return Appointment(**fields)


@pytest.mark.parametrize(
    ("party", "refusal"), [("patient_id", SlotUnavailable), ("doctor_id", PatientDoubleBooked)]
)
def test_the_storage_refuses_a_second_active_appointment_in_the_same_time(
    uow_factory, clinic: Clinic, booked: Appointment, party: str, refusal: type[Exception]
) -> None:
    """Bypassing the service's check, as a concurrent request would, still fails."""
    stranger = {
        "patient_id": clinic.other_patient.patient_id,
        "doctor_id": clinic.other_doctor.doctor_id,
    }
    with pytest.raises(refusal), uow_factory() as uow:
        uow.appointments.add(overlapping_copy(booked, **{party: stranger[party]}))
        uow.commit()
    with uow_factory() as uow:
        assert (
            uow.appointments.active_overlapping(booked.interval, doctor_id=booked.doctor_id) != []
        )
        assert [
            a.id
            for a in uow.appointments.active_overlapping(
                booked.interval, patient_id=booked.patient_id
            )
        ] == [booked.id]


@pytest.mark.parametrize("status", [Status.CANCELLED, Status.COMPLETED, Status.NO_SHOW])
def test_the_storage_lets_inactive_appointments_share_the_time(
    uow_factory, booked: Appointment, status: Status
) -> None:
    with uow_factory() as uow:
        added = uow.appointments.add(overlapping_copy(booked, status=status))
        uow.commit()
    assert stored(uow_factory, added.id).status is status


def test_the_storage_refuses_overlapping_windows_and_a_second_record(
    uow_factory, clinic: Clinic, booked: Appointment
) -> None:
    window = Availability(doctor_id=clinic.doctor.doctor_id, start=at(11, 59), end=at(13))
    with pytest.raises(OverlappingAvailability), uow_factory() as uow:
        uow.availabilities.add(window)
        uow.commit()
    record = MedicalRecord.write_for(booked, clinic.doctor, at(8), diagnosis="Flu")
    with uow_factory() as uow:
        uow.records.add(record)
        uow.commit()
    with pytest.raises(RecordAlreadyExists), uow_factory() as uow:
        uow.records.add(MedicalRecord.write_for(booked, clinic.doctor, at(8), diagnosis="Again"))
        uow.commit()


def test_a_read_only_unit_of_work_reads_but_refuses_to_commit(
    uow_factory, booked: Appointment
) -> None:
    with uow_factory().read_only() as uow:
        appointment = uow.appointments.get(booked.id)
        assert appointment is not None and appointment.reason == "Checkup"
        with pytest.raises(ReadOnlyViolation):
            uow.commit()
