"""SQLAlchemy repositories: the ports of ``application.ports`` over one Session.

They read with ``select()``, filter ownership in SQL, and leave the transaction to the unit of
work. Writes flush at once inside a SAVEPOINT, so a broken database guarantee surfaces where it
happens, as the domain error the in-memory adapter raises, and the transaction stays usable.
Orderings match the in-memory adapter exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ColumnElement,
    Insert,
    Select,
    and_,
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
from sqlalchemy.orm import Session, aliased

from healthcare.adapters.sqlalchemy.guarantees import domain_error
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
)
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
from healthcare.domain.errors import IdempotencyKeyTaken
from healthcare.domain.idempotency import IdempotencyRecord
from healthcare.domain.model import Doctor, Patient, Role, User
from healthcare.domain.notifications import OutboxMessage
from healthcare.domain.records import MedicalRecord
from healthcare.domain.time import Interval
from healthcare.domain.weekly import AvailabilityException, AvailabilityRule

E = TypeVar("E", bound=Any)
R = TypeVar("R", bound=EntityRow[Any])

Criteria = list[ColumnElement[bool]]

ACTIVE_STATUSES = sorted(status.value for status in ACTIVE)


def _when(value: object, clause: Callable[[], ColumnElement[bool]]) -> Criteria:
    """``[clause()]`` when the filter field ``value`` is set, so optional filters read as one
    list; built lazily because a comparison with None is no SQL at all."""
    return [clause()] if value is not None else []


class _Repository(Generic[E, R]):
    row_type: type[R]

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, entity: E) -> E:
        row = self.row_type.from_domain(entity)
        with self._guarded():
            self.session.add(row)
        entity.id = row.id
        return row.to_domain()

    def add_many(self, entities: Sequence[E]) -> list[int]:
        """One INSERT … RETURNING id for the whole batch (insertmanyvalues: a few multi-row
        statements on PostgreSQL and SQLite), ids in the batch's order, in a SAVEPOINT so a
        broken guarantee stores none of it."""
        if not entities:
            return []
        # Core, not the ORM's bulk insert: that one splits a batch wherever the set of NULL
        # columns changes, and then stitches the RETURNING rows together in quadratic time.
        table = self.row_type.__table__
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
        row = self.session.get(self.row_type, entity_id)
        return row.to_domain() if row is not None else None

    def update(self, entity: E) -> None:
        row = self.session.get(self.row_type, entity.id)
        if row is None:
            raise KeyError(entity.id)
        with self._guarded():
            row.overwrite_with(entity)

    def delete(self, entity_id: int) -> None:
        with self._guarded(deleting=True):
            self.session.execute(delete(self.row_type).where(self.row_type.id == entity_id))

    @contextmanager
    def _guarded(self, *, deleting: bool = False) -> Iterator[None]:
        """Flush the block's changes in a SAVEPOINT; a broken guarantee becomes a domain error."""
        try:
            with self.session.begin_nested():
                yield
                self.session.flush()
        except IntegrityError as error:
            raise domain_error(error, deleting=deleting) from error

    def _one(self, *criteria: ColumnElement[bool]) -> E | None:
        found = self._all(self._select().where(*criteria).limit(1))
        return found[0] if found else None

    def _select(self) -> Select[Any]:
        """Every column of the row type, as plain columns (see ``_all``)."""
        return select(*self.row_type.__table__.columns)

    def _all(self, statement: Select[Any]) -> list[E]:
        # Plain result rows, not ORM instances: the repositories hand out domain copies
        # anyway, and skipping instance construction and the identity map is most of the
        # Python cost of reading a page. ``to_domain`` reads attributes by column name, which a
        # result row has too.
        to_domain = self.row_type.to_domain
        return [to_domain(row) for row in self.session.execute(statement)]  # type: ignore[arg-type]

    def _page(
        self,
        request: PageRequest,
        criteria: Criteria,
        order_by: Sequence[ColumnElement[Any]] = (),
    ) -> Page[E]:
        row = self.row_type
        # The total rides along as a window aggregate: one round trip for a page, not two.
        statement = (
            self._select()
            .add_columns(func.count().over().label(_TOTAL))
            .where(*criteria)
            .order_by(*(order_by or [row.id]))
            .limit(request.page_size)
            .offset(request.offset)
        )
        rows = self.session.execute(statement).all()
        if rows:
            total = getattr(rows[0], _TOTAL)
        elif request.offset == 0:
            total = 0
        else:  # a page past the end has no row to carry the total
            total = self.session.scalar(select(func.count()).select_from(row).where(*criteria)) or 0
        to_domain = row.to_domain
        return Page(items=[to_domain(r) for r in rows], total=total, request=request)  # type: ignore[arg-type]


_TOTAL = "page_total_"


class SqlAlchemyUserRepository(_Repository[User, UserRow]):
    row_type = UserRow

    def get_by_email(self, email: str) -> User | None:
        return self._one(func.lower(UserRow.email) == email.strip().lower())

    def list(self, page: PageRequest, role: Role | None = None) -> Page[User]:
        return self._page(page, _when(role, lambda: UserRow.role == role))

    def get_actor(self, user_id: int) -> Actor | None:
        holder = self.get_token_holder(user_id, ())
        return holder.actor if holder else None

    def get_token_holder(
        self, user_id: int, revocation_keys: Sequence[str]
    ) -> TokenHolder | None:
        revoked = (
            exists().where(RevokedTokenRow.key.in_(list(revocation_keys)))
            if revocation_keys
            else literal(False)
        )
        found = self.session.execute(
            select(UserRow.id, UserRow.role, DoctorRow.id, PatientRow.id, revoked)
            .outerjoin(DoctorRow, DoctorRow.user_id == UserRow.id)
            .outerjoin(PatientRow, PatientRow.user_id == UserRow.id)
            .where(UserRow.id == user_id, UserRow.is_active.is_(True))
        ).first()
        if found is None:
            return None
        user_id, role, doctor_id, patient_id, is_revoked = found
        actor = Actor(user_id=user_id, role=Role(role), doctor_id=doctor_id, patient_id=patient_id)
        return TokenHolder(actor=actor, revoked=bool(is_revoked))


class SqlAlchemyDoctorRepository(_Repository[Doctor, DoctorRow]):
    row_type = DoctorRow

    def get_by_user(self, user_id: int) -> Doctor | None:
        return self._one(DoctorRow.user_id == user_id)

    def list(self, page: PageRequest, specialization: str | None = None) -> Page[Doctor]:
        wanted = specialization.lower() if specialization else None
        return self._page(
            page, _when(wanted, lambda: func.lower(DoctorRow.specialization) == wanted)
        )

    def is_referenced(self, doctor_id: int) -> bool:
        return bool(
            self.session.scalar(
                select(
                    exists().where(AppointmentRow.doctor_id == doctor_id)
                    | exists().where(MedicalRecordRow.doctor_id == doctor_id)
                )
            )
        )

    def delete(self, doctor_id: int) -> None:
        # The schema cascades to the windows too; deleting them here as well keeps this
        # session's identity map from holding windows the database no longer has.
        self.session.execute(delete(AvailabilityRow).where(AvailabilityRow.doctor_id == doctor_id))
        for owned in (AvailabilityRuleRow, AvailabilityExceptionRow):
            self.session.execute(delete(owned).where(owned.doctor_id == doctor_id))
        super().delete(doctor_id)


class SqlAlchemyPatientRepository(_Repository[Patient, PatientRow]):
    row_type = PatientRow

    def get_by_user(self, user_id: int) -> Patient | None:
        return self._one(PatientRow.user_id == user_id)

    def list(self, page: PageRequest, where: PatientFilter = PatientFilter()) -> Page[Patient]:
        return self._page(
            page,
            _when(where.patient_id, lambda: PatientRow.id == where.patient_id)
            + _when(
                where.seen_by_doctor_id,
                lambda: _has_appointment(PatientRow.id, where.seen_by_doctor_id),
            ),
        )


class SqlAlchemyAvailabilityRepository(_Repository[Availability, AvailabilityRow]):
    row_type = AvailabilityRow

    def list(
        self, page: PageRequest, where: AvailabilityFilter = AvailabilityFilter()
    ) -> Page[Availability]:
        window = AvailabilityRow
        return self._page(
            page,
            _when(where.doctor_id, lambda: window.doctor_id == where.doctor_id)
            + _when(where.start, lambda: window.end_time > where.start)
            + _when(where.end, lambda: window.start_time < where.end),
            order_by=[window.start_time, window.id],
        )

    def overlapping(
        self, doctor_id: int, interval: Interval, exclude_id: int | None = None
    ) -> list[Availability]:
        window = AvailabilityRow
        return self._all(
            self._select()
            .where(
                window.doctor_id == doctor_id,
                window.start_time < interval.end,
                window.end_time > interval.start,
                *_when(exclude_id, lambda: window.id != exclude_id),
            )
            .order_by(window.start_time, window.id)
        )


class SqlAlchemyAppointmentRepository(_Repository[Appointment, AppointmentRow]):
    row_type = AppointmentRow

    def list(
        self, page: PageRequest, where: AppointmentFilter = AppointmentFilter()
    ) -> Page[Appointment]:
        booking = AppointmentRow
        return self._page(
            page,
            _when(where.doctor_id, lambda: booking.doctor_id == where.doctor_id)
            + _when(where.patient_id, lambda: booking.patient_id == where.patient_id)
            + _when(where.status, lambda: booking.status == where.status)
            + _when(where.start, lambda: booking.start_at >= where.start)
            + _when(where.end, lambda: booking.start_at < where.end)
            + ([] if where.include_history else [~_is_history(booking)]),
            order_by=[booking.start_at, booking.id],
        )

    def active_blocking(
        self, doctor_id: int, interval: Interval, exclude_id: int | None = None
    ) -> list[Appointment]:
        booking = AppointmentRow
        return self._all(
            self._select()
            .where(
                booking.doctor_id == doctor_id,
                booking.status.in_(ACTIVE_STATUSES),
                booking.start_at < interval.end,
                # No appointment blocks longer than MAX_BLOCKING: a bounded index range.
                booking.start_at > interval.start - MAX_BLOCKING,
                func.coalesce(booking.blocked_until, booking.end_at) > interval.start,
                *_when(exclude_id, lambda: booking.id != exclude_id),
            )
            .order_by(booking.start_at, booking.id)
        )

    def active_overlapping(
        self,
        interval: Interval,
        *,
        doctor_id: int | None = None,
        patient_id: int | None = None,
        exclude_id: int | None = None,
    ) -> list[Appointment]:
        booking = AppointmentRow
        return self._all(
            self._select()
            .where(
                booking.status.in_(ACTIVE_STATUSES),
                booking.start_at < interval.end,
                booking.end_at > interval.start,
                *_when(doctor_id, lambda: booking.doctor_id == doctor_id),
                *_when(patient_id, lambda: booking.patient_id == patient_id),
                *_when(exclude_id, lambda: booking.id != exclude_id),
            )
            .order_by(booking.start_at, booking.id)
        )

    def exists_between(self, doctor_id: int, patient_id: int) -> bool:
        return bool(self.session.scalar(select(_has_appointment(patient_id, doctor_id))))

    def confirmed_ended_before(self, cutoff: datetime, limit: int) -> list[Appointment]:
        booking = AppointmentRow
        return self._all(
            self._select()
            .where(booking.status == Status.CONFIRMED.value, booking.end_at < cutoff)
            .order_by(booking.end_at, booking.id)
            .limit(limit)
        )

    def active_starting_between(self, start: datetime, end: datetime) -> list[Appointment]:
        booking = AppointmentRow
        return self._all(
            self._select()
            .where(
                booking.status.in_(ACTIVE_STATUSES),
                booking.start_at >= start,
                booking.start_at < end,
            )
            .order_by(booking.start_at, booking.id)
        )


class SqlAlchemyAvailabilityRuleRepository(_Repository[AvailabilityRule, AvailabilityRuleRow]):
    row_type = AvailabilityRuleRow

    def list(self, page: PageRequest, where: RuleFilter = RuleFilter()) -> Page[AvailabilityRule]:
        rule = AvailabilityRuleRow
        return self._page(
            page,
            _when(where.doctor_id, lambda: rule.doctor_id == where.doctor_id),
            order_by=[rule.weekday, rule.start_time, rule.id],
        )

    def for_doctor(self, doctor_id: int) -> list[AvailabilityRule]:
        rule = AvailabilityRuleRow
        return self._all(
            self._select()
            .where(rule.doctor_id == doctor_id)
            .order_by(rule.weekday, rule.start_time, rule.id)
        )


class SqlAlchemyAvailabilityExceptionRepository(
    _Repository[AvailabilityException, AvailabilityExceptionRow]
):
    row_type = AvailabilityExceptionRow

    def list(
        self, page: PageRequest, where: ExceptionFilter = ExceptionFilter()
    ) -> Page[AvailabilityException]:
        period = AvailabilityExceptionRow
        return self._page(
            page,
            _when(where.doctor_id, lambda: period.doctor_id == where.doctor_id)
            + _when(where.start, lambda: period.end_at > where.start)
            + _when(where.end, lambda: period.start_at < where.end),
            order_by=[period.start_at, period.id],
        )

    def overlapping(self, doctor_id: int, interval: Interval) -> list[AvailabilityException]:
        period = AvailabilityExceptionRow
        return self._all(
            self._select()
            .where(
                period.doctor_id == doctor_id,
                period.start_at < interval.end,
                period.end_at > interval.start,
            )
            .order_by(period.start_at, period.id)
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
        return self._one(IdempotencyKeyRow.user_id == user_id, IdempotencyKeyRow.key == key)


class SqlAlchemyMedicalRecordRepository(_Repository[MedicalRecord, MedicalRecordRow]):
    row_type = MedicalRecordRow

    def get_by_appointment(self, appointment_id: int) -> MedicalRecord | None:
        return self._one(MedicalRecordRow.appointment_id == appointment_id)

    def list(self, page: PageRequest, where: RecordFilter = RecordFilter()) -> Page[MedicalRecord]:
        record = MedicalRecordRow
        doctor_id = where.visible_to_doctor_id
        return self._page(
            page,
            _when(where.patient_id, lambda: record.patient_id == where.patient_id)
            + _when(where.doctor_id, lambda: record.doctor_id == where.doctor_id)
            + _when(where.appointment_id, lambda: record.appointment_id == where.appointment_id)
            + _when(
                doctor_id,
                lambda: or_(
                    record.doctor_id == doctor_id, _has_appointment(record.patient_id, doctor_id)
                ),
            ),
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
                insert(AuditEventRow.__table__),
                [AuditEventRow.values_of(event) for event in events],
            )

    def list(self, page: PageRequest, where: AuditFilter = AuditFilter()) -> Page[AuditEvent]:
        event = AuditEventRow
        return self._page(
            page,
            _when(where.actor_id, lambda: event.actor_id == where.actor_id)
            + _when(where.patient_id, lambda: event.patient_id == where.patient_id)
            + _when(where.resource, lambda: event.resource == where.resource)
            + _when(where.action, lambda: event.action == where.action)
            + _when(where.outcome, lambda: event.outcome == where.outcome)
            + _when(where.start, lambda: event.at >= where.start)
            + _when(where.end, lambda: event.at < where.end),
            order_by=[event.id.desc()],
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
        row = OutboxMessageRow
        return self._all(self._select().where(row.sent_at.is_(None)).order_by(row.id).limit(limit))

    def mark_sent(self, message_id: int, at: datetime) -> None:
        self.session.execute(
            update(OutboxMessageRow).where(OutboxMessageRow.id == message_id).values(sent_at=at)
        )


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
        return bool(
            self.session.scalar(select(exists().where(RevokedTokenRow.key.in_(list(keys)))))
        )

    def purge_expired(self, now: datetime) -> int:
        result = self.session.execute(
            delete(RevokedTokenRow).where(RevokedTokenRow.expires_at <= now)
        )
        return result.rowcount  # type: ignore[attr-defined, no-any-return]


_INSERT_FOR_DIALECT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _insert_unless_present(session: Session, row: type[Any], key: Any) -> Insert:
    """INSERT … ON CONFLICT (key) DO NOTHING: atomic, so two writers racing with the same key
    store it once and neither fails."""
    dialect_insert = _INSERT_FOR_DIALECT[session.get_bind().dialect.name]
    return dialect_insert(row).on_conflict_do_nothing(index_elements=[key])


#: Made once: building an alias of a mapped class copies every column (a third of a list
#: request's statement building when it was made per call).
_MOVED = aliased(AppointmentRow)


def _is_history(booking: type[AppointmentRow]) -> ColumnElement[bool]:
    """EXISTS an appointment that moved on from this one: it is a reschedule's history copy."""
    return exists().where(_MOVED.rescheduled_from == booking.id)


def _has_appointment(patient_id: Any, doctor_id: int | None) -> ColumnElement[bool]:
    """EXISTS an appointment, in any status, between the doctor and the patient."""
    return exists().where(
        and_(AppointmentRow.patient_id == patient_id, AppointmentRow.doctor_id == doctor_id)
    )
