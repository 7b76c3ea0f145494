"""Every entity survives a trip through its row class and through the database unchanged."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime, time, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest
from faker import Faker
from sqlalchemy import Engine

from healthcare.adapters.sqlalchemy.rows import (
    AppointmentRow,
    AuditEventRow,
    AvailabilityExceptionRow,
    AvailabilityRow,
    AvailabilityRuleRow,
    CalendarFeedRow,
    DoctorRow,
    MedicalRecordRow,
    OutboxMessageRow,
    PatientRow,
    UserRow,
    WebhookEndpointRow,
)
from healthcare.adapters.sqlalchemy import SqlAlchemyReadModel
from healthcare.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from healthcare.application.ports import AuditFilter, PageRequest
from healthcare.application.read_model import audit_event_view
from healthcare.domain.appointments import Status
from healthcare.domain.audit import Action, Outcome, Resource
from healthcare.domain.blocked_periods import AvailabilityException
from healthcare.domain.feeds import CalendarFeed, FeedOwner, new_token, token_digest
from healthcare.domain.notifications import OutboxMessage
from healthcare.domain.policy import BookingPolicy
from healthcare.domain.users import Role
from healthcare.domain.webhooks import WebhookEndpoint, new_secret
from healthcare.domain.weekly_hours import AvailabilityRule
from tests.factories import (
    AppointmentFactory,
    AuditEventFactory,
    AvailabilityFactory,
    DoctorFactory,
    MedicalRecordFactory,
    PatientFactory,
    UserFactory,
)
from tests.support.clinic_rows import add_doctor, add_patient, at

fake = Faker()

#: Not UTC, so the trip must normalise the offset away without moving the instant.
ELSEWHERE = timezone(timedelta(hours=5, minutes=30))


def instant() -> Any:
    """An aware instant with microseconds, in an offset other than UTC."""
    return fake.date_time_between("+1y", "+3y", tzinfo=UTC).astimezone(ELSEWHERE)


def values(entity: object) -> dict[str, Any]:
    return {f.name: getattr(entity, f.name) for f in fields(entity)}  # type: ignore[arg-type]


def assert_same(found: object, expected: object) -> None:
    assert values(found) == values(expected)


def assert_read_back(found: object, stored: object) -> None:
    """Equal, and every instant comes back in UTC whatever offset it went in with."""
    assert_same(found, stored)
    instants = [v for v in values(found).values() if isinstance(v, datetime)]
    assert all(v.tzinfo is UTC for v in instants)


# Builders of an entity with every field set, given the ids of stored rows it may refer to.
ENTITIES: dict[str, Callable[[dict[str, int]], Any]] = {
    "user": lambda ids: UserFactory(
        role=Role.ADMIN, is_active=False, created_at=instant(), password_hash=fake.sha256()
    ),
    "doctor": lambda ids: DoctorFactory(
        user_id=ids["spare_user"],
        appointment_minutes=45,
        timezone=fake.timezone(),
        specialization=fake.job()[:200],
        policy=BookingPolicy(min_notice_minutes=0, horizon_days=30, buffer_minutes=5, max_per_day=9),
    ),
    "patient": lambda ids: PatientFactory(
        user_id=ids["spare_user"], email=fake.email(), date_of_birth=fake.date_of_birth()
    ),
    "availability": lambda ids: AvailabilityFactory(
        doctor_id=ids["doctor"], start=instant(), hours=3
    ),
    "appointment": lambda ids: AppointmentFactory(
        id=None,
        doctor_id=ids["doctor"],
        patient_id=ids["patient"],
        start=instant(),
        created_at=instant(),
        updated_at=instant(),
        status=Status.CANCELLED,
        reason=fake.paragraph(),
        cancellation_reason=fake.sentence(),
        late_cancellation=True,
        rescheduled_from=ids["appointment"],
        sequence=fake.random_int(1, 50),
    ),
    "rule": lambda ids: AvailabilityRule(
        doctor_id=ids["doctor"],
        weekday=fake.random_int(0, 6),
        start_time=time(8, 15),
        end_time=time(17, 45),
        valid_from=fake.date_between("+1d", "+1y"),
        valid_until=fake.date_between("+2y", "+3y"),
    ),
    "exception": lambda ids: AvailabilityException(
        doctor_id=ids["doctor"], start=instant(), end=instant() + timedelta(days=800), reason=fake.sentence()
    ),
    "medical_record": lambda ids: MedicalRecordFactory(
        appointment=AppointmentFactory(
            id=ids["appointment"], doctor_id=ids["doctor"], patient_id=ids["patient"]
        ),
        created_at=instant(),
        updated_at=instant(),
    ),
    "outbox_message": lambda ids: OutboxMessage(
        key=f"reminder:24h:{fake.uuid4()}",
        recipient=fake.email(),
        subject=fake.sentence(),
        body=fake.paragraph(),
        created_at=instant(),
        sent_at=instant(),
    ),
    "webhook_endpoint": lambda ids: WebhookEndpoint(
        url=f"https://{fake.domain_name()}/hooks?x=1",
        events=("appointment.no_show", "medical_record.updated"),
        description=fake.sentence(),
        secret=new_secret(),
        is_active=False,
        created_at=instant(),
    ),
    "doctor_feed": lambda ids: CalendarFeed(
        owner_id=ids["spare_user"],
        kind=FeedOwner.DOCTOR,
        profile_id=ids["doctor"],
        token_digest=token_digest(new_token()),
        created_at=instant(),
    ),
    "patient_feed": lambda ids: CalendarFeed(
        owner_id=ids["spare_user"],
        kind=FeedOwner.PATIENT,
        profile_id=ids["patient"],
        token_digest=token_digest(new_token()),
        created_at=instant(),
    ),
    "audit_event": lambda ids: AuditEventFactory(
        at=instant(),
        actor_id=ids["spare_user"],
        action=Action.UPDATE,
        resource=Resource.MEDICAL_RECORD,
        resource_id=fake.random_int(1, 10**9),
        patient_id=ids["patient"],
        outcome=Outcome.DENIED,
    ),
}

ROWS = {
    "user": UserRow,
    "doctor": DoctorRow,
    "patient": PatientRow,
    "availability": AvailabilityRow,
    "appointment": AppointmentRow,
    "rule": AvailabilityRuleRow,
    "exception": AvailabilityExceptionRow,
    "medical_record": MedicalRecordRow,
    "outbox_message": OutboxMessageRow,
    "webhook_endpoint": WebhookEndpointRow,
    "doctor_feed": CalendarFeedRow,
    "patient_feed": CalendarFeedRow,
    "audit_event": AuditEventRow,
}

REPOSITORIES = {
    "user": "users",
    "doctor": "doctors",
    "patient": "patients",
    "availability": "availabilities",
    "appointment": "appointments",
    "rule": "rules",
    "exception": "exceptions",
    "medical_record": "records",
    "outbox_message": "outbox",
    "webhook_endpoint": "webhook_endpoints",
    "doctor_feed": "calendar_feeds",
    "patient_feed": "calendar_feeds",
}

FAKE_IDS = {"spare_user": 7, "doctor": 8, "patient": 9, "appointment": 10}


@pytest.mark.parametrize("kind", ENTITIES)
def test_a_row_maps_back_to_the_entity_it_was_made_from(kind: str) -> None:
    entity = ENTITIES[kind](FAKE_IDS)
    entity.id = 42
    row = SimpleNamespace(id=entity.id, **ROWS[kind].values_of(entity))
    assert_same(ROWS[kind].to_domain(row), entity)


@pytest.mark.parametrize("kind", [k for k in ENTITIES if k != "audit_event"])
def test_an_entity_reads_back_from_the_database_as_it_was_stored(
    kind: str, sql_uow: Callable[[], SqlAlchemyUnitOfWork]
) -> None:
    with sql_uow() as uow:
        doctor = add_doctor(uow)
        patient = add_patient(uow)
        appointment = uow.appointments.add(
            AppointmentFactory(id=None, doctor_id=doctor.id, patient_id=patient.id, start=at(10))
        )
        spare_user = uow.users.add(UserFactory())
        ids = {
            "spare_user": spare_user.id,
            "doctor": doctor.id,
            "patient": patient.id,
            "appointment": appointment.id,
        }
        entity = ENTITIES[kind](ids)
        repository = getattr(uow, REPOSITORIES[kind])
        added = repository.add(entity)
        uow.commit()
    assert added.id is not None and entity.id == added.id
    with sql_uow() as uow:
        assert_read_back(getattr(uow, REPOSITORIES[kind]).get(added.id), entity)


def test_an_audit_event_reads_back_from_the_database_as_it_was_stored(
    sql_uow: Callable[[], SqlAlchemyUnitOfWork], engine: Engine
) -> None:
    event = ENTITIES["audit_event"]({"spare_user": 3, "patient": 4})
    with sql_uow() as uow:
        uow.audit.add_many([event])
        uow.commit()
    (found,) = SqlAlchemyReadModel(engine).audit_events(PageRequest(), AuditFilter()).items
    event.id = found["id"]
    assert found == audit_event_view(event)

