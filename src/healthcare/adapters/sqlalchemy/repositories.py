"""SQLAlchemy repositories: the write side's ports over one ``Transaction``.

Each statement is written once, at import, over the tables' Core columns with bound parameters
(an optional one as ``(:value IS NULL OR ...)``), so a request only executes statements whose
compiled form SQLAlchemy already caches. A broken database guarantee (uniqueness, no overlap)
surfaces as the domain error the in-memory adapter raises; the use case then ends, and its
transaction is rolled back. Lists are the read side's (``read_model.py``).
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    Insert,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from healthcare.adapters.sqlalchemy.guarantees import domain_error
from healthcare.adapters.sqlalchemy.read_model import counted, given, paged
from healthcare.adapters.sqlalchemy.rows import (
    AppointmentRow,
    AuditEventRow,
    AvailabilityExceptionRow,
    AvailabilityRow,
    AvailabilityRuleRow,
    CalendarFeedRow,
    DoctorRow,
    EntityRow,
    IdempotencyKeyRow,
    MedicalRecordRow,
    OutboxMessageRow,
    PatientRow,
    RevokedTokenRow,
    UserRow,
    WaitlistEntryRow,
    WebhookAttemptRow,
    WebhookEndpointRow,
    WebhookMessageRow,
)
from healthcare.adapters.sqlalchemy.transaction import Transaction
from healthcare.adapters.sqlalchemy.types import UtcDateTime
from healthcare.application.ports import Page, PageRequest
from healthcare.domain.appointments import ACTIVE, MAX_BLOCKING, Appointment, Status
from healthcare.domain.audit import AuditEvent
from healthcare.domain.availability import Availability
from healthcare.domain.blocked_periods import AvailabilityException
from healthcare.domain.calendar import Calendar
from healthcare.domain.doctors import Doctor
from healthcare.domain.errors import IdempotencyKeyTaken
from healthcare.domain.events import EVERY_EVENT, Event
from healthcare.domain.feeds import CalendarFeed, FeedEntry, FeedOwner
from healthcare.domain.idempotency import IdempotencyRecord
from healthcare.domain.notifications import OutboxMessage
from healthcare.domain.patients import Patient
from healthcare.domain.records import MedicalRecord
from healthcare.domain.time import Interval, zone
from healthcare.domain.users import User
from healthcare.domain.waitlist import EntryStatus, WaitlistEntry
from healthcare.domain.webhooks import (
    AttemptLog,
    AttemptResult,
    Delivery,
    DeliveryStatus,
    WebhookEndpoint,
)
from healthcare.domain.weekly_hours import AvailabilityRule

E = TypeVar("E", bound=Any)

ACTIVE_STATUSES = sorted(status.value for status in ACTIVE)

USERS = UserRow.__table__
DOCTORS = DoctorRow.__table__
PATIENTS = PatientRow.__table__
WINDOWS = AvailabilityRow.__table__
APPOINTMENTS = AppointmentRow.__table__
RULES = AvailabilityRuleRow.__table__
BLOCKED = AvailabilityExceptionRow.__table__
IDEMPOTENCY_KEYS = IdempotencyKeyRow.__table__
RECORDS = MedicalRecordRow.__table__
AUDIT_EVENTS = AuditEventRow.__table__
OUTBOX = OutboxMessageRow.__table__
REVOKED = RevokedTokenRow.__table__

_INSERT_FOR_DIALECT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@contextmanager
def guarantees_kept(*, deleting: bool = False) -> Iterator[None]:
    """A broken database guarantee becomes the domain error it stands for."""
    try:
        yield
    except IntegrityError as error:
        raise domain_error(error, deleting=deleting) from error


class _Repository(Generic[E]):
    row_type: type[EntityRow[Any]]

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Each repository's own INSERT, SELECT by id, UPDATE and DELETE, built once.
        super().__init_subclass__(**kwargs)
        table = cls.row_type.__table__
        cls._insert = insert(table).returning(table.c.id)
        cls._insert_many = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        cls._get = select(*table.columns).where(table.c.id == bindparam("id"))
        cls._update = update(table).where(table.c.id == bindparam("id_"))
        cls._delete = delete(table).where(table.c.id == bindparam("id"))

    def add(self, entity: E) -> E:
        """One INSERT … RETURNING id; the stored entity as a read would return it."""
        values = self.row_type.values_of(entity)
        with guarantees_kept():
            entity.id = self.tx.execute(self._insert, values).scalar_one()
        return entity

    def add_many(self, entities: Sequence[E]) -> list[int]:
        """One INSERT … RETURNING id for the whole batch (insertmanyvalues), ids in the
        batch's order."""
        if not entities:
            return []
        with guarantees_kept():
            result = self.tx.execute(
                self._insert_many, [self.row_type.values_of(entity) for entity in entities]
            )
            ids = list(result.scalars())
        for entity, stored_id in zip(entities, ids, strict=True):
            entity.id = stored_id
        return ids

    def get(self, entity_id: int) -> E | None:
        return self._first(self._get, {"id": entity_id})

    def update(self, entity: E) -> None:
        """Every column of ``entity`` but its id, in one UPDATE; KeyError when it is gone."""
        with guarantees_kept():
            result = self.tx.execute(
                self._update, {"id_": entity.id, **self.row_type.values_of(entity)}
            )
        if result.rowcount != 1:
            raise KeyError(entity.id)

    def delete(self, entity_id: int) -> None:
        with guarantees_kept(deleting=True):
            self.tx.execute(self._delete, {"id": entity_id})

    def _all(self, statement: Select[Any], values: dict[str, Any]) -> list[E]:
        to_domain = self.row_type.to_domain
        return [to_domain(row) for row in self.tx.execute(statement, values)]  # type: ignore[arg-type]

    def _first(self, statement: Select[Any], values: dict[str, Any]) -> E | None:
        row = self.tx.execute(statement, values).first()
        return self.row_type.to_domain(row) if row is not None else None  # type: ignore[arg-type]


# -- accounts ----------------------------------------------------------------------------------

USER_BY_EMAIL = select(*USERS.columns).where(func.lower(USERS.c.email) == bindparam("email"))


class SqlAlchemyUserRepository(_Repository[User]):
    row_type = UserRow

    def get_by_email(self, email: str) -> User | None:
        return self._first(USER_BY_EMAIL, {"email": email.strip().lower()})


DOCTOR_BY_USER = select(*DOCTORS.columns).where(DOCTORS.c.user_id == bindparam("user_id"))
DOCTORS_BY_SPECIALIZATION = (
    select(*DOCTORS.columns)
    .where(given(func.lower(DOCTORS.c.specialization), "specialization"))
    .order_by(DOCTORS.c.id)
)
LOCK_DOCTOR = (
    select(DOCTORS.c.id).where(DOCTORS.c.id == bindparam("id")).with_for_update(key_share=True)
)
LOCK_PATIENT = (
    select(PATIENTS.c.id).where(PATIENTS.c.id == bindparam("id")).with_for_update(key_share=True)
)
DOCTOR_IS_REFERENCED = select(
    exists().where(APPOINTMENTS.c.doctor_id == bindparam("id"))
    | exists().where(RECORDS.c.doctor_id == bindparam("id"))
)


class SqlAlchemyDoctorRepository(_Repository[Doctor]):
    row_type = DoctorRow

    def get_by_user(self, user_id: int) -> Doctor | None:
        return self._first(DOCTOR_BY_USER, {"user_id": user_id})

    def all(self, specialization: str | None = None) -> list[Doctor]:
        wanted = specialization.lower() if specialization else None
        return self._all(DOCTORS_BY_SPECIALIZATION, {"specialization": wanted})

    def is_referenced(self, doctor_id: int) -> bool:
        return bool(self.tx.execute(DOCTOR_IS_REFERENCED, {"id": doctor_id}).scalar())

    def lock(self, doctor_id: int) -> None:
        self.tx.execute(LOCK_DOCTOR, {"id": doctor_id})

    def delete(self, doctor_id: int) -> None:
        # The schema cascades to the windows, weekly hours and blocked periods too; deleting
        # them here as well says so where it happens.
        for owned in (WINDOWS, RULES, BLOCKED):
            self.tx.execute(delete(owned).where(owned.c.doctor_id == doctor_id))
        super().delete(doctor_id)


PATIENT_BY_USER = select(*PATIENTS.columns).where(PATIENTS.c.user_id == bindparam("user_id"))


class SqlAlchemyPatientRepository(_Repository[Patient]):
    row_type = PatientRow

    def lock(self, patient_id: int) -> None:
        self.tx.execute(LOCK_PATIENT, {"id": patient_id})

    def get_by_user(self, user_id: int) -> Patient | None:
        return self._first(PATIENT_BY_USER, {"user_id": user_id})


# -- a doctor's calendar ------------------------------------------------------------------------

WINDOWS_OVERLAPPING = (
    select(*WINDOWS.columns)
    .where(
        WINDOWS.c.doctor_id == bindparam("doctor_id"),
        WINDOWS.c.start_time < bindparam("end"),
        WINDOWS.c.end_time > bindparam("start"),
        given(WINDOWS.c.id, "exclude_id", operator.ne),
    )
    .order_by(WINDOWS.c.start_time, WINDOWS.c.id)
)


class SqlAlchemyAvailabilityRepository(_Repository[Availability]):
    row_type = AvailabilityRow

    def overlapping(
        self, doctor_id: int, interval: Interval, exclude_id: int | None = None
    ) -> list[Availability]:
        return self._all(
            WINDOWS_OVERLAPPING,
            {
                "doctor_id": doctor_id,
                "start": interval.start,
                "end": interval.end,
                "exclude_id": exclude_id,
            },
        )


RULES_OF_DOCTOR = (
    select(*RULES.columns)
    .where(RULES.c.doctor_id == bindparam("doctor_id"))
    .order_by(RULES.c.weekday, RULES.c.start_time, RULES.c.id)
)


class SqlAlchemyAvailabilityRuleRepository(_Repository[AvailabilityRule]):
    row_type = AvailabilityRuleRow

    def for_doctor(self, doctor_id: int) -> list[AvailabilityRule]:
        return self._all(RULES_OF_DOCTOR, {"doctor_id": doctor_id})


BLOCKED_OVERLAPPING = (
    select(*BLOCKED.columns)
    .where(
        BLOCKED.c.doctor_id == bindparam("doctor_id"),
        BLOCKED.c.start_at < bindparam("end"),
        BLOCKED.c.end_at > bindparam("start"),
    )
    .order_by(BLOCKED.c.start_at, BLOCKED.c.id)
)


class SqlAlchemyAvailabilityExceptionRepository(_Repository[AvailabilityException]):
    row_type = AvailabilityExceptionRow

    def overlapping(self, doctor_id: int, interval: Interval) -> list[AvailabilityException]:
        return self._all(
            BLOCKED_OVERLAPPING,
            {"doctor_id": doctor_id, "start": interval.start, "end": interval.end},
        )


def _calendar_statement() -> Any:
    """A doctor's calendar around [start, end) in one statement: their weekly hours, windows,
    blocked periods and busy time (appointments with their buffers), and a patient's own
    appointments, one row each, told apart by ``kind``."""
    instant, time_of_day, day = UtcDateTime(), RULES.c.start_time.type, RULES.c.valid_from.type

    def part(kind: str, row_id: Any, *columns: Any) -> Any:
        # Every part lists the same columns; NULL where a kind has no value.
        names = ("start", "end", "weekday", "start_time", "end_time", "valid_from", "valid_until")
        nulls = {
            "start": type_coerce(null(), instant),
            "end": type_coerce(null(), instant),
            "weekday": type_coerce(null(), RULES.c.weekday.type),
            "start_time": type_coerce(null(), time_of_day),
            "end_time": type_coerce(null(), time_of_day),
            "valid_from": type_coerce(null(), day),
            "valid_until": type_coerce(null(), day),
        }
        given_columns = dict(zip(names, columns, strict=False))
        return select(
            literal(kind).label("kind"),
            row_id.label("id"),
            *[given_columns.get(name, nulls[name]).label(name) for name in names],
        )

    doctor, start, end = bindparam("doctor_id"), bindparam("start"), bindparam("end")
    busy_end = func.coalesce(APPOINTMENTS.c.blocked_until, APPOINTMENTS.c.end_at)
    now = bindparam("now", type_=UtcDateTime())
    # Appointments and live holds (every hold, without a ``now``); an expired hold is free.
    active = and_(
        APPOINTMENTS.c.status.in_(ACTIVE_STATUSES),
        or_(
            APPOINTMENTS.c.hold_expires_at.is_(None),
            now.is_(None),
            APPOINTMENTS.c.hold_expires_at > now,
        ),
    )
    not_excluded = given(APPOINTMENTS.c.id, "exclude_id", operator.ne)
    return union_all(
        part(
            "rule",
            RULES.c.id,
            type_coerce(null(), instant),
            type_coerce(null(), instant),
            RULES.c.weekday,
            RULES.c.start_time,
            RULES.c.end_time,
            RULES.c.valid_from,
            RULES.c.valid_until,
        ).where(RULES.c.doctor_id == doctor),
        part("window", WINDOWS.c.id, WINDOWS.c.start_time, WINDOWS.c.end_time).where(
            WINDOWS.c.doctor_id == doctor, WINDOWS.c.start_time < end, WINDOWS.c.end_time > start
        ),
        part("blocked", BLOCKED.c.id, BLOCKED.c.start_at, BLOCKED.c.end_at).where(
            BLOCKED.c.doctor_id == doctor, BLOCKED.c.start_at < end, BLOCKED.c.end_at > start
        ),
        part("busy", APPOINTMENTS.c.id, APPOINTMENTS.c.start_at, busy_end).where(
            APPOINTMENTS.c.doctor_id == doctor,
            active,
            APPOINTMENTS.c.start_at < end,
            # No appointment blocks longer than MAX_BLOCKING: a bounded index range.
            APPOINTMENTS.c.start_at > bindparam("earliest"),
            busy_end > start,
            not_excluded,
        ),
        part("patient", APPOINTMENTS.c.id, APPOINTMENTS.c.start_at, APPOINTMENTS.c.end_at).where(
            APPOINTMENTS.c.patient_id == bindparam("patient_id"),
            active,
            APPOINTMENTS.c.start_at < end,
            APPOINTMENTS.c.end_at > start,
            not_excluded,
        ),
    )


CALENDAR = _calendar_statement()


class SqlAlchemyCalendarRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def load(
        self,
        doctor: Doctor,
        within: Interval,
        *,
        patient_id: int | None = None,
        exclude_id: int | None = None,
        now: datetime | None = None,
    ) -> Calendar:
        calendar = Calendar(tz=zone(doctor.timezone))
        by_kind = {
            "window": calendar.windows,
            "blocked": calendar.blocked,
            "busy": calendar.busy,
            "patient": calendar.patient_busy,
        }
        rows = self.tx.execute(
            CALENDAR,
            {
                "doctor_id": doctor.id,
                "start": within.start,
                "end": within.end,
                "earliest": within.start - MAX_BLOCKING,
                "patient_id": patient_id,
                "exclude_id": exclude_id,
                "now": now,
            },
        )
        for kind, row_id, start, end, weekday, start_time, end_time, valid_from, valid_until in rows:
            if kind == "rule":
                calendar.rules.append(
                    AvailabilityRule(
                        id=row_id,
                        doctor_id=doctor.id,  # type: ignore[arg-type]
                        weekday=weekday,
                        start_time=start_time,
                        end_time=end_time,
                        valid_from=valid_from,
                        valid_until=valid_until,
                    )
                )
            else:
                by_kind[kind].append(Interval(start, end))
        return calendar


# -- appointments -------------------------------------------------------------------------------

#: A row with ``hold_expires_at`` is a hold (SPEC section 8), no appointment (yet).
BOOKED = APPOINTMENTS.c.hold_expires_at.is_(None)
ACTIVE_OVERLAPPING = (
    select(*APPOINTMENTS.columns)
    .where(
        APPOINTMENTS.c.status.in_(ACTIVE_STATUSES),
        BOOKED,
        APPOINTMENTS.c.start_at < bindparam("end"),
        APPOINTMENTS.c.end_at > bindparam("start"),
        given(APPOINTMENTS.c.doctor_id, "doctor_id"),
        given(APPOINTMENTS.c.patient_id, "patient_id"),
        given(APPOINTMENTS.c.id, "exclude_id", operator.ne),
    )
    .order_by(APPOINTMENTS.c.start_at, APPOINTMENTS.c.id)
)
BETWEEN = select(
    exists().where(
        APPOINTMENTS.c.doctor_id == bindparam("doctor_id"),
        APPOINTMENTS.c.patient_id == bindparam("patient_id"),
        BOOKED,
    )
)
CONFIRMED_ENDED_BEFORE = (
    select(*APPOINTMENTS.columns)
    .where(
        APPOINTMENTS.c.status == Status.CONFIRMED.value,
        APPOINTMENTS.c.end_at < bindparam("cutoff"),
    )
    .order_by(APPOINTMENTS.c.end_at, APPOINTMENTS.c.id)
    .limit(bindparam("limit"))
)
ACTIVE_STARTING_BETWEEN = (
    select(*APPOINTMENTS.columns)
    .where(
        APPOINTMENTS.c.status.in_(ACTIVE_STATUSES),
        BOOKED,
        APPOINTMENTS.c.start_at >= bindparam("start"),
        APPOINTMENTS.c.start_at < bindparam("end"),
    )
    .order_by(APPOINTMENTS.c.start_at, APPOINTMENTS.c.id)
)
HOLDS = APPOINTMENTS.c.hold_expires_at
#: Expired holds in the way of a write: the doctor's busy time or the patient's.
CLEAR_EXPIRED_HOLDS = delete(APPOINTMENTS).where(
    HOLDS.is_not(None),  # the partial indexes' predicate, spelled out for the planner
    HOLDS <= bindparam("now"),
    or_(
        and_(
            APPOINTMENTS.c.doctor_id == bindparam("doctor_id"),
            APPOINTMENTS.c.start_at < bindparam("doctor_end"),
            APPOINTMENTS.c.start_at > bindparam("earliest"),
            func.coalesce(APPOINTMENTS.c.blocked_until, APPOINTMENTS.c.end_at)
            > bindparam("doctor_start"),
        ),
        and_(
            APPOINTMENTS.c.patient_id == bindparam("patient_id"),
            APPOINTMENTS.c.start_at < bindparam("patient_end"),
            APPOINTMENTS.c.start_at > bindparam("patient_earliest"),
            APPOINTMENTS.c.end_at > bindparam("patient_start"),
        ),
    ),
)
DELETE_HOLD = delete(APPOINTMENTS).where(APPOINTMENTS.c.id == bindparam("id"), HOLDS.is_not(None))
PURGE_EXPIRED_HOLDS = delete(APPOINTMENTS).where(
    HOLDS.is_not(None), HOLDS <= bindparam("now")
)
LIVE_HOLD_COUNT = select(func.count()).where(
    APPOINTMENTS.c.patient_id == bindparam("patient_id"),
    HOLDS.is_not(None),
    HOLDS > bindparam("now"),
)


class SqlAlchemyAppointmentRepository(_Repository[Appointment]):
    row_type = AppointmentRow

    def active_overlapping(
        self,
        interval: Interval,
        *,
        doctor_id: int | None = None,
        patient_id: int | None = None,
        exclude_id: int | None = None,
    ) -> list[Appointment]:
        return self._all(
            ACTIVE_OVERLAPPING,
            {
                "start": interval.start,
                "end": interval.end,
                "doctor_id": doctor_id,
                "patient_id": patient_id,
                "exclude_id": exclude_id,
            },
        )

    def exists_between(self, doctor_id: int, patient_id: int) -> bool:
        values = {"doctor_id": doctor_id, "patient_id": patient_id}
        return bool(self.tx.execute(BETWEEN, values).scalar())

    def confirmed_ended_before(self, cutoff: datetime, limit: int) -> list[Appointment]:
        return self._all(CONFIRMED_ENDED_BEFORE, {"cutoff": cutoff, "limit": limit})

    def active_starting_between(self, start: datetime, end: datetime) -> list[Appointment]:
        return self._all(ACTIVE_STARTING_BETWEEN, {"start": start, "end": end})

    def clear_expired_holds(
        self,
        now: datetime,
        doctor_id: int,
        doctor_span: Interval,
        patient_id: int | None = None,
        patient_span: Interval | None = None,
    ) -> None:
        patient_span = patient_span or doctor_span
        self.tx.execute(
            CLEAR_EXPIRED_HOLDS,
            {
                "now": now,
                "doctor_id": doctor_id,
                "doctor_start": doctor_span.start,
                "doctor_end": doctor_span.end,
                "earliest": doctor_span.start - MAX_BLOCKING,
                "patient_id": patient_id,
                "patient_start": patient_span.start,
                "patient_end": patient_span.end,
                "patient_earliest": patient_span.start - MAX_BLOCKING,
            },
        )

    def purge_expired_holds(self, now: datetime) -> int:
        return self.tx.execute(PURGE_EXPIRED_HOLDS, {"now": now}).rowcount

    def delete_hold(self, hold_id: int) -> bool:
        return self.tx.execute(DELETE_HOLD, {"id": hold_id}).rowcount == 1

    def live_hold_count(self, patient_id: int, now: datetime) -> int:
        values = {"patient_id": patient_id, "now": now}
        return int(self.tx.execute(LIVE_HOLD_COUNT, values).scalar_one())


# -- the rest ----------------------------------------------------------------------------------


def unless_present(table: Any, key: list[Any], returning: Any = None) -> dict[str, Insert]:
    """INSERT … ON CONFLICT (key) DO NOTHING, per dialect: atomic, so two writers racing with
    the same key store it once and neither fails."""
    statements = {}
    for dialect, dialect_insert in _INSERT_FOR_DIALECT.items():
        statement = dialect_insert(table).on_conflict_do_nothing(index_elements=key)
        statements[dialect] = statement.returning(returning) if returning is not None else statement
    return statements


ADD_IDEMPOTENCY_KEY = unless_present(
    IDEMPOTENCY_KEYS, [IDEMPOTENCY_KEYS.c.owner, IDEMPOTENCY_KEYS.c.key], IDEMPOTENCY_KEYS.c.id
)
IDEMPOTENCY_KEY = select(*IDEMPOTENCY_KEYS.columns).where(
    IDEMPOTENCY_KEYS.c.owner == bindparam("owner"), IDEMPOTENCY_KEYS.c.key == bindparam("key")
)


class SqlAlchemyIdempotencyKeyRepository(_Repository[IdempotencyRecord]):
    row_type = IdempotencyKeyRow

    def add(self, record: IdempotencyRecord) -> IdempotencyRecord:
        """INSERT … ON CONFLICT DO NOTHING: a racing request with the same key waits for the
        first one's transaction and then finds the key taken, without an error to unwind."""
        statement = ADD_IDEMPOTENCY_KEY[self.tx.dialect]
        stored_id = self.tx.execute(statement, IdempotencyKeyRow.values_of(record)).scalar()
        if stored_id is None:
            raise IdempotencyKeyTaken()
        record.id = stored_id
        return record

    def get(self, owner: str, key: str) -> IdempotencyRecord | None:  # type: ignore[override]
        return self._first(IDEMPOTENCY_KEY, {"owner": owner, "key": key})


RECORD_BY_APPOINTMENT = select(*RECORDS.columns).where(
    RECORDS.c.appointment_id == bindparam("appointment_id")
)


class SqlAlchemyMedicalRecordRepository(_Repository[MedicalRecord]):
    row_type = MedicalRecordRow

    def get_by_appointment(self, appointment_id: int) -> MedicalRecord | None:
        return self._first(RECORD_BY_APPOINTMENT, {"appointment_id": appointment_id})


class SqlAlchemyAuditRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add_many(self, events: Sequence[AuditEvent]) -> None:
        if events:
            # One INSERT with every parameter set (insertmanyvalues / executemany).
            self.tx.execute(
                insert(AUDIT_EVENTS), [AuditEventRow.values_of(event) for event in events]
            )


ADD_MESSAGE = unless_present(OUTBOX, [OUTBOX.c.key], OUTBOX.c.id)
UNSENT = (
    select(*OUTBOX.columns)
    .where(OUTBOX.c.sent_at.is_(None))
    .order_by(OUTBOX.c.id)
    .limit(bindparam("limit"))
)
MARK_SENT = update(OUTBOX).where(OUTBOX.c.id == bindparam("id_")).values(sent_at=bindparam("at"))


class SqlAlchemyOutboxRepository(_Repository[OutboxMessage]):
    row_type = OutboxMessageRow

    def add_if_absent(self, message: OutboxMessage) -> bool:
        statement = ADD_MESSAGE[self.tx.dialect]
        stored_id = self.tx.execute(statement, OutboxMessageRow.values_of(message)).scalar()
        if stored_id is None:
            return False
        message.id = stored_id
        return True

    def unsent(self, limit: int) -> list[OutboxMessage]:
        return self._all(UNSENT, {"limit": limit})

    def mark_sent(self, message_id: int, at: datetime) -> None:
        self.tx.execute(MARK_SENT, {"id_": message_id, "at": at})


# -- integrations: webhooks and calendar feeds -------------------------------------------------

ENDPOINTS = WebhookEndpointRow.__table__
MESSAGES = WebhookMessageRow.__table__
ATTEMPTS = WebhookAttemptRow.__table__
FEEDS = CalendarFeedRow.__table__
#: Another appointment, seen from a correlated sub-query.
MOVED = APPOINTMENTS.alias("moved")


def _page_of(
    tx: Transaction,
    row_type: type[EntityRow[Any]],
    statement: Select[Any],
    values: dict[str, Any],
    request: PageRequest,
) -> Page[Any]:
    """A page of entities: ``statement`` selects the total (a window aggregate) and the row."""
    rows = tx.execute(
        statement, {**values, "page_limit": request.page_size, "page_offset": request.offset}
    ).all()
    total = rows[0][0] if rows else (0 if request.offset == 0 else None)
    if total is None:  # a page past the end has no row to carry the total
        total = tx.execute(counted(statement), values).scalar_one()
    items = [row_type.to_domain(SimpleNamespace(**row._mapping)) for row in rows]  # type: ignore[arg-type]
    return Page(items=items, total=total, request=request)


class SqlAlchemyWebhookEndpointRepository(_Repository[WebhookEndpoint]):
    row_type = WebhookEndpointRow

    def list(self, page: PageRequest) -> Page[WebhookEndpoint]:
        return _page_of(self.tx, WebhookEndpointRow, ENDPOINT_PAGE, {}, page)

    def delete(self, endpoint_id: int) -> None:
        # The schema cascades to the outbox and the log too; said here where it happens.
        for owned in (MESSAGES, ATTEMPTS):
            self.tx.execute(delete(owned).where(owned.c.endpoint_id == endpoint_id))
        super().delete(endpoint_id)


class SqlAlchemyWebhookOutbox:
    """The outbox in ``webhook_messages``; each method is one statement (settle: two)."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def publish(self, event: Event) -> int:
        result = self.tx.execute(
            FAN_OUT,
            {
                "event_id": event.id,
                "event_type": str(event.type),
                "body": event.body(),
                "now": event.occurred_at,
                "subscribed": _like_json_string(str(event.type)),
                "every": _like_json_string(EVERY_EVENT),
            },
        )
        return result.rowcount  # type: ignore[attr-defined, no-any-return]

    def claim(
        self,
        now: datetime,
        lease_until: datetime,
        *,
        limit: int,
        per_endpoint: int,
        busy_endpoints: Sequence[int],
        claim: str,
    ) -> list[Delivery]:
        if limit < 1:
            return []
        rows = self.tx.execute(
            CLAIM,
            {
                "now": now,
                "lease_until": lease_until,
                "limit": limit,
                # Rows of an endpoint past its share are passed over this time; looking a
                # little further than ``limit`` finds other endpoints' rows behind them.
                "scan": limit * 4,
                "per_endpoint": per_endpoint,
                "busy": list(busy_endpoints),
                "claim": claim,
            },
        ).all()
        if not rows:
            return []
        # SQLite's RETURNING names only the updated table: the endpoints come in a second
        # statement, one row per endpoint.
        endpoints = {
            endpoint_id: (url, secret)
            for endpoint_id, url, secret in self.tx.execute(
                CLAIMED_ENDPOINTS,
                {"ids": sorted({row.endpoint_id for row in rows})},
            )
        }
        return sorted(
            (
                Delivery(
                    id=row.id,
                    endpoint_id=row.endpoint_id,
                    event_id=row.event_id,
                    event_type=row.event_type,
                    body=row.body,
                    attempt=row.attempts + 1,
                    url=endpoints[row.endpoint_id][0],
                    secret=endpoints[row.endpoint_id][1],
                )
                for row in rows
            ),
            key=lambda delivery: delivery.id,
        )

    def settle(
        self,
        delivery: Delivery,
        claim: str,
        result: AttemptResult,
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
    ) -> bool:
        settled = self.tx.execute(
            SETTLE,
            {
                "id_": delivery.id,
                "claim_": claim,
                "made": delivery.attempt - 1,
                "attempts": delivery.attempt,
                "status": status.value,
                "next_attempt_at": next_attempt_at,
            },
        )
        if settled.rowcount != 1:  # type: ignore[attr-defined]
            return False
        self.tx.execute(
            insert(ATTEMPTS),
            {
                "endpoint_id": delivery.endpoint_id,
                "event_id": delivery.event_id,
                "event_type": delivery.event_type,
                "attempt": delivery.attempt,
                "status_code": result.status_code,
                "error": result.error,
                "at": result.at,
                "next_attempt_at": next_attempt_at,
            },
        )
        return True

    def attempts(self, endpoint_id: int, page: PageRequest) -> Page[AttemptLog]:
        return _page_of(
            self.tx, WebhookAttemptRow, ATTEMPTS_OF_ENDPOINT, {"endpoint_id": endpoint_id}, page
        )

    def pending(self) -> int:
        return self.tx.execute(PENDING).scalar() or 0


def _settle_statement() -> Any:
    """The attempt's outcome, only if the row is still this claim's and at this attempt."""
    message = MESSAGES.c
    return (
        update(MESSAGES)
        .where(
            message.id == bindparam("id_"),
            message.claim == bindparam("claim_"),
            message.attempts == bindparam("made"),
            message.status == DeliveryStatus.PENDING.value,
        )
        .values(claim=None)
    )


def _like_json_string(text: str) -> str:
    """A LIKE pattern (escape character ``/``) matching ``text`` as a string in a JSON array."""
    quoted = json.dumps(text)
    for special in ("/", "%", "_"):
        quoted = quoted.replace(special, "/" + special)
    return f"%{quoted}%"


def _fan_out_statement() -> Insert:
    """INSERT … SELECT: one outbox row per active endpoint whose subscription names the event's
    type or ``*``. One round trip whatever the number of endpoints; no row when none listens."""
    endpoint = ENDPOINTS.c
    now = bindparam("now", type_=UtcDateTime())
    subscribers = select(
        endpoint.id,
        bindparam("event_id", type_=MESSAGES.c.event_id.type),
        bindparam("event_type", type_=MESSAGES.c.event_type.type),
        bindparam("body", type_=MESSAGES.c.body.type),
        now,
        literal(DeliveryStatus.PENDING.value),
        literal(0),
        now,
    ).where(
        endpoint.is_active.is_(True),
        or_(
            endpoint.events.like(bindparam("subscribed"), escape="/"),
            endpoint.events.like(bindparam("every"), escape="/"),
        ),
    )
    message = MESSAGES.c
    return insert(MESSAGES).from_select(
        [
            message.endpoint_id,
            message.event_id,
            message.event_type,
            message.body,
            message.created_at,
            message.status,
            message.attempts,
            message.next_attempt_at,
        ],
        subscribers,
    )


def _claim_statement() -> Any:
    """Lease due rows of active endpoints to one worker, at most ``per_endpoint`` per endpoint.

    PostgreSQL locks the candidate rows FOR UPDATE SKIP LOCKED, so concurrent workers each take
    different rows without waiting on one another; SQLite has one writer at a time anyway (the
    write transaction starts with BEGIN IMMEDIATE), and ignores the locking clause.
    """
    message, endpoint = MESSAGES.c, ENDPOINTS.c
    candidates = (
        select(message.id, message.endpoint_id, message.next_attempt_at)
        .where(
            message.status == DeliveryStatus.PENDING.value,
            message.next_attempt_at <= bindparam("now", type_=UtcDateTime()),
            message.endpoint_id.in_(select(endpoint.id).where(endpoint.is_active.is_(True))),
            message.endpoint_id.not_in(bindparam("busy", expanding=True)),
        )
        .order_by(message.next_attempt_at, message.id)
        .limit(bindparam("scan"))
        .with_for_update(skip_locked=True)
        .cte("candidates")
    )
    ranked = select(
        candidates.c.id,
        candidates.c.next_attempt_at,
        func.row_number()
        .over(
            partition_by=candidates.c.endpoint_id,
            order_by=(candidates.c.next_attempt_at, candidates.c.id),
        )
        .label("place"),
    ).cte("ranked")
    chosen = (
        select(ranked.c.id)
        .where(ranked.c.place <= bindparam("per_endpoint"))
        .order_by(ranked.c.next_attempt_at, ranked.c.id)
        .limit(bindparam("limit"))
    )
    return (
        update(MESSAGES)
        .where(message.id.in_(chosen))
        .values(
            next_attempt_at=bindparam("lease_until", type_=UtcDateTime()),
            claim=bindparam("claim"),
        )
        .returning(
            message.id,
            message.endpoint_id,
            message.event_id,
            message.event_type,
            message.body,
            message.attempts,
        )
    )


FAN_OUT = _fan_out_statement()
CLAIM = _claim_statement()
SETTLE = _settle_statement()
CLAIMED_ENDPOINTS = select(ENDPOINTS.c.id, ENDPOINTS.c.url, ENDPOINTS.c.secret).where(
    ENDPOINTS.c.id.in_(bindparam("ids", expanding=True))
)
PENDING = (
    select(func.count())
    .select_from(MESSAGES)
    .where(MESSAGES.c.status == DeliveryStatus.PENDING.value)
)
ENDPOINT_PAGE = paged(ENDPOINTS.columns, order_by=[ENDPOINTS.c.id])
ATTEMPTS_OF_ENDPOINT = paged(
    ATTEMPTS.columns,
    ATTEMPTS.c.endpoint_id == bindparam("endpoint_id"),
    order_by=[ATTEMPTS.c.id.desc()],
)
FEED_BY_DIGEST = select(*FEEDS.columns).where(FEEDS.c.token_digest == bindparam("digest"))
FEED_PAGE = paged(FEEDS.columns, given(FEEDS.c.owner_id, "owner_id"), order_by=[FEEDS.c.id])


def _feed_entries(owner: Any) -> Select[Any]:
    """The appointments of one doctor or patient starting in [start, end), with both names;
    not the copies reschedules leave behind."""
    booking = APPOINTMENTS.c
    return (
        select(
            booking.id,
            booking.start_at,
            booking.end_at,
            booking.status,
            booking.sequence,
            booking.updated_at,
            DOCTORS.c.name,
            PATIENTS.c.name,
        )
        .select_from(
            APPOINTMENTS.join(DOCTORS, DOCTORS.c.id == booking.doctor_id).join(
                PATIENTS, PATIENTS.c.id == booking.patient_id
            )
        )
        .where(
            owner == bindparam("owner"),
            booking.start_at >= bindparam("start"),
            booking.start_at < bindparam("end"),
            booking.hold_expires_at.is_(None),
            ~exists().where(MOVED.c.rescheduled_from == booking.id),
        )
        .order_by(booking.start_at, booking.id)
    )


FEED_ENTRIES = {
    FeedOwner.DOCTOR: _feed_entries(APPOINTMENTS.c.doctor_id),
    FeedOwner.PATIENT: _feed_entries(APPOINTMENTS.c.patient_id),
}


class SqlAlchemyCalendarFeedRepository(_Repository[CalendarFeed]):
    row_type = CalendarFeedRow

    def get_by_digest(self, token_digest: str) -> CalendarFeed | None:
        return self._first(FEED_BY_DIGEST, {"digest": token_digest})

    def list(self, page: PageRequest, owner_id: int | None = None) -> Page[CalendarFeed]:
        return _page_of(self.tx, CalendarFeedRow, FEED_PAGE, {"owner_id": owner_id}, page)

    def entries(
        self, kind: FeedOwner, profile_id: int, start: datetime, end: datetime
    ) -> list[FeedEntry]:
        rows = self.tx.execute(
            FEED_ENTRIES[kind], {"owner": profile_id, "start": start, "end": end}
        ).all()
        return [
            FeedEntry(
                appointment_id=row[0],
                start=row[1],
                end=row[2],
                status=Status(row[3]),
                sequence=row[4],
                updated_at=row[5],
                doctor_name=row[6],
                patient_name=row[7],
            )
            for row in rows
        ]


REVOKE = unless_present(REVOKED, [REVOKED.c.key])
ANY_REVOKED = select(exists().where(REVOKED.c.key.in_(bindparam("keys", expanding=True))))
PURGE_EXPIRED = delete(REVOKED).where(REVOKED.c.expires_at <= bindparam("now"))


WAITLIST = WaitlistEntryRow.__table__
WAITING, OFFERED = EntryStatus.WAITING.value, EntryStatus.OFFERED.value
WAITING_FOR = (
    select(*WAITLIST.columns)
    .where(
        WAITLIST.c.doctor_id == bindparam("doctor_id"),
        WAITLIST.c.status == WAITING,
        WAITLIST.c.start_at < bindparam("end"),
        WAITLIST.c.end_at > bindparam("start"),
    )
    .order_by(WAITLIST.c.id)
)
CLAIM_ENTRY = (
    update(WAITLIST)
    .where(WAITLIST.c.id == bindparam("id_"), WAITLIST.c.status == WAITING)
    .values(
        status=OFFERED,
        offer_start=bindparam("offer_start"),
        offer_end=bindparam("offer_end"),
        offer_expires_at=bindparam("offer_expires_at"),
    )
)
LAPSE_ENTRY = (
    update(WAITLIST)
    .where(WAITLIST.c.id == bindparam("id_"), WAITLIST.c.status == OFFERED)
    .values(status=EntryStatus.EXPIRED.value)
)
ENTRY_BY_HOLD = select(*WAITLIST.columns).where(
    WAITLIST.c.hold_id == bindparam("hold_id"), WAITLIST.c.status == OFFERED
)
LAPSED_OFFERS = (
    select(*WAITLIST.columns)
    .where(WAITLIST.c.status == OFFERED, WAITLIST.c.offer_expires_at <= bindparam("now"))
    .order_by(WAITLIST.c.offer_expires_at, WAITLIST.c.id)
    .limit(bindparam("limit"))
)
EXPIRE_PASSED = (
    update(WAITLIST)
    .where(WAITLIST.c.status == WAITING, WAITLIST.c.end_at <= bindparam("now"))
    .values(status=EntryStatus.EXPIRED.value)
)


class SqlAlchemyWaitlistRepository(_Repository[WaitlistEntry]):
    row_type = WaitlistEntryRow

    def waiting_for(self, doctor_id: int, span: Interval) -> list[WaitlistEntry]:
        values = {"doctor_id": doctor_id, "start": span.start, "end": span.end}
        return self._all(WAITING_FOR, values)

    def claim(self, entry_id: int, offer: Interval, expires_at: datetime) -> bool:
        values = {
            "id_": entry_id,
            "offer_start": offer.start,
            "offer_end": offer.end,
            "offer_expires_at": expires_at,
        }
        return self.tx.execute(CLAIM_ENTRY, values).rowcount == 1

    def lapse(self, entry_id: int) -> bool:
        return self.tx.execute(LAPSE_ENTRY, {"id_": entry_id}).rowcount == 1

    def by_hold(self, hold_id: int) -> WaitlistEntry | None:
        return self._first(ENTRY_BY_HOLD, {"hold_id": hold_id})

    def lapsed_offers(self, now: datetime, limit: int) -> list[WaitlistEntry]:
        return self._all(LAPSED_OFFERS, {"now": now, "limit": limit})

    def expire_passed(self, now: datetime) -> int:
        return self.tx.execute(EXPIRE_PASSED, {"now": now}).rowcount


class SqlAlchemyTokenRevocations:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def revoke(self, key: str, expires_at: datetime) -> bool:
        values = {"key": key, "expires_at": expires_at}
        return self.tx.execute(REVOKE[self.tx.dialect], values).rowcount == 1  # type: ignore[no-any-return]

    def any_revoked(self, keys: Sequence[str]) -> bool:
        if not keys:
            return False
        return bool(self.tx.execute(ANY_REVOKED, {"keys": list(keys)}).scalar())

    def purge_expired(self, now: datetime) -> int:
        return self.tx.execute(PURGE_EXPIRED, {"now": now}).rowcount  # type: ignore[no-any-return]
