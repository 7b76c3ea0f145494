"""Scheduling guarantees the database keeps on its own, on both engines: the buffer after an
appointment is as race-safe as the appointment, and a key books once however many retries race.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from sqlalchemy.exc import IntegrityError

from healthcare.adapters.clock import FixedClock
from healthcare.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from healthcare.application.commands import BookAppointment
from healthcare.domain.time import Interval
from healthcare.application.services import AppointmentService
from healthcare.domain.actor import Actor
from healthcare.domain.errors import DomainError, IdempotencyKeyTaken, SlotUnavailable
from healthcare.domain.idempotency import Claim, IdempotencyRecord
from healthcare.domain.users import Role
from tests.conftest import NOW
from tests.support.clinic_rows import (
    add_appointment,
    add_doctor,
    add_patient,
    add_window,
    at,
    stored,
)

UowFactory = Callable[[], SqlAlchemyUnitOfWork]


def test_an_appointment_inside_anothers_buffer_is_refused_by_the_database(
    sql_uow: UowFactory,
) -> None:
    doctor, first, second = stored(
        sql_uow, lambda uow: (add_doctor(uow), add_patient(uow), add_patient(uow))
    )
    stored(  # 10:00-10:30, the doctor busy until 10:45
        sql_uow, lambda uow: add_appointment(uow, doctor, first, at(10), blocked_until=at(10, 45))
    )
    with sql_uow() as uow, pytest.raises(SlotUnavailable) as refused:
        add_appointment(uow, doctor, second, at(10, 30))
    assert isinstance(refused.value.__cause__, IntegrityError)
    # ... and one whose own buffer runs into the next appointment.
    with sql_uow() as uow, pytest.raises(SlotUnavailable):
        add_appointment(uow, doctor, second, at(9, 30), blocked_until=at(10, 5))
    stored(sql_uow, lambda uow: add_appointment(uow, doctor, second, at(10, 45)))  # touching


def test_a_stored_key_is_taken_for_that_user(sql_uow: UowFactory) -> None:
    def record(user_id: int, appointment_id: int) -> IdempotencyRecord:
        owner = f"user:{user_id}"
        return Claim(owner, "key-1", "f" * 64, "appointment").record(appointment_id, NOW)

    def setup(uow: SqlAlchemyUnitOfWork):
        doctor, patient = add_doctor(uow), add_patient(uow)
        return add_appointment(uow, doctor, patient, at(10)), patient.user_id

    appointment, user_id = stored(sql_uow, setup)
    stored(sql_uow, lambda uow: uow.idempotency_keys.add(record(user_id, appointment.id)))
    with sql_uow() as uow:
        with pytest.raises(IdempotencyKeyTaken):
            uow.idempotency_keys.add(record(user_id, appointment.id))
        stored_key = uow.idempotency_keys.get(f"user:{user_id}", "key-1")
        assert (stored_key.resource, stored_key.resource_id) == ("appointment", appointment.id)
        assert uow.idempotency_keys.get(f"user:{user_id + 1}", "key-1") is None


@pytest.mark.parametrize("racers", [6])
def test_retries_racing_with_one_key_book_once_and_all_get_that_booking(
    sql_uow: UowFactory, racers: int
) -> None:
    def setup(uow: SqlAlchemyUnitOfWork):
        doctor = add_doctor(uow)
        add_window(uow, doctor, at(9), at(17))
        return doctor, add_patient(uow)

    doctor, patient = stored(sql_uow, setup)
    actor = Actor(user_id=patient.user_id, role=Role.PATIENT, patient_id=patient.id)
    service = AppointmentService(sql_uow, FixedClock(NOW))
    barrier = Barrier(racers)

    def retry(_: int) -> object:
        barrier.wait(timeout=30)
        try:
            return service.book(actor, BookAppointment(doctor.id, at(10)), "same-key").id  # type: ignore[arg-type]
        except DomainError as error:
            return type(error).__name__

    with ThreadPoolExecutor(racers) as pool:
        outcomes = list(pool.map(retry, range(racers)))
    with sql_uow() as uow:
        (booked,) = uow.appointments.active_overlapping(Interval(at(0), at(23)), doctor_id=doctor.id)
    assert outcomes == [booked.id] * racers
