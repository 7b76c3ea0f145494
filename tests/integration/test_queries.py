"""The SQL adapters answer every query exactly as the in-memory reference does.

One clinic is stored in both; then each repository query runs on both and the answers (ids, in
order) must match, and each read of the read side must give the very same answer (every field of
every item, totals, and the audit events an audited read writes). Plus what only SQL can get
wrong: one statement per token check, one INSERT per audit batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event

from healthcare.adapters.in_memory import InMemoryStore, InMemoryUnitOfWork
from healthcare.adapters.in_memory.read_model import InMemoryReadModel
from healthcare.adapters.sqlalchemy import SqlAlchemyReadModel
from healthcare.application.ports import (
    AppointmentFilter,
    AuditFilter,
    AvailabilityFilter,
    PageRequest,
    RecordFilter,
)
from healthcare.application.read_model import AuditedRead, ReadModel
from healthcare.application.unit_of_work import UnitOfWork
from healthcare.domain.access import Scope
from healthcare.domain.appointments import Status
from healthcare.domain.audit import Action, Outcome, Resource
from healthcare.domain.notifications import OutboxMessage
from healthcare.domain.time import Interval
from healthcare.domain.users import Role
from tests.factories import AuditEventFactory, MedicalRecordFactory, UserFactory, start_over
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
    # LIKE's own characters in a name, for the name filter to match literally.
    add_patient(uow, name=WILDCARD_NAME)


WILDCARD_NAME = "Ann 100%_Off"


def message(key: str) -> OutboxMessage:
    return OutboxMessage(key=key, recipient="pat@example.org", subject="S", body="B", created_at=DAY)


def ids(found: Any) -> Any:
    """A comparable form of a repository answer."""
    if isinstance(found, dict):  # a calendar's fields
        return found
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
    "user by email in capitals": lambda uow: uow.users.get_by_email(
        uow.users.get(2).email.upper()  # type: ignore[union-attr]
    ),
    "doctors by specialization, any case": lambda uow: uow.doctors.all("CARDIOLOGY"),
    "doctor by user": lambda uow: uow.doctors.get_by_user(2),
    "doctor referenced": lambda uow: uow.doctors.is_referenced(1),
    "patient by user": lambda uow: uow.patients.get_by_user(5),
    "windows overlapping": lambda uow: uow.availabilities.overlapping(1, MORNING),
    "windows overlapping but one": lambda uow: uow.availabilities.overlapping(
        1, MORNING, exclude_id=1
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
    "record by appointment": lambda uow: uow.records.get_by_appointment(4),
    "unsent outbox messages": lambda uow: uow.outbox.unsent(limit=2),
    "a doctor's calendar": lambda uow: vars(
        uow.calendars.load(uow.doctors.get(1), Interval(at(0), at(23)), patient_id=1)  # type: ignore[arg-type]
    ),
    "a doctor's calendar but one appointment": lambda uow: vars(
        uow.calendars.load(uow.doctors.get(1), MORNING, patient_id=1, exclude_id=1)  # type: ignore[arg-type]
    ),
}

EVERYONE = Scope(everyone=True)
DOCTOR, PATIENT = Scope(doctor_id=3), Scope(patient_id=2)
NOBODY = Scope(patient_id=None)
STAMP = AuditedRead(actor_id=1, at=DAY + timedelta(hours=1))

READS: dict[str, Callable[[ReadModel], Any]] = {
    "token holder of a doctor": lambda reads: reads.token_holder(1, ["jti:a", "fam:b"]),
    "token holder of a patient": lambda reads: reads.token_holder(4, []),
    "token holder of nobody": lambda reads: reads.token_holder(999, ["jti:a"]),
    "users by role": lambda reads: reads.users(PAGE, Role.PATIENT),
    "users, a page past the end": lambda reads: reads.users(FAR_PAGE),
    "a user": lambda reads: reads.user(2),
    "a doctor's account": lambda reads: reads.account(1),
    "a patient's account": lambda reads: reads.account(4),
    "no account": lambda reads: reads.account(999),
    "doctors by specialization, any case": lambda reads: reads.doctors(PAGE, "CARDIOLOGY"),
    "doctors by name, any case": lambda reads: reads.doctors(PAGE, name="DR. "),
    "doctors by specialization and name": lambda reads: reads.doctors(PAGE, "neuro", "xq"),
    "a doctor": lambda reads: reads.doctor(2),
    "windows of a doctor": lambda reads: reads.windows(PAGE, AvailabilityFilter(doctor_id=2)),
    "windows in a range": lambda reads: reads.windows(
        SECOND_PAGE, AvailabilityFilter(start=at(10), end=at(10) + timedelta(days=1))
    ),
    "a window": lambda reads: reads.window(3),
    "all appointments": lambda reads: reads.appointments(
        EVERYONE, PageRequest(page_size=100), AppointmentFilter()
    ),
    "appointments, second page": lambda reads: reads.appointments(
        EVERYONE, SECOND_PAGE, AppointmentFilter()
    ),
    "appointments, a page past the end": lambda reads: reads.appointments(
        DOCTOR, FAR_PAGE, AppointmentFilter()
    ),
    "appointments filtered": lambda reads: reads.appointments(
        EVERYONE,
        PAGE,
        AppointmentFilter(doctor_id=1, status=Status.PENDING, start=at(9), end=at(12)),
    ),
    "a doctor's appointments": lambda reads: reads.appointments(DOCTOR, PAGE, AppointmentFilter()),
    "a patient's appointments": lambda reads: reads.appointments(
        PATIENT, PAGE, AppointmentFilter()
    ),
    "a patient asking for another's": lambda reads: reads.appointments(
        PATIENT, PAGE, AppointmentFilter(patient_id=3)
    ),
    "an appointment in scope": lambda reads: reads.appointment(PATIENT, 2),
    "an appointment out of scope": lambda reads: reads.appointment(PATIENT, 3),
    "patients seen by a doctor": lambda reads: reads.patients(DOCTOR, PAGE, STAMP),
    "a patient themself": lambda reads: reads.patients(PATIENT, PAGE, STAMP),
    "no patients": lambda reads: reads.patients(NOBODY, PAGE, STAMP),
    "patients by name, any case": lambda reads: reads.patients(
        EVERYONE, PAGE, STAMP, name="100%_OFF"
    ),
    "patients by LIKE's wildcards, literally": lambda reads: (
        reads.patients(EVERYONE, PAGE, STAMP, name="%"),
        reads.patients(EVERYONE, PAGE, STAMP, name="_"),
    ),
    "patients by name seen by a doctor": lambda reads: reads.patients(
        DOCTOR, PAGE, STAMP, name="A"
    ),
    "a patient a doctor treats": lambda reads: reads.patient(DOCTOR, 3, STAMP),
    "a patient a doctor does not treat": lambda reads: reads.patient(Scope(doctor_id=1), 2, STAMP),
    "records visible to a doctor": lambda reads: reads.records(DOCTOR, PAGE, RecordFilter(), STAMP),
    "records of a patient": lambda reads: reads.records(
        EVERYONE, PAGE, RecordFilter(patient_id=4), STAMP
    ),
    "records of another patient": lambda reads: reads.records(
        PATIENT, PAGE, RecordFilter(patient_id=4), STAMP
    ),
    "a record in scope": lambda reads: reads.record(EVERYONE, 1, STAMP),
    "a record out of scope": lambda reads: reads.record(Scope(patient_id=1), 1, STAMP),
    "audit, newest first": lambda reads: reads.audit_events(PAGE, AuditFilter()),
    "audit filtered": lambda reads: reads.audit_events(
        PAGE,
        AuditFilter(
            resource=Resource.PATIENT,
            action=Action.READ,
            outcome=Outcome.ALLOWED,
            start=DAY,
            end=DAY + timedelta(minutes=15),
        ),
    ),
    # Last: the audit events the audited reads above wrote, in the order they wrote them.
    "the audited reads' own events": lambda reads: reads.audit_events(
        PageRequest(page_size=100), AuditFilter(start=STAMP.at)
    ),
}


@dataclass(frozen=True)
class Backend:
    uow_factory: UowFactory
    reads: ReadModel


@pytest.fixture
def both(sql_uow: UowFactory, engine: Engine) -> tuple[Backend, Backend]:
    store = InMemoryStore()
    memory = Backend(lambda: InMemoryUnitOfWork(store), InMemoryReadModel(store))
    sql = Backend(sql_uow, SqlAlchemyReadModel(engine))
    for backend in (memory, sql):
        start_over("the same clinic in both")
        stored(backend.uow_factory, build_clinic)
    return memory, sql


def test_every_repository_query_answers_as_the_in_memory_reference_does(
    both: tuple[Backend, Backend],
) -> None:
    def answers(backend: Backend) -> dict[str, Any]:
        with backend.uow_factory() as uow:
            return {name: ids(query(uow)) for name, query in QUERIES.items()}

    memory, sql = answers(both[0]), answers(both[1])
    assert {name: sql[name] for name in QUERIES} == memory


def test_every_read_answers_exactly_as_the_in_memory_reference_does(
    both: tuple[Backend, Backend],
) -> None:
    memory, sql = ({name: read(b.reads) for name, read in READS.items()} for b in both)
    assert {name: sql[name] for name in READS} == memory
    assert memory["all appointments"].total == 24, "the clinic was not built as intended"
    assert memory["doctors by name, any case"].total == 3
    wildcards = [found.items for found in memory["patients by LIKE's wildcards, literally"]]
    assert wildcards == [memory["patients by name, any case"].items] * 2
    assert [p["name"] for p in wildcards[0]] == [WILDCARD_NAME]
    own_events = memory["the audited reads' own events"].items
    assert {(e["action"], e["outcome"]) for e in own_events} == {
        ("list", "allowed"),
        ("read", "allowed"),
        ("read", "denied"),
    }


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


def test_the_token_holder_is_looked_up_in_one_statement(engine: Engine, sql_uow: UowFactory) -> None:
    doctor = stored(sql_uow, add_doctor)
    with statements(engine) as sent:
        holder = SqlAlchemyReadModel(engine).token_holder(doctor.user_id, ["jti:a", "fam:b"])
    assert holder is not None and not holder.revoked
    assert (holder.actor.doctor_id, holder.actor.patient_id) == (doctor.id, None)
    assert [s for s in sent if s != "BEGIN"] == sent[-1:]  # SQLite's snapshot BEGIN aside


def test_a_batch_of_audit_events_is_one_insert(engine: Engine, sql_uow: UowFactory) -> None:
    with sql_uow() as uow:
        uow.users.get(1)  # BEGIN now, so it is not counted below
        with statements(engine) as sent:
            uow.audit.add_many(AuditEventFactory.build_batch(50))
        uow.commit()
    assert len(sent) == 1 and sent[0].lstrip().upper().startswith("INSERT")
    assert SqlAlchemyReadModel(engine).audit_events(PageRequest(), AuditFilter()).total == 50


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
        user = uow.users.add(UserFactory())
    with sql_uow() as uow:
        assert uow.users.get(user.id) is None
