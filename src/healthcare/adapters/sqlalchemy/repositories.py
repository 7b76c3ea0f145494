"""SQLAlchemy repositories: the ports of ``application.ports`` over one Session.

They read with ``select()``, filter ownership in SQL, and leave the transaction to the unit of
work. Writes flush at once inside a SAVEPOINT, so a broken database guarantee surfaces where it
happens, as the domain error the in-memory adapter raises, and the transaction stays usable.
Orderings match the in-memory adapter exactly.

Statements are built once and reused. A query names its optional filters, each a value (None:
not applied) and the clause it adds given the bound parameter that will carry the value; the
statement for each combination of applied filters is built on first use, with bound
parameters only, and kept (``_STATEMENTS``). Building a ``select()`` and its cache key cost
more CPU than PostgreSQL's own work on a hot read. They are written over the tables' Core
columns, not the mapped classes, which spares the ORM's execution path on every read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ColumnElement,
    Insert,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from healthcare.adapters.sqlalchemy.guarantees import domain_error
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
    WebhookAttemptRow,
    WebhookEndpointRow,
    WebhookMessageRow,
)
from healthcare.adapters.sqlalchemy.types import UtcDateTime
from healthcare.application.ports import (
    AppointmentFilter,
    AuditFilter,
    AvailabilityFilter,
    ExceptionFilter,
    Page,
    PageRequest,
    PatientFilter,
    RecordFilter,
    RuleFilter,
    TokenHolder,
)
from healthcare.domain.actor import Actor
from healthcare.domain.appointments import ACTIVE, MAX_BLOCKING, Appointment, Status
from healthcare.domain.audit import AuditEvent
from healthcare.domain.availability import Availability
from healthcare.domain.blocked_periods import AvailabilityException
from healthcare.domain.doctors import Doctor
from healthcare.domain.errors import IdempotencyKeyTaken
from healthcare.domain.events import EVERY_EVENT, Event
from healthcare.domain.feeds import CalendarFeed, FeedEntry, FeedOwner
from healthcare.domain.idempotency import IdempotencyRecord
from healthcare.domain.notifications import OutboxMessage
from healthcare.domain.patients import Patient
from healthcare.domain.records import MedicalRecord
from healthcare.domain.time import Interval
from healthcare.domain.users import Role, User
from healthcare.domain.webhooks import (
    AttemptLog,
    AttemptResult,
    Delivery,
    DeliveryStatus,
    WebhookEndpoint,
)
from healthcare.domain.weekly_hours import AvailabilityRule

E = TypeVar("E", bound=Any)
R = TypeVar("R", bound=EntityRow[Any])

#: A named, optional filter: its value (None: not applied) and the clause it adds, given the
#: bound parameter that carries the value.
Filter = tuple[Any, Callable[[Any], ColumnElement[bool]]]
Filters = Mapping[str, Filter]

ACTIVE_STATUSES = sorted(status.value for status in ACTIVE)

USERS = UserRow.__table__
DOCTORS = DoctorRow.__table__
PATIENTS = PatientRow.__table__
WINDOWS = AvailabilityRow.__table__
APPOINTMENTS = AppointmentRow.__table__
RULES = AvailabilityRuleRow.__table__
EXCEPTIONS = AvailabilityExceptionRow.__table__
IDEMPOTENCY_KEYS = IdempotencyKeyRow.__table__
RECORDS = MedicalRecordRow.__table__
AUDIT_EVENTS = AuditEventRow.__table__
OUTBOX = OutboxMessageRow.__table__
REVOKED = RevokedTokenRow.__table__
ENDPOINTS = WebhookEndpointRow.__table__
MESSAGES = WebhookMessageRow.__table__
ATTEMPTS = WebhookAttemptRow.__table__
FEEDS = CalendarFeedRow.__table__
#: Another appointment, as seen from a correlated sub-query.
MOVED = APPOINTMENTS.alias("moved")

#: Every statement built so far, by (repository, query, applied filters). Bounded: a query has
#: at most 2**filters shapes. Two threads building the same one keep either; they are equal.
_STATEMENTS: dict[tuple[Any, ...], Any] = {}

_TOTAL = "page_total_"
_LIMIT = "page_limit_"
_OFFSET = "page_offset_"


def _built(key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS.setdefault(key, build())
    return statement


def _applied(filters: Filters) -> tuple[str, ...]:
    return tuple(name for name, (value, _) in filters.items() if value is not None)


def _criteria(filters: Filters, applied: tuple[str, ...]) -> list[ColumnElement[bool]]:
    return [filters[name][1](bindparam(name)) for name in applied]


def _parameters(filters: Filters, applied: tuple[str, ...]) -> dict[str, Any]:
    return {name: filters[name][0] for name in applied}


class _Repository(Generic[E, R]):
    row_type: type[R]

    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def _table(self) -> Any:
        return self.row_type.__table__

    def add(self, entity: E) -> E:
        """One INSERT … RETURNING id; the stored entity as a read would return it."""
        values = self.row_type.values_of(entity)
        if entity.id is not None:
            values["id"] = entity.id
        table = self._table
        statement = _built(
            (type(self), "add", entity.id is None),
            lambda: insert(table).returning(table.c.id),
        )
        with self._guarded():
            entity.id = self.session.execute(statement, values).scalar_one()
        return self.row_type.to_domain(SimpleNamespace(**{**values, "id": entity.id}))  # type: ignore[arg-type]

    def add_many(self, entities: Sequence[E]) -> list[int]:
        """One INSERT … RETURNING id for the whole batch (insertmanyvalues: a few multi-row
        statements on PostgreSQL and SQLite), ids in the batch's order, in a SAVEPOINT so a
        broken guarantee stores none of it."""
        if not entities:
            return []
        # Core, not the ORM's bulk insert: that one splits a batch wherever the set of NULL
        # columns changes, and then stitches the RETURNING rows together in quadratic time.
        table = self._table
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        with self._guarded():
            ids = list(
                self.session.execute(
                    statement, [self.row_type.values_of(entity) for entity in entities]
                ).scalars()
            )
        for entity, stored_id in zip(entities, ids, strict=True):
            entity.id = stored_id
        return ids

    def get(self, entity_id: int) -> E | None:
        return self._first("get", {"id": (entity_id, lambda p: self._table.c.id == p)})

    def update(self, entity: E) -> None:
        """Every column of ``entity`` but its id, in one UPDATE; KeyError when it is gone."""
        table = self._table
        statement = _built(
            (type(self), "update"),
            lambda: update(table).where(table.c.id == bindparam("id_")),
        )
        with self._guarded():
            result = self.session.execute(
                statement, {"id_": entity.id, **self.row_type.values_of(entity)}
            )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise KeyError(entity.id)

    def delete(self, entity_id: int) -> None:
        with self._guarded(deleting=True):
            self.session.execute(delete(self._table).where(self._table.c.id == entity_id))

    @contextmanager
    def _guarded(self, *, deleting: bool = False) -> Iterator[None]:
        """Flush the block's changes in a SAVEPOINT; a broken guarantee becomes a domain error."""
        try:
            with self.session.begin_nested():
                yield
                self.session.flush()
        except IntegrityError as error:
            raise domain_error(error, deleting=deleting) from error

    def _select(self) -> Select[Any]:
        """Every column of the row type, as plain columns (see ``_all``)."""
        return select(*self._table.columns)

    def _all(
        self,
        query: str,
        filters: Filters,
        order_by: Callable[[], Sequence[ColumnElement[Any]]] = lambda: (),
        limit: int | None = None,
    ) -> list[E]:
        """The entities the applied ``filters`` select, in ``order_by`` order, at most
        ``limit`` of them."""
        # Plain result rows, not ORM instances: the repositories hand out domain copies
        # anyway, and skipping instance construction and the identity map is most of the
        # Python cost of reading a page. ``to_domain`` reads attributes by column name, which a
        # result row has too.
        to_domain = self.row_type.to_domain
        rows = self._rows(query, filters, self._table.columns, order_by, limit)
        return [to_domain(row) for row in rows]  # type: ignore[arg-type]

    def _rows(
        self,
        query: str,
        filters: Filters,
        columns: Sequence[ColumnElement[Any]],
        order_by: Callable[[], Sequence[ColumnElement[Any]]] = lambda: (),
        limit: int | None = None,
    ) -> Sequence[Any]:
        applied = _applied(filters)

        def build() -> Select[Any]:
            statement = select(*columns).where(*_criteria(filters, applied)).order_by(*order_by())
            return statement.limit(bindparam(_LIMIT)) if limit is not None else statement

        statement = _built((type(self), query, applied), build)
        parameters = _parameters(filters, applied)
        if limit is not None:
            parameters[_LIMIT] = limit
        return self.session.execute(statement, parameters).all()  # one fetch, not one per row

    def _first(self, query: str, filters: Filters) -> E | None:
        found = self._all(query, filters, limit=1)
        return found[0] if found else None

    def _page(
        self,
        request: PageRequest,
        filters: Filters,
        order_by: Callable[[], Sequence[ColumnElement[Any]]] | None = None,
    ) -> Page[E]:
        applied = _applied(filters)
        table = self._table

        def build() -> Select[Any]:
            # The total rides along as a window aggregate: one round trip for a page, not two.
            return (
                self._select()
                .add_columns(func.count().over().label(_TOTAL))
                .where(*_criteria(filters, applied))
                .order_by(*(order_by() if order_by else [table.c.id]))
                .limit(bindparam(_LIMIT))
                .offset(bindparam(_OFFSET))
            )

        statement = _built((type(self), "page", applied), build)
        parameters = _parameters(filters, applied)
        rows = self.session.execute(
            statement, {**parameters, _LIMIT: request.page_size, _OFFSET: request.offset}
        ).all()
        if rows:
            total = getattr(rows[0], _TOTAL)
        elif request.offset == 0:
            total = 0
        else:  # a page past the end has no row to carry the total
            count = _built(
                (type(self), "count", applied),
                lambda: select(func.count())
                .select_from(table)
                .where(*_criteria(filters, applied)),
            )
            total = self.session.scalar(count, parameters) or 0
        to_domain = self.row_type.to_domain
        return Page(items=[to_domain(r) for r in rows], total=total, request=request)  # type: ignore[arg-type]


class SqlAlchemyUserRepository(_Repository[User, UserRow]):
    row_type = UserRow

    def get_by_email(self, email: str) -> User | None:
        wanted = email.strip().lower()
        return self._first("by_email", {"email": (wanted, lambda p: func.lower(USERS.c.email) == p)})

    def list(self, page: PageRequest, role: Role | None = None) -> Page[User]:
        return self._page(page, {"role": (role, lambda p: USERS.c.role == p)})

    def get_actor(self, user_id: int) -> Actor | None:
        holder = self.get_token_holder(user_id, ())
        return holder.actor if holder else None

    def get_token_holder(
        self, user_id: int, revocation_keys: Sequence[str]
    ) -> TokenHolder | None:
        found = self.session.execute(
            _built((type(self), "token_holder"), _token_holder_statement),
            {"user_id": user_id, "keys": list(revocation_keys)},
        ).first()
        if found is None:
            return None
        user_id, role, doctor_id, patient_id, is_revoked = found
        actor = Actor(user_id=user_id, role=Role(role), doctor_id=doctor_id, patient_id=patient_id)
        return TokenHolder(actor=actor, revoked=bool(is_revoked))


def _token_holder_statement() -> Select[Any]:
    """The user, their doctor and patient profile ids, and whether any of the token's
    revocation keys is revoked: every signed-in request's one look-up."""
    return (
        select(
            USERS.c.id,
            USERS.c.role,
            DOCTORS.c.id,
            PATIENTS.c.id,
            exists().where(REVOKED.c.key.in_(bindparam("keys", expanding=True))),
        )
        .select_from(
            USERS.outerjoin(DOCTORS, DOCTORS.c.user_id == USERS.c.id).outerjoin(
                PATIENTS, PATIENTS.c.user_id == USERS.c.id
            )
        )
        .where(USERS.c.id == bindparam("user_id"), USERS.c.is_active.is_(True))
    )


class SqlAlchemyDoctorRepository(_Repository[Doctor, DoctorRow]):
    row_type = DoctorRow

    def get_by_user(self, user_id: int) -> Doctor | None:
        return self._first("by_user", {"user_id": (user_id, lambda p: DOCTORS.c.user_id == p)})

    def list(self, page: PageRequest, specialization: str | None = None) -> Page[Doctor]:
        wanted = specialization.lower() if specialization else None
        return self._page(
            page,
            {"specialization": (wanted, lambda p: func.lower(DOCTORS.c.specialization) == p)},
        )

    def is_referenced(self, doctor_id: int) -> bool:
        return bool(
            self.session.scalar(
                select(
                    exists().where(APPOINTMENTS.c.doctor_id == doctor_id)
                    | exists().where(RECORDS.c.doctor_id == doctor_id)
                )
            )
        )

    def delete(self, doctor_id: int) -> None:
        # The schema cascades to the windows, weekly hours and blocked periods too; deleting
        # them here as well says so where it happens.
        for owned in (WINDOWS, RULES, EXCEPTIONS):
            self.session.execute(delete(owned).where(owned.c.doctor_id == doctor_id))
        super().delete(doctor_id)


class SqlAlchemyPatientRepository(_Repository[Patient, PatientRow]):
    row_type = PatientRow

    def get_by_user(self, user_id: int) -> Patient | None:
        return self._first("by_user", {"user_id": (user_id, lambda p: PATIENTS.c.user_id == p)})

    def list(self, page: PageRequest, where: PatientFilter = PatientFilter()) -> Page[Patient]:
        return self._page(
            page,
            {
                "patient_id": (where.patient_id, lambda p: PATIENTS.c.id == p),
                "seen_by": (
                    where.seen_by_doctor_id,
                    lambda p: _has_appointment(PATIENTS.c.id, p),
                ),
            },
        )


class SqlAlchemyAvailabilityRepository(_Repository[Availability, AvailabilityRow]):
    row_type = AvailabilityRow

    def list(
        self, page: PageRequest, where: AvailabilityFilter = AvailabilityFilter()
    ) -> Page[Availability]:
        window = WINDOWS.c
        return self._page(
            page,
            {
                "doctor_id": (where.doctor_id, lambda p: window.doctor_id == p),
                "start": (where.start, lambda p: window.end_time > p),
                "end": (where.end, lambda p: window.start_time < p),
            },
            order_by=lambda: [window.start_time, window.id],
        )

    def overlapping(
        self, doctor_id: int, interval: Interval, exclude_id: int | None = None
    ) -> list[Availability]:
        window = WINDOWS.c
        return self._all(
            "overlapping",
            {
                "doctor_id": (doctor_id, lambda p: window.doctor_id == p),
                "end": (interval.end, lambda p: window.start_time < p),
                "start": (interval.start, lambda p: window.end_time > p),
                "exclude_id": (exclude_id, lambda p: window.id != p),
            },
            order_by=lambda: [window.start_time, window.id],
        )


class SqlAlchemyAppointmentRepository(_Repository[Appointment, AppointmentRow]):
    row_type = AppointmentRow

    def list(
        self, page: PageRequest, where: AppointmentFilter = AppointmentFilter()
    ) -> Page[Appointment]:
        booking = APPOINTMENTS.c
        return self._page(
            page,
            {
                "doctor_id": (where.doctor_id, lambda p: booking.doctor_id == p),
                "patient_id": (where.patient_id, lambda p: booking.patient_id == p),
                "status": (where.status, lambda p: booking.status == p),
                "start": (where.start, lambda p: booking.start_at >= p),
                "end": (where.end, lambda p: booking.start_at < p),
                # A flag: the clause takes no parameter.
                "current_only": (
                    None if where.include_history else True,
                    lambda _: ~_is_history(APPOINTMENTS),
                ),
            },
            order_by=lambda: [booking.start_at, booking.id],
        )

    def doctor_busy(
        self, doctor_id: int, interval: Interval, exclude_id: int | None = None
    ) -> list[Interval]:
        booking = APPOINTMENTS.c
        rows = self._rows(
            "doctor_busy",
            {
                "doctor_id": (doctor_id, lambda p: booking.doctor_id == p),
                "active": (True, lambda _: booking.status.in_(ACTIVE_STATUSES)),
                "end": (interval.end, lambda p: booking.start_at < p),
                # No appointment blocks longer than MAX_BLOCKING: a bounded index range.
                "earliest": (interval.start - MAX_BLOCKING, lambda p: booking.start_at > p),
                "start": (
                    interval.start,
                    lambda p: func.coalesce(booking.blocked_until, booking.end_at) > p,
                ),
                "exclude_id": (exclude_id, lambda p: booking.id != p),
            },
            [booking.start_at, booking.end_at, booking.blocked_until],
            order_by=lambda: [booking.start_at, booking.id],
        )
        # As ``Appointment.blocking``: never shorter than the appointment itself.
        return [Interval(start, max(until or end, end)) for start, end, until in rows]

    def active_overlapping(
        self,
        interval: Interval,
        *,
        doctor_id: int | None = None,
        patient_id: int | None = None,
        exclude_id: int | None = None,
    ) -> list[Appointment]:
        booking = APPOINTMENTS.c
        return self._all(
            "active_overlapping",
            {
                "active": (True, lambda _: booking.status.in_(ACTIVE_STATUSES)),
                "end": (interval.end, lambda p: booking.start_at < p),
                "start": (interval.start, lambda p: booking.end_at > p),
                "doctor_id": (doctor_id, lambda p: booking.doctor_id == p),
                "patient_id": (patient_id, lambda p: booking.patient_id == p),
                "exclude_id": (exclude_id, lambda p: booking.id != p),
            },
            order_by=lambda: [booking.start_at, booking.id],
        )

    def exists_between(self, doctor_id: int, patient_id: int) -> bool:
        return bool(self.session.scalar(select(_has_appointment(patient_id, doctor_id))))

    def confirmed_ended_before(self, cutoff: datetime, limit: int) -> list[Appointment]:
        booking = APPOINTMENTS.c
        return self._all(
            "confirmed_ended_before",
            {
                "status": (Status.CONFIRMED.value, lambda p: booking.status == p),
                "cutoff": (cutoff, lambda p: booking.end_at < p),
            },
            order_by=lambda: [booking.end_at, booking.id],
            limit=limit,
        )

    def active_starting_between(self, start: datetime, end: datetime) -> list[Appointment]:
        booking = APPOINTMENTS.c
        return self._all(
            "active_starting_between",
            {
                "active": (True, lambda _: booking.status.in_(ACTIVE_STATUSES)),
                "start": (start, lambda p: booking.start_at >= p),
                "end": (end, lambda p: booking.start_at < p),
            },
            order_by=lambda: [booking.start_at, booking.id],
        )


class SqlAlchemyAvailabilityRuleRepository(_Repository[AvailabilityRule, AvailabilityRuleRow]):
    row_type = AvailabilityRuleRow

    def list(self, page: PageRequest, where: RuleFilter = RuleFilter()) -> Page[AvailabilityRule]:
        rule = RULES.c
        return self._page(
            page,
            {"doctor_id": (where.doctor_id, lambda p: rule.doctor_id == p)},
            order_by=lambda: [rule.weekday, rule.start_time, rule.id],
        )

    def for_doctor(self, doctor_id: int) -> list[AvailabilityRule]:
        rule = RULES.c
        return self._all(
            "for_doctor",
            {"doctor_id": (doctor_id, lambda p: rule.doctor_id == p)},
            order_by=lambda: [rule.weekday, rule.start_time, rule.id],
        )


class SqlAlchemyAvailabilityExceptionRepository(
    _Repository[AvailabilityException, AvailabilityExceptionRow]
):
    row_type = AvailabilityExceptionRow

    def list(
        self, page: PageRequest, where: ExceptionFilter = ExceptionFilter()
    ) -> Page[AvailabilityException]:
        period = EXCEPTIONS.c
        return self._page(
            page,
            {
                "doctor_id": (where.doctor_id, lambda p: period.doctor_id == p),
                "start": (where.start, lambda p: period.end_at > p),
                "end": (where.end, lambda p: period.start_at < p),
            },
            order_by=lambda: [period.start_at, period.id],
        )

    def overlapping(self, doctor_id: int, interval: Interval) -> list[AvailabilityException]:
        period = EXCEPTIONS.c
        return self._all(
            "overlapping",
            {
                "doctor_id": (doctor_id, lambda p: period.doctor_id == p),
                "end": (interval.end, lambda p: period.start_at < p),
                "start": (interval.start, lambda p: period.end_at > p),
            },
            order_by=lambda: [period.start_at, period.id],
        )


class SqlAlchemyIdempotencyKeyRepository(_Repository[IdempotencyRecord, IdempotencyKeyRow]):
    row_type = IdempotencyKeyRow

    def add(self, record: IdempotencyRecord) -> IdempotencyRecord:
        """INSERT … ON CONFLICT DO NOTHING: a racing request with the same key waits for the
        first one's transaction and then finds the key taken, without an error to unwind."""
        row = IdempotencyKeyRow
        dialect_insert = _INSERT_FOR_DIALECT[self.session.get_bind().dialect.name]
        stored_id = self.session.scalar(
            dialect_insert(row)
            .values(row.values_of(record))
            .on_conflict_do_nothing(index_elements=[row.user_id, row.key])
            .returning(row.id)
        )
        if stored_id is None:
            raise IdempotencyKeyTaken()
        record.id = stored_id
        return record

    def get(self, user_id: int, key: str) -> IdempotencyRecord | None:  # type: ignore[override]
        keys = IDEMPOTENCY_KEYS.c
        return self._first(
            "by_user_and_key",
            {
                "user_id": (user_id, lambda p: keys.user_id == p),
                "key": (key, lambda p: keys.key == p),
            },
        )


class SqlAlchemyMedicalRecordRepository(_Repository[MedicalRecord, MedicalRecordRow]):
    row_type = MedicalRecordRow

    def get_by_appointment(self, appointment_id: int) -> MedicalRecord | None:
        return self._first(
            "by_appointment",
            {"appointment_id": (appointment_id, lambda p: RECORDS.c.appointment_id == p)},
        )

    def list(self, page: PageRequest, where: RecordFilter = RecordFilter()) -> Page[MedicalRecord]:
        record = RECORDS.c
        return self._page(
            page,
            {
                "patient_id": (where.patient_id, lambda p: record.patient_id == p),
                "doctor_id": (where.doctor_id, lambda p: record.doctor_id == p),
                "appointment_id": (where.appointment_id, lambda p: record.appointment_id == p),
                "visible_to": (
                    where.visible_to_doctor_id,
                    lambda p: or_(record.doctor_id == p, _has_appointment(record.patient_id, p)),
                ),
            },
        )


class SqlAlchemyAuditRepository(_Repository[AuditEvent, AuditEventRow]):
    row_type = AuditEventRow

    def add_many(self, events: Sequence[AuditEvent]) -> None:
        if events:
            # One INSERT with every parameter set (insertmanyvalues / executemany): a list
            # page audits one event per record it shows.
            # Core, not the ORM's bulk insert: no RETURNING, no per-row ORM bookkeeping (a
            # record read pays for this insert).
            self.session.execute(
                insert(AUDIT_EVENTS), [AuditEventRow.values_of(event) for event in events]
            )

    def list(self, page: PageRequest, where: AuditFilter = AuditFilter()) -> Page[AuditEvent]:
        event = AUDIT_EVENTS.c
        return self._page(
            page,
            {
                "actor_id": (where.actor_id, lambda p: event.actor_id == p),
                "patient_id": (where.patient_id, lambda p: event.patient_id == p),
                "resource": (where.resource, lambda p: event.resource == p),
                "action": (where.action, lambda p: event.action == p),
                "outcome": (where.outcome, lambda p: event.outcome == p),
                "start": (where.start, lambda p: event.at >= p),
                "end": (where.end, lambda p: event.at < p),
            },
            order_by=lambda: [event.id.desc()],
        )


class SqlAlchemyOutboxRepository(_Repository[OutboxMessage, OutboxMessageRow]):
    row_type = OutboxMessageRow

    def add_if_absent(self, message: OutboxMessage) -> bool:
        row = OutboxMessageRow
        stored_id = self.session.scalar(
            _insert_unless_present(self.session, row, row.key)
            .values(row.values_of(message))
            .returning(row.id)
        )
        if stored_id is None:
            return False
        message.id = stored_id
        return True

    def unsent(self, limit: int) -> list[OutboxMessage]:
        outbox = OUTBOX.c
        return self._all(
            "unsent",
            {"unsent": (True, lambda _: outbox.sent_at.is_(None))},
            order_by=lambda: [outbox.id],
            limit=limit,
        )

    def mark_sent(self, message_id: int, at: datetime) -> None:
        self.session.execute(update(OUTBOX).where(OUTBOX.c.id == message_id).values(sent_at=at))


class SqlAlchemyWebhookEndpointRepository(_Repository[WebhookEndpoint, WebhookEndpointRow]):
    row_type = WebhookEndpointRow

    def list(self, page: PageRequest) -> Page[WebhookEndpoint]:
        return self._page(page, {})

    def delete(self, endpoint_id: int) -> None:
        # The schema cascades to the outbox and the log too; said here where it happens.
        for owned in (MESSAGES, ATTEMPTS):
            self.session.execute(delete(owned).where(owned.c.endpoint_id == endpoint_id))
        super().delete(endpoint_id)


class SqlAlchemyWebhookOutbox:
    """The outbox in ``webhook_messages``; each method is one statement (settle: two)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def publish(self, event: Event) -> int:
        result = self.session.execute(
            _built((type(self), "publish"), _fan_out_statement),
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
        rows = self.session.execute(
            _built((type(self), "claim"), _claim_statement),
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
            for endpoint_id, url, secret in self.session.execute(
                _built(
                    (type(self), "claimed_endpoints"),
                    lambda: select(ENDPOINTS.c.id, ENDPOINTS.c.url, ENDPOINTS.c.secret).where(
                        ENDPOINTS.c.id.in_(bindparam("ids", expanding=True))
                    ),
                ),
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
        settled = self.session.execute(
            _built((type(self), "settle"), _settle_statement),
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
        self.session.execute(
            _built((type(self), "log"), lambda: insert(ATTEMPTS)),
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
        return _AttemptLog(self.session).page(endpoint_id, page)

    def pending(self) -> int:
        return self.session.scalar(
            select(func.count())
            .select_from(MESSAGES)
            .where(MESSAGES.c.status == DeliveryStatus.PENDING.value)
        ) or 0


class _AttemptLog(_Repository[AttemptLog, WebhookAttemptRow]):
    row_type = WebhookAttemptRow

    def page(self, endpoint_id: int, request: PageRequest) -> Page[AttemptLog]:
        attempt = ATTEMPTS.c
        return self._page(
            request,
            {"endpoint_id": (endpoint_id, lambda p: attempt.endpoint_id == p)},
            order_by=lambda: [attempt.id.desc()],
        )


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


class SqlAlchemyCalendarFeedRepository(_Repository[CalendarFeed, CalendarFeedRow]):
    row_type = CalendarFeedRow

    def get_by_digest(self, token_digest: str) -> CalendarFeed | None:
        return self._first(
            "by_digest", {"digest": (token_digest, lambda p: FEEDS.c.token_digest == p)}
        )

    def list(self, page: PageRequest, owner_id: int | None = None) -> Page[CalendarFeed]:
        return self._page(page, {"owner_id": (owner_id, lambda p: FEEDS.c.owner_id == p)})

    def entries(
        self, kind: FeedOwner, profile_id: int, start: datetime, end: datetime
    ) -> list[FeedEntry]:
        booking = APPOINTMENTS.c
        owner = booking.doctor_id if kind is FeedOwner.DOCTOR else booking.patient_id
        statement = _built(
            (type(self), "entries", kind),
            lambda: select(
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
                ~_is_history(APPOINTMENTS),
            )
            .order_by(booking.start_at, booking.id),
        )
        rows = self.session.execute(
            statement, {"owner": profile_id, "start": start, "end": end}
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


class SqlAlchemyTokenRevocations:
    def __init__(self, session: Session) -> None:
        self.session = session

    def revoke(self, key: str, expires_at: datetime) -> bool:
        result = self.session.execute(
            _insert_unless_present(self.session, RevokedTokenRow, RevokedTokenRow.key).values(
                key=key, expires_at=expires_at
            )
        )
        return result.rowcount == 1  # type: ignore[attr-defined, no-any-return]

    def any_revoked(self, keys: Sequence[str]) -> bool:
        if not keys:
            return False
        return bool(self.session.scalar(select(exists().where(REVOKED.c.key.in_(list(keys))))))

    def purge_expired(self, now: datetime) -> int:
        result = self.session.execute(delete(REVOKED).where(REVOKED.c.expires_at <= now))
        return result.rowcount  # type: ignore[attr-defined, no-any-return]


_INSERT_FOR_DIALECT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _insert_unless_present(session: Session, row: type[Any], key: Any) -> Insert:
    """INSERT … ON CONFLICT (key) DO NOTHING: atomic, so two writers racing with the same key
    store it once and neither fails."""
    dialect_insert = _INSERT_FOR_DIALECT[session.get_bind().dialect.name]
    return dialect_insert(row).on_conflict_do_nothing(index_elements=[key])


def _is_history(appointments: Any) -> ColumnElement[bool]:
    """EXISTS an appointment that moved on from this one: it is a reschedule's history copy."""
    return exists().where(MOVED.c.rescheduled_from == appointments.c.id)


def _has_appointment(patient_id: Any, doctor_id: Any) -> ColumnElement[bool]:
    """EXISTS an appointment, in any status, between the doctor and the patient."""
    booking = APPOINTMENTS.c
    return exists().where(and_(booking.patient_id == patient_id, booking.doctor_id == doctor_id))
