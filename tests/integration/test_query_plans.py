"""The list queries are served by the indexes the migration made for them (PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from healthcare.adapters.sqlalchemy import SqlAlchemyReadModel, SqlAlchemyUnitOfWork
from healthcare.domain.access import Scope
from healthcare.application.ports import AppointmentFilter, PageRequest
from healthcare.domain.appointments import Status
from healthcare.domain.doctors import Doctor
from healthcare.domain.time import Interval
from tests.factories import AppointmentFactory
from tests.support.clinic_rows import (
    add_appointment,
    add_doctor,
    add_patient,
    at,
    stored,
)

DOCTORS = 20
DAYS = 100
#: Appointments of the second patient: a short list beside the first patient's long one.
PAGE_OF_A_FEW = 5


def many_appointments(uow: SqlAlchemyUnitOfWork) -> list[Doctor]:
    doctors = [add_doctor(uow) for _ in range(DOCTORS)]
    patient = add_patient(uow)
    uow.appointments.add_many(
        [
            AppointmentFactory(
                id=None,
                doctor_id=doctor.id,
                patient_id=patient.id,
                start=at(8) + timedelta(days=day),
                status=Status.COMPLETED,  # inactive, so one patient may hold them all
            )
            for doctor in doctors
            for day in range(DAYS)
        ]
    )
    return doctors


def plans_of(
    engine: Engine, query: Callable[[], object], seqscan: bool = False
) -> tuple[object, list[str]]:
    """What ``query`` returned, and the PostgreSQL plan of each statement it sent."""
    sent: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        sent.append((args[2], args[3]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        result = query()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    with engine.connect() as connection:
        # A table this small might well be read whole; forbid that to see which index serves.
        connection.execute(text(f"SET enable_seqscan = {'on' if seqscan else 'off'}"))
        plans = [
            "\n".join(connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars())
            for statement, parameters in sent
            if statement.lstrip().upper().startswith("SELECT")
        ]
    return result, plans


@pytest.fixture
def doctors(engine: Engine, sql_uow: Callable[[], SqlAlchemyUnitOfWork]) -> list[Doctor]:
    doctors = stored(sql_uow, many_appointments)

    def occasional_patient(uow: SqlAlchemyUnitOfWork) -> None:
        patient = add_patient(uow)
        for day in range(PAGE_OF_A_FEW):
            add_appointment(
                uow, doctors[0], patient, at(8) + timedelta(days=day), status=Status.COMPLETED
            )

    def active_calendars(uow: SqlAlchemyUnitOfWork) -> None:
        # Pending visits of every doctor, as a real calendar has: without them the partial
        # (active-only) exclusion indexes are empty and look cheapest to the planner.
        for day in range(DAYS):
            patient = add_patient(uow)
            for hour, doctor in enumerate(doctors[:6]):  # doctors[7] keeps its DAYS only
                add_appointment(uow, doctor, patient, at(9 + hour) + timedelta(days=day))

    stored(sql_uow, occasional_patient)
    stored(sql_uow, active_calendars)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE appointments"))
    return doctors


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_doctors_appointment_list_is_read_through_an_index(
    engine: Engine, sql_uow: Callable[[], SqlAlchemyUnitOfWork], doctors: list[Doctor]
) -> None:
    reads = SqlAlchemyReadModel(engine)
    page, plans = plans_of(
        engine,
        lambda: reads.appointments(Scope(doctor_id=doctors[7].id), PageRequest(), AppointmentFilter()),
    )
    assert page.total == DAYS  # type: ignore[attr-defined]
    assert plans and all("ix_appointments_doctor_start" in plan for plan in plans), plans
    # Leaving out reschedules' history reads only the reschedules (a partial index), not every
    # appointment of the clinic (32 ms for a doctor's page at 200k appointments), even where
    # the planner may read whole tables.
    _, plans = plans_of(
        engine,
        lambda: reads.appointments(Scope(doctor_id=doctors[7].id), PageRequest(), AppointmentFilter()),
        seqscan=True,
    )
    assert not any("Seq Scan on appointments other" in plan for plan in plans), plans


#: The slot search's and the patient list's statements, and the indexes that may serve each
#: (every one of the groups, for a statement made of several parts).
SEARCHES: dict[str, tuple[Callable[[Engine, Doctor, Interval], object], list[set[str]]]] = {
    "a patient's appointment list": (
        lambda engine, doctor, month: SqlAlchemyReadModel(engine).appointments(
            Scope(patient_id=2), PageRequest(page_size=50), AppointmentFilter()
        ),
        [{"ix_appointments_patient_start"}],
    ),
    # Booking and the slot search read the doctor's calendar in one statement.
    "a doctor's calendar in a month": (
        lambda engine, doctor, month: _calendar(engine, doctor, month),
        [
            {"ix_availability_rules_doctor"},
            {"ix_availabilities_doctor_start", "ex_availabilities_overlap"},
            {"ix_availability_exceptions_doctor_start"},
            {"ix_appointments_doctor_start", "ex_appointments_doctor_overlap"},
            {"ix_appointments_patient_start", "ex_appointments_patient_overlap"},
        ],
    ),
}


def _calendar(engine: Engine, doctor: Doctor, month: Interval) -> object:
    with SqlAlchemyUnitOfWork(engine).read_only() as uow:
        return uow.calendars.load(doctor, month, patient_id=2)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("search", list(SEARCHES))
def test_the_list_and_slot_queries_are_read_through_an_index(
    engine: Engine, doctors: list[Doctor], search: str
) -> None:
    query, index_groups = SEARCHES[search]
    month = Interval(at(0) + timedelta(days=10), at(0) + timedelta(days=41))
    _, plans = plans_of(engine, lambda: query(engine, doctors[3], month))
    assert plans, "nothing was read"
    for plan in plans:
        assert all(any(index in plan for index in group) for group in index_groups), plan
