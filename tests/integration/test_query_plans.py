"""The list queries are served by the indexes the migration made for them (PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from healthcare.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from healthcare.adapters.sqlalchemy.rows import AppointmentRow
from healthcare.application.ports import AppointmentFilter, PageRequest
from healthcare.domain.appointments import Status
from healthcare.domain.model import Doctor
from tests.factories import AppointmentFactory
from tests.support.clinic_rows import add_doctor, add_patient, at, stored

DOCTORS = 20
DAYS = 100


def many_appointments(uow: SqlAlchemyUnitOfWork) -> list[Doctor]:
    doctors = [add_doctor(uow) for _ in range(DOCTORS)]
    patient = add_patient(uow)
    # Straight into the session: two thousand SAVEPOINTs would only slow the setup down.
    uow.session.add_all(
        AppointmentRow.from_domain(
            AppointmentFactory(
                id=None,
                doctor_id=doctor.id,
                patient_id=patient.id,
                start=at(8) + timedelta(days=day),
                status=Status.COMPLETED,  # inactive, so one patient may hold them all
            )
        )
        for doctor in doctors
        for day in range(DAYS)
    )
    return doctors


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_doctors_appointment_list_is_read_through_an_index(
    engine: Engine, sql_uow: Callable[[], SqlAlchemyUnitOfWork]
) -> None:
    doctors = stored(sql_uow, many_appointments)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE appointments"))

    sent: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        sent.append((args[2], args[3]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with sql_uow() as uow:
            page = uow.appointments.list(PageRequest(), AppointmentFilter(doctor_id=doctors[7].id))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert page.total == DAYS
    statement, parameters = next((s, p) for s, p in sent if "ORDER BY" in s)

    with engine.connect() as connection:
        # A table this small might well be read whole; forbid that to see which index serves.
        connection.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars())
    assert "ix_appointments_doctor_start" in plan, plan
