"""SQLAlchemy repositories: the write side's ports over one ``Transaction``.

Each statement is written once, at import, over the tables' Core columns with bound parameters
(an optional one as ``(:value IS NULL OR ...)``), so a request only executes statements whose
compiled form SQLAlchemy already caches. A broken database guarantee (uniqueness, no overlap)
surfaces as the domain error the in-memory adapter raises; the use case then ends, and its
transaction is rolled back. Lists are the read side's (``read_model.py``).
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
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
from healthcare.adapters.sqlalchemy.read_model import given
from healthcare.adapters.sqlalchemy.rows import (
    AppointmentRow,
    AuditEventRow,
    AvailabilityExceptionRow,
    AvailabilityRow,
    AvailabilityRuleRow,
    DoctorRow,
    EntityRow,
    IdempotencyKeyRow,
    MedicalRecordRow,
    OutboxMessageRow,
    PatientRow,
    RevokedTokenRow,
    UserRow,
    WaitlistEntryRow,
)
from healthcare.adapters.sqlalchemy.transaction import Transaction
from healthcare.adapters.sqlalchemy.types import UtcDateTime
from healthcare.domain.appointments import ACTIVE, MAX_BLOCKING, Appointment, Status
from healthcare.domain.audit import AuditEvent
from healthcare.domain.availability import Availability
from healthcare.domain.blocked_periods import AvailabilityException
from healthcare.domain.calendar import Calendar
from healthcare.domain.doctors import Doctor
from healthcare.domain.errors import IdempotencyKeyTaken, PatientDoubleBooked, SlotUnavailable
from healthcare.domain.idempotency import IdempotencyRecord
from healthcare.domain.notifications import OutboxMessage
from healthcare.domain.patients import Patient
from healthcare.domain.records import MedicalRecord
from healthcare.domain.time import Interval, zone
from healthcare.domain.users import User
from healthcare.domain.waitlist import EntryStatus, WaitlistEntry
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


class RowRepository(Generic[E]):
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


class SqlAlchemyUserRepository(RowRepository[User]):
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


class SqlAlchemyDoctorRepository(RowRepository[Doctor]):
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


class SqlAlchemyPatientRepository(RowRepository[Patient]):
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


class SqlAlchemyAvailabilityRepository(RowRepository[Availability]):
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


class SqlAlchemyAvailabilityRuleRepository(RowRepository[AvailabilityRule]):
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


class SqlAlchemyAvailabilityExceptionRepository(RowRepository[AvailabilityException]):
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


ADD_UNLESS_TAKEN = (
    postgresql.insert(APPOINTMENTS).on_conflict_do_nothing().returning(APPOINTMENTS.c.id)
)


class SqlAlchemyAppointmentRepository(RowRepository[Appointment]):
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

    def add_unless_taken(self, appointment: Appointment) -> Appointment | None:
        # PostgreSQL: ON CONFLICT DO NOTHING without a target skips a row an exclusion
        # constraint refuses, and the transaction lives on. SQLite: a trigger's RAISE(ABORT)
        # undoes only its statement.
        if self.tx.dialect == "postgresql":
            values = AppointmentRow.values_of(appointment)
            stored_id = self.tx.execute(ADD_UNLESS_TAKEN, values).scalar()
            if stored_id is None:
                return None
            appointment.id = stored_id
            return appointment
        try:
            return self.add(appointment)
        except (SlotUnavailable, PatientDoubleBooked):
            return None

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


class SqlAlchemyIdempotencyKeyRepository(RowRepository[IdempotencyRecord]):
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


class SqlAlchemyMedicalRecordRepository(RowRepository[MedicalRecord]):
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


class SqlAlchemyOutboxRepository(RowRepository[OutboxMessage]):
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


class SqlAlchemyWaitlistRepository(RowRepository[WaitlistEntry]):
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
