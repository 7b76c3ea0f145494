"""The SQL repositories answer every query exactly as the in-memory reference does.

One clinic is stored in both; then each query runs on both and the answers (ids, in order,
with totals) must match. Plus what only SQL can get wrong: one query per actor look-up, one
INSERT per audit batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event

from healthcare.adapters.in_memory import InMemoryStore, InMemoryUnitOfWork
from healthcare.application.ports import (
    AppointmentFilter,
    AuditFilter,
    AvailabilityFilter,
    PageRequest,
    PatientFilter,
    RecordFilter,
)
from healthcare.application.unit_of_work import UnitOfWork
from healthcare.domain.appointments import Status
from healthcare.domain.audit import Action, Outcome, Resource
from healthcare.domain.notifications import OutboxMessage
from healthcare.domain.time import Interval
from healthcare.domain.users import Role
from tests.factories import AuditEventFactory, MedicalRecordFactory, UserFactory
from tests.support.clinic_rows import (
    DAY,
    add_appointment,
    add_doctor,
    add_patient,
    add_window,
    at,
    stored,
)

UowFactory = Callable[[], UnitOfWork]


def build_clinic(uow: UnitOfWork) -> None:
    """Deterministic: the same calls on both adapters give the same ids."""
    doctors = [add_doctor(uow, specialization=s) for s in ("Cardiology", "cardiology", "Neuro")]
    patients = [add_patient(uow) for _ in range(4)]
    uow.users.add(UserFactory(role=Role.ADMIN))
    for day in range(3):
        for doctor in doctors:
            start = at(9) + timedelta(days=day)
            add_window(uow, doctor, start, start + timedelta(hours=4))
    statuses = [Status.PENDING, Status.CONFIRMED, Status.CANCELLED, Status.COMPLETED]
    for n in range(24):
        doctor, patient = doctors[n % 3], patients[n % 4]
        # Several appointments share a start, so the id breaks the tie in the ordering.
        start = at(9) + timedelta(days=n % 2, minutes=30 * (n // 4))
        appointment = add_appointment(
            uow, doctor, patient, start, status=statuses[n % 4] if n % 5 else Status.CANCELLED
        )
        if appointment.status is Status.COMPLETED:
            uow.records.add(MedicalRecordFactory(appointment=appointment))
    uow.audit.add_many(
        [
            AuditEventFactory(
                at=DAY + timedelta(minutes=n),
                actor_id=1 + n % 3,
                patient_id=patients[n % 4].id,
                resource=Resource.PATIENT if n % 2 else Resource.MEDICAL_RECORD,
                action=Action.READ if n % 3 else Action.LIST,
                outcome=Outcome.DENIED if n % 7 == 0 else Outcome.ALLOWED,
            )
            for n in range(20)
        ]
    )
    for n in (1, 2, 3, 2, 4):  # a repeated key is stored once
        uow.outbox.add_if_absent(message(f"reminder:{n}"))
    uow.outbox.mark_sent(2, DAY)


def message(key: str) -> OutboxMessage:
    return OutboxMessage(key=key, recipient="pat@example.org", subject="S", body="B", created_at=DAY)


def ids(found: Any) -> Any:
    """A comparable form of a repository answer."""
    if hasattr(found, "items"):
        return (found.total, [item.id for item in found.items])
    if isinstance(found, list):
        return [item.id for item in found]
    if hasattr(found, "id"):
        return found.id
    return found


PAGE = PageRequest(page=1, page_size=5)
SECOND_PAGE = PageRequest(page=2, page_size=5)
FAR_PAGE = PageRequest(page=40, page_size=5)
MORNING = Interval(at(9, 15), at(10, 15))

QUERIES: dict[str, Callable[[UnitOfWork], Any]] = {
    "users by role": lambda uow: uow.users.list(PAGE, role=Role.PATIENT),
    "users, a page past the end": lambda uow: uow.users.list(FAR_PAGE),
    "user by email in capitals": lambda uow: uow.users.get_by_email(
        uow.users.get(2).email.upper()  # type: ignore[union-attr]
    ),
    "actor of a doctor": lambda uow: uow.users.get_actor(1),
    "actor of a patient": lambda uow: uow.users.get_actor(4),
    "actor of nobody": lambda uow: uow.users.get_actor(999),
    "doctors by specialization, any case": lambda uow: uow.doctors.list(PAGE, "CARDIOLOGY"),
    "doctor by user": lambda uow: uow.doctors.get_by_user(2),
    "doctor referenced": lambda uow: uow.doctors.is_referenced(1),
    "patients seen by a doctor": lambda uow: uow.patients.list(
        PAGE, PatientFilter(seen_by_doctor_id=2)
    ),
    "patient by id": lambda uow: uow.patients.list(PAGE, PatientFilter(patient_id=3)),
    "patient by user": lambda uow: uow.patients.get_by_user(5),
    "windows of a doctor": lambda uow: uow.availabilities.list(
        PAGE, AvailabilityFilter(doctor_id=2)
    ),
    "windows in a range": lambda uow: uow.availabilities.list(
        SECOND_PAGE, AvailabilityFilter(start=at(10), end=at(10) + timedelta(days=1))
    ),
    "windows overlapping": lambda uow: uow.availabilities.overlapping(1, MORNING),
    "windows overlapping but one": lambda uow: uow.availabilities.overlapping(
        1, MORNING, exclude_id=1
    ),
    "all appointments": lambda uow: uow.appointments.list(PageRequest(page_size=100)),
    "appointments, second page": lambda uow: uow.appointments.list(SECOND_PAGE),
    "appointments filtered": lambda uow: uow.appointments.list(
        PAGE,
        AppointmentFilter(doctor_id=1, status=Status.PENDING, start=at(9), end=at(12)),
    ),
    "appointments of a patient": lambda uow: uow.appointments.list(
        PAGE, AppointmentFilter(patient_id=2)
    ),
    "active overlapping a doctor": lambda uow: uow.appointments.active_overlapping(
        MORNING, doctor_id=3
    ),
    "active overlapping a patient but one": lambda uow: uow.appointments.active_overlapping(
        MORNING, patient_id=1, exclude_id=1
    ),
    "appointments between": lambda uow: (
        uow.appointments.exists_between(1, 1),
        uow.appointments.exists_between(1, 2),
    ),
    "active starting between": lambda uow: uow.appointments.active_starting_between(
        at(9, 30), at(10, 30) + timedelta(days=1)
    ),
    "confirmed ended before": lambda uow: uow.appointments.confirmed_ended_before(
        at(12) + timedelta(days=1), limit=3
    ),
    "records visible to a doctor": lambda uow: uow.records.list(
        PAGE, RecordFilter(visible_to_doctor_id=3)
    ),
    "records of a patient": lambda uow: uow.records.list(PAGE, RecordFilter(patient_id=4)),
    "record by appointment": lambda uow: uow.records.get_by_appointment(4),
    "unsent outbox messages": lambda uow: uow.outbox.unsent(limit=2),
    "audit, newest first": lambda uow: uow.audit.list(PAGE),
    "audit filtered": lambda uow: uow.audit.list(
        PAGE,
        AuditFilter(
            resource=Resource.PATIENT,
            action=Action.READ,
            outcome=Outcome.ALLOWED,
            start=DAY,
            end=DAY + timedelta(minutes=15),
        ),
    ),
}


@pytest.fixture
def both(sql_uow: UowFactory) -> tuple[UowFactory, UowFactory]:
    store = InMemoryStore()
    memory: UowFactory = lambda: InMemoryUnitOfWork(store)
    for uow_factory in (memory, sql_uow):
        stored(uow_factory, build_clinic)
    return memory, sql_uow


def test_every_query_answers_as_the_in_memory_reference_does(
    both: tuple[UowFactory, UowFactory],
) -> None:
    def answers(uow_factory: UowFactory) -> dict[str, Any]:
        with uow_factory() as uow:
            return {name: ids(query(uow)) for name, query in QUERIES.items()}

    memory, sql = answers(both[0]), answers(both[1])
    assert {name: sql[name] for name in QUERIES} == memory
    assert memory["all appointments"][0] == 24, "the clinic was not built as intended"


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements the engine sends while the block runs."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_the_acting_user_is_looked_up_in_one_query(engine: Engine, sql_uow: UowFactory) -> None:
    doctor = stored(sql_uow, add_doctor)
    with sql_uow() as uow, statements(engine) as sent:
        actor = uow.users.get_actor(doctor.user_id)
    assert actor is not None and actor.doctor_id == doctor.id and actor.patient_id is None
    assert len([s for s in sent if s.lstrip().upper().startswith("SELECT")]) == 1


def test_a_batch_of_audit_events_is_one_insert(engine: Engine, sql_uow: UowFactory) -> None:
    with sql_uow() as uow:
        uow.session.connection()  # BEGIN now, so it is not counted below
        with statements(engine) as sent:
            uow.audit.add_many(AuditEventFactory.build_batch(50))
        uow.commit()
    assert len(sent) == 1 and sent[0].lstrip().upper().startswith("INSERT")
    with sql_uow() as uow:
        assert uow.audit.list(PageRequest()).total == 50


def test_revoking_is_idempotent_and_expired_revocations_are_purged(sql_uow: UowFactory) -> None:
    with sql_uow() as uow:
        assert uow.revocations.revoke("jti:a", at(9)) is True
        assert uow.revocations.revoke("jti:a", at(9)) is False
        assert uow.revocations.revoke("jti:b", at(11)) is True
        uow.commit()
    with sql_uow() as uow:
        assert uow.revocations.any_revoked(["jti:x", "jti:a"])
        assert not uow.revocations.any_revoked(["jti:x"])
        assert not uow.revocations.any_revoked([])
        assert uow.revocations.purge_expired(at(10)) == 1
        uow.commit()
    with sql_uow() as uow:
        assert not uow.revocations.any_revoked(["jti:a"])
        assert uow.revocations.any_revoked(["jti:b"])


def test_an_outbox_key_is_stored_once_and_the_first_writer_gets_the_id(
    sql_uow: UowFactory,
) -> None:
    first, again = message("reminder:24h:1"), message("reminder:24h:1")
    with sql_uow() as uow:
        assert uow.outbox.add_if_absent(first) is True
        assert uow.outbox.add_if_absent(again) is False
        uow.commit()
    assert first.id is not None and again.id is None
    with sql_uow() as uow:
        assert [m.key for m in uow.outbox.unsent(10)] == ["reminder:24h:1"]


def test_a_unit_of_work_left_without_commit_changes_nothing(sql_uow: UowFactory) -> None:
    with sql_uow() as uow:
        uow.users.add(UserFactory())
    with sql_uow() as uow:
        assert uow.users.list(PageRequest()).total == 0
