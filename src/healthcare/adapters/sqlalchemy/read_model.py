"""The read side on SQLAlchemy Core: each read is one statement, built once at import, that
selects exactly the wire fields (labelled with their wire names) with the caller's scope in the
WHERE clause, and answers plain dicts.

Optional filters are written ``(:value IS NULL OR column = :value)``. PostgreSQL receives the
values inlined by psycopg2 and folds the test away, so each filter costs nothing when absent and
uses its index when present. SQLite cannot fold a bound parameter, so its reads put the
selective part, the caller's scope (a patient's own rows, a doctor's own), in a plain
condition of a statement of its own.

A read of patient data writes its audit events with the read (``AuditedRead``): on PostgreSQL in
the same statement (a data-modifying CTE, committed on its own), on SQLite in one short write
transaction.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    true,
)

from healthcare.adapters.sqlalchemy.rows import (
    AppointmentRow,
    AuditEventRow,
    AvailabilityExceptionRow,
    AvailabilityRow,
    AvailabilityRuleRow,
    DoctorRow,
    MedicalRecordRow,
    PatientRow,
    RevokedTokenRow,
    UserRow,
    WaitlistEntryRow,
)
from healthcare.adapters.sqlalchemy.transaction import Transaction, reading
from healthcare.application.ports import (
    AppointmentFilter,
    AuditFilter,
    AvailabilityFilter,
    ExceptionFilter,
    Page,
    PageRequest,
    RecordFilter,
    RuleFilter,
    TokenHolder,
)
from healthcare.application.read_model import AuditedRead, View
from healthcare.domain.access import Scope
from healthcare.domain.actor import Actor
from healthcare.domain.audit import Action, Outcome, Resource
from healthcare.domain.users import Role

USERS = UserRow.__table__
DOCTORS = DoctorRow.__table__
PATIENTS = PatientRow.__table__
WINDOWS = AvailabilityRow.__table__
RULES = AvailabilityRuleRow.__table__
BLOCKED = AvailabilityExceptionRow.__table__
APPOINTMENTS = AppointmentRow.__table__
RECORDS = MedicalRecordRow.__table__
AUDIT = AuditEventRow.__table__
REVOKED = RevokedTokenRow.__table__
#: Another appointment, seen from a correlated sub-query.
OTHER = APPOINTMENTS.alias("other")

TOTAL, LIMIT, OFFSET = "total", "page_limit", "page_offset"

# -- the wire fields of each resource -----------------------------------------------------------

USER = (USERS.c.id, USERS.c.email, USERS.c.role, USERS.c.is_active, USERS.c.created_at)
DOCTOR = (
    DOCTORS.c.id,
    DOCTORS.c.user_id.label("user"),
    DOCTORS.c.name,
    DOCTORS.c.specialization,
    DOCTORS.c.appointment_minutes,
    DOCTORS.c.timezone,
)
PATIENT = (
    PATIENTS.c.id,
    PATIENTS.c.user_id.label("user"),
    PATIENTS.c.name,
    PATIENTS.c.email,
    PATIENTS.c.phone,
    PATIENTS.c.insurance_id,
    PATIENTS.c.date_of_birth,
)
WINDOW = (
    WINDOWS.c.id,
    WINDOWS.c.doctor_id.label("doctor"),
    WINDOWS.c.start_time,
    WINDOWS.c.end_time,
)
RULE = (
    RULES.c.id,
    RULES.c.doctor_id.label("doctor"),
    RULES.c.weekday,
    RULES.c.start_time,
    RULES.c.end_time,
    RULES.c.valid_from,
    RULES.c.valid_until,
)
APPOINTMENT = (
    APPOINTMENTS.c.id,
    APPOINTMENTS.c.patient_id.label("patient"),
    APPOINTMENTS.c.doctor_id.label("doctor"),
    APPOINTMENTS.c.start_at.label("datetime"),
    APPOINTMENTS.c.end_at.label("end"),
    APPOINTMENTS.c.status,
    APPOINTMENTS.c.reason,
    APPOINTMENTS.c.cancellation_reason,
    APPOINTMENTS.c.created_at,
    APPOINTMENTS.c.updated_at,
    APPOINTMENTS.c.late_cancellation,
    APPOINTMENTS.c.rescheduled_from,
)
RECORD = (
    RECORDS.c.id,
    RECORDS.c.patient_id.label("patient"),
    RECORDS.c.appointment_id.label("appointment"),
    RECORDS.c.doctor_id.label("doctor"),
    RECORDS.c.diagnosis,
    RECORDS.c.treatment,
    RECORDS.c.notes,
    RECORDS.c.created_at,
    RECORDS.c.updated_at,
)
AUDIT_EVENT = (
    AUDIT.c.id,
    AUDIT.c.at,
    AUDIT.c.actor_id.label("actor"),
    AUDIT.c.action,
    AUDIT.c.resource,
    AUDIT.c.resource_id,
    AUDIT.c.patient_id.label("patient"),
    AUDIT.c.outcome,
)


# -- building blocks --------------------------------------------------------------------------


def given(column: Any, name: str, compare: Callable[[Any, Any], Any] = operator.eq) -> Any:
    """``(:name IS NULL OR column <compare> :name)``: a filter applied only when given."""
    value = bindparam(name, type_=column.type)
    return or_(value.is_(None), compare(column, value))


#: The escape character of the name filter's LIKE pattern.
ESCAPE = "\\"


def name_like(column: Any, pattern: Any) -> Any:
    """``lower(column) LIKE pattern``: the pattern is ``contains_pattern``'s."""
    return func.lower(column).like(pattern, escape=ESCAPE)


def contains_pattern(wanted: str | None) -> str | None:
    """The LIKE pattern of a case-insensitive "contains" (``read_model.name_contains``):
    lower-cased, with LIKE's own characters escaped so they match themselves."""
    if wanted is None:
        return None
    escaped = wanted.lower().replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%")
    return "%" + escaped.replace("_", ESCAPE + "_") + "%"


def paged(columns: Sequence[Any], *where: Any, order_by: Sequence[Any]) -> Select[Any]:
    """A page of ``columns``: the total rides along as a window aggregate (one round trip)."""
    return (
        select(func.count().over().label(TOTAL), *columns)
        .where(*where)
        .order_by(*order_by)
        .limit(bindparam(LIMIT))
        .offset(bindparam(OFFSET))
    )


def counted(statement: Select[Any]) -> Select[Any]:
    """How many rows ``statement`` selects in all: for a page past the end, which has no row
    to carry the total."""
    inner = statement.limit(None).offset(None).order_by(None).subquery()
    return select(func.count()).select_from(inner)


def treats(doctor_id: Any, patient_id: Any) -> ColumnElement[bool]:
    """The doctor has (had) an appointment, in any status, with the patient (a hold is none)."""
    return exists().where(
        OTHER.c.doctor_id == doctor_id,
        OTHER.c.patient_id == patient_id,
        OTHER.c.hold_expires_at.is_(None),
    )


SCOPE_DOCTOR, SCOPE_PATIENT = "scope_doctor", "scope_patient"
#: The scopes, each a statement of its own (see the module's docstring).
SCOPES = ("everyone", "doctor", "patient")


def _scope_kind(scope: Scope) -> str:
    if scope.everyone:
        return "everyone"
    return "doctor" if scope.doctor_id is not None else "patient"


def _scope_values(scope: Scope) -> dict[str, Any]:
    return {SCOPE_DOCTOR: scope.doctor_id, SCOPE_PATIENT: scope.patient_id}


# -- the statements ---------------------------------------------------------------------------

TOKEN_HOLDER = (
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

USER_PAGE = paged(USER, given(USERS.c.role, "role"), order_by=[USERS.c.id])
USER_ITEM = select(*USER).where(USERS.c.id == bindparam("id"))
DOCTOR_BY_USER = select(*DOCTOR).where(DOCTORS.c.user_id == bindparam("id"))
PATIENT_BY_USER = select(*PATIENT).where(PATIENTS.c.user_id == bindparam("id"))

DOCTOR_PAGE = paged(
    DOCTOR,
    given(func.lower(DOCTORS.c.specialization), "specialization"),
    given(DOCTORS.c.name, "name", name_like),
    order_by=[DOCTORS.c.id],
)
DOCTOR_ITEM = select(*DOCTOR).where(DOCTORS.c.id == bindparam("id"))

WINDOW_PAGE = paged(
    WINDOW,
    given(WINDOWS.c.doctor_id, "doctor_id"),
    given(WINDOWS.c.end_time, "start", operator.gt),
    given(WINDOWS.c.start_time, "end", operator.lt),
    order_by=[WINDOWS.c.start_time, WINDOWS.c.id],
)
WINDOW_ITEM = select(*WINDOW).where(WINDOWS.c.id == bindparam("id"))

RULE_PAGE = paged(
    RULE,
    given(RULES.c.doctor_id, "doctor_id"),
    order_by=[RULES.c.weekday, RULES.c.start_time, RULES.c.id],
)
RULE_ITEM = select(*RULE).where(RULES.c.id == bindparam("id"))

#: The reason of a blocked period, where the reader's scope sees it.
BLOCKED_PERIOD = (
    BLOCKED.c.id,
    BLOCKED.c.doctor_id.label("doctor"),
    BLOCKED.c.start_at.label("start_time"),
    BLOCKED.c.end_at.label("end_time"),
    case(
        (
            or_(bindparam("everyone"), BLOCKED.c.doctor_id == bindparam(SCOPE_DOCTOR)),
            BLOCKED.c.reason,
        ),
        else_=null(),
    ).label("reason"),
)
BLOCKED_PAGE = paged(
    BLOCKED_PERIOD,
    given(BLOCKED.c.doctor_id, "doctor_id"),
    given(BLOCKED.c.end_at, "start", operator.gt),
    given(BLOCKED.c.start_at, "end", operator.lt),
    order_by=[BLOCKED.c.start_at, BLOCKED.c.id],
)
BLOCKED_ITEM = select(*BLOCKED_PERIOD).where(BLOCKED.c.id == bindparam("id"))

APPOINTMENT_SCOPES = {
    "everyone": true(),
    "doctor": APPOINTMENTS.c.doctor_id == bindparam(SCOPE_DOCTOR),
    "patient": APPOINTMENTS.c.patient_id == bindparam(SCOPE_PATIENT),
}
#: A row with ``hold_expires_at`` is a hold (SPEC section 8), no appointment (yet).
BOOKED = APPOINTMENTS.c.hold_expires_at.is_(None)
APPOINTMENT_FILTERS = (
    BOOKED,
    given(APPOINTMENTS.c.doctor_id, "doctor_id"),
    given(APPOINTMENTS.c.patient_id, "patient_id"),
    given(APPOINTMENTS.c.status, "status"),
    given(APPOINTMENTS.c.start_at, "start", operator.ge),
    given(APPOINTMENTS.c.start_at, "end", operator.lt),
    # The cancelled copies reschedules leave behind, unless asked for. The IS NOT NULL says
    # what the equality implies, so the planner reads the partial index of reschedules
    # instead of hashing the whole table (a doctor's page: 2 ms instead of 32 at 200k rows).
    or_(
        bindparam("include_history"),
        ~exists().where(
            OTHER.c.rescheduled_from.is_not(None),
            OTHER.c.rescheduled_from == APPOINTMENTS.c.id,
        ),
    ),
)
APPOINTMENT_PAGES = {
    kind: paged(
        APPOINTMENT,
        clause,
        *APPOINTMENT_FILTERS,
        order_by=[APPOINTMENTS.c.start_at, APPOINTMENTS.c.id],
    )
    for kind, clause in APPOINTMENT_SCOPES.items()
}
APPOINTMENT_ITEMS = {
    kind: select(*APPOINTMENT).where(APPOINTMENTS.c.id == bindparam("id"), clause, BOOKED)
    for kind, clause in APPOINTMENT_SCOPES.items()
}
HOLD = (
    APPOINTMENTS.c.id,
    APPOINTMENTS.c.doctor_id.label("doctor"),
    APPOINTMENTS.c.patient_id.label("patient"),
    APPOINTMENTS.c.start_at.label("start"),
    APPOINTMENTS.c.end_at.label("end"),
    APPOINTMENTS.c.hold_expires_at.label("expires_at"),
)
WAITLIST = WaitlistEntryRow.__table__
WAITLIST_ENTRY = (
    WAITLIST.c.id,
    WAITLIST.c.doctor_id.label("doctor"),
    WAITLIST.c.patient_id.label("patient"),
    WAITLIST.c.start_at.label("start"),
    WAITLIST.c.end_at.label("end"),
    # As of now: a passed range or a lapsed offer is expired before process-waitlist says so.
    case(
        (
            or_(
                and_(WAITLIST.c.status == "waiting", WAITLIST.c.end_at <= bindparam("now")),
                and_(
                    WAITLIST.c.status == "offered",
                    WAITLIST.c.offer_expires_at <= bindparam("now"),
                ),
            ),
            "expired",
        ),
        else_=WAITLIST.c.status,
    ).label("status"),
    WAITLIST.c.created_at,
    WAITLIST.c.hold_id.label("hold"),
)
WAITLIST_PAGES = {
    kind: paged(WAITLIST_ENTRY, clause, order_by=[WAITLIST.c.id])
    for kind, clause in {
        "everyone": true(),
        "doctor": WAITLIST.c.doctor_id == bindparam(SCOPE_DOCTOR),
        "patient": WAITLIST.c.patient_id == bindparam(SCOPE_PATIENT),
    }.items()
}
#: Live holds, the caller's own (a patient's; an admin's: all), soonest first.
HOLD_PAGE = paged(
    HOLD,
    APPOINTMENTS.c.hold_expires_at > bindparam("now"),
    given(APPOINTMENTS.c.patient_id, SCOPE_PATIENT),
    order_by=[APPOINTMENTS.c.start_at, APPOINTMENTS.c.id],
)

#: A doctor sees the patients they treat; a patient themself.
PATIENT_SCOPES = {
    "everyone": true(),
    "doctor": treats(bindparam(SCOPE_DOCTOR), PATIENTS.c.id),
    "patient": PATIENTS.c.id == bindparam(SCOPE_PATIENT),
}
PATIENT_PAGES = {
    kind: paged(PATIENT, clause, given(PATIENTS.c.name, "name", name_like), order_by=[PATIENTS.c.id])
    for kind, clause in PATIENT_SCOPES.items()
}
PATIENT_ITEMS = {
    kind: select(*PATIENT).where(PATIENTS.c.id == bindparam("id"), clause)
    for kind, clause in PATIENT_SCOPES.items()
}

#: A doctor reads the records of the patients they treat, and their own; a patient their own.
RECORD_SCOPES = {
    "everyone": true(),
    "doctor": or_(
        RECORDS.c.doctor_id == bindparam(SCOPE_DOCTOR),
        treats(bindparam(SCOPE_DOCTOR), RECORDS.c.patient_id),
    ),
    "patient": RECORDS.c.patient_id == bindparam(SCOPE_PATIENT),
}
RECORD_FILTERS = (
    given(RECORDS.c.patient_id, "patient_id"),
    given(RECORDS.c.doctor_id, "doctor_id"),
    given(RECORDS.c.appointment_id, "appointment_id"),
)
RECORD_PAGES = {
    kind: paged(RECORD, clause, *RECORD_FILTERS, order_by=[RECORDS.c.id])
    for kind, clause in RECORD_SCOPES.items()
}
RECORD_ITEMS = {
    kind: select(*RECORD).where(RECORDS.c.id == bindparam("id"), clause)
    for kind, clause in RECORD_SCOPES.items()
}

AUDIT_PAGE = paged(
    AUDIT_EVENT,
    given(AUDIT.c.actor_id, "actor_id"),
    given(AUDIT.c.patient_id, "patient_id"),
    given(AUDIT.c.resource, "resource"),
    given(AUDIT.c.action, "action"),
    given(AUDIT.c.outcome, "outcome"),
    given(AUDIT.c.at, "start", operator.ge),
    given(AUDIT.c.at, "end", operator.lt),
    order_by=[AUDIT.c.id.desc()],
)


# -- audited reads in one statement (PostgreSQL) ------------------------------------------------


#: The column of each audited read that names the patient a row is about.
SUBJECT = {Resource.PATIENT: "id", Resource.MEDICAL_RECORD: "patient"}


def audited(
    read: Select[Any], resource: Resource, action: Action, *, item: bool
) -> Select[Any]:
    """``read`` with its audit events inserted by the same statement: one per row it selects
    (allowed), and for an item that is not there one ``denied`` event naming the requested
    id, for a list that selects nothing one event without a resource id (and the patient
    filter, if any)."""
    found = read.cte("found")
    stamp = {
        "at": bindparam("audit_at", type_=AUDIT.c.at.type),
        "actor_id": bindparam("audit_actor", type_=AUDIT.c.actor_id.type),
        "action": literal(action.value),
        "resource": literal(resource.value),
    }
    allowed = select(
        *stamp.values(), found.c.id, found.c[SUBJECT[resource]], literal(Outcome.ALLOWED.value)
    )
    if item:
        nothing = select(
            *stamp.values(),
            bindparam("id", type_=AUDIT.c.resource_id.type),
            null(),
            literal(Outcome.DENIED.value),
        )
    else:
        nothing = select(
            *stamp.values(),
            null(),
            bindparam("patient_id", type_=AUDIT.c.patient_id.type),
            literal(Outcome.ALLOWED.value),
        )
    events = allowed.union_all(nothing.where(~exists(select(found.c.id))))
    record = insert(AUDIT).from_select(
        ["at", "actor_id", "action", "resource", "resource_id", "patient_id", "outcome"], events
    )
    return select(found).add_cte(record.cte("audit")).order_by(found.c.id)


def _audited_statements(
    reads: dict[str, Select[Any]], resource: Resource, action: Action, *, item: bool
) -> dict[str, Select[Any]]:
    return {kind: audited(read, resource, action, item=item) for kind, read in reads.items()}


AUDITED = {
    "patient_pages": _audited_statements(PATIENT_PAGES, Resource.PATIENT, Action.LIST, item=False),
    "patient_items": _audited_statements(PATIENT_ITEMS, Resource.PATIENT, Action.READ, item=True),
    "record_pages": _audited_statements(
        RECORD_PAGES, Resource.MEDICAL_RECORD, Action.LIST, item=False
    ),
    "record_items": _audited_statements(
        RECORD_ITEMS, Resource.MEDICAL_RECORD, Action.READ, item=True
    ),
}


class SqlAlchemyReadModel:
    """``application.read_model.ReadModel`` on one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.reading = reading(engine)
        self.one_statement_audit = engine.dialect.name == "postgresql"

    # -- accounts ----------------------------------------------------------------------------

    def token_holder(self, user_id: int, revocation_keys: Sequence[str]) -> TokenHolder | None:
        with self._reading() as tx:
            found = tx.execute(
                TOKEN_HOLDER, {"user_id": user_id, "keys": list(revocation_keys)}
            ).first()
        if found is None:
            return None
        user_id, role, doctor_id, patient_id, revoked = found
        actor = Actor(user_id=user_id, role=Role(role), doctor_id=doctor_id, patient_id=patient_id)
        return TokenHolder(actor=actor, revoked=bool(revoked))

    def users(self, page: PageRequest, role: Role | None = None) -> Page[View]:
        return self._page(USER_PAGE, {"role": role}, page)

    def user(self, user_id: int) -> View | None:
        return self._item(USER_ITEM, {"id": user_id})

    def account(self, user_id: int) -> View | None:
        with self._reading() as tx:
            user = _one(tx.execute(USER_ITEM, {"id": user_id}))
            if user is None:
                return None
            profile = {"id": user_id}
            doctor = _one(tx.execute(DOCTOR_BY_USER, profile)) if user["role"] == "doctor" else None
            patient = (
                _one(tx.execute(PATIENT_BY_USER, profile)) if user["role"] == "patient" else None
            )
        return {"user": user, "doctor": doctor, "patient": patient}

    # -- doctors and their calendars ---------------------------------------------------------

    def doctors(
        self, page: PageRequest, specialization: str | None = None, name: str | None = None
    ) -> Page[View]:
        wanted = specialization.lower() if specialization else None
        values = {"specialization": wanted, "name": contains_pattern(name)}
        return self._page(DOCTOR_PAGE, values, page)

    def doctor(self, doctor_id: int) -> View | None:
        return self._item(DOCTOR_ITEM, {"id": doctor_id})

    def windows(self, page: PageRequest, where: AvailabilityFilter) -> Page[View]:
        return self._page(WINDOW_PAGE, vars(where), page)

    def window(self, window_id: int) -> View | None:
        return self._item(WINDOW_ITEM, {"id": window_id})

    def rules(self, page: PageRequest, where: RuleFilter) -> Page[View]:
        return self._page(RULE_PAGE, vars(where), page)

    def rule(self, rule_id: int) -> View | None:
        return self._item(RULE_ITEM, {"id": rule_id})

    def blocked_periods(
        self, scope: Scope, page: PageRequest, where: ExceptionFilter
    ) -> Page[View]:
        return self._page(BLOCKED_PAGE, {**vars(where), **_reason_reader(scope)}, page)

    def blocked_period(self, scope: Scope, period_id: int) -> View | None:
        return self._item(BLOCKED_ITEM, {"id": period_id, **_reason_reader(scope)})

    # -- clinical data -----------------------------------------------------------------------

    def appointments(
        self, scope: Scope, page: PageRequest, where: AppointmentFilter
    ) -> Page[View]:
        values = {**vars(where), **_scope_values(scope)}
        values["status"] = where.status.value if where.status is not None else None
        return self._page(APPOINTMENT_PAGES[_scope_kind(scope)], values, page)

    def appointment(self, scope: Scope, appointment_id: int) -> View | None:
        values = {"id": appointment_id, **_scope_values(scope)}
        return self._item(APPOINTMENT_ITEMS[_scope_kind(scope)], values)

    def waitlist(self, scope: Scope, page: PageRequest, now: datetime) -> Page[View]:
        statement = WAITLIST_PAGES[_scope_kind(scope)]
        return self._page(statement, {**_scope_values(scope), "now": now}, page)

    def holds(self, scope: Scope, page: PageRequest, now: datetime) -> Page[View]:
        if not scope.everyone and scope.patient_id is None:  # a doctor holds nothing
            return Page.empty(page)
        return self._page(HOLD_PAGE, {"now": now, SCOPE_PATIENT: scope.patient_id}, page)

    def patients(
        self, scope: Scope, page: PageRequest, audit: AuditedRead, name: str | None = None
    ) -> Page[View]:
        values = {"patient_id": None, "name": contains_pattern(name)}
        return self._audited_page("patient", scope, values, page, audit)

    def patient(self, scope: Scope, patient_id: int, audit: AuditedRead) -> View | None:
        return self._audited_item("patient", scope, patient_id, audit)

    def records(
        self, scope: Scope, page: PageRequest, where: RecordFilter, audit: AuditedRead
    ) -> Page[View]:
        return self._audited_page("record", scope, vars(where), page, audit)

    def record(self, scope: Scope, record_id: int, audit: AuditedRead) -> View | None:
        return self._audited_item("record", scope, record_id, audit)

    def audit_events(self, page: PageRequest, where: AuditFilter) -> Page[View]:
        values = {
            name: value.value if hasattr(value, "value") else value
            for name, value in vars(where).items()
        }
        return self._page(AUDIT_PAGE, values, page)

    # -- running them ------------------------------------------------------------------------

    def _reading(self) -> Transaction:
        return Transaction(self.reading)

    def _page(self, statement: Select[Any], values: dict[str, Any], page: PageRequest) -> Page[View]:
        with self._reading() as tx:
            return _paged(tx, statement, values, page)

    def _item(self, statement: Select[Any], values: dict[str, Any]) -> View | None:
        with self._reading() as tx:
            return _one(tx.execute(statement, values))

    def _audited_page(
        self,
        resource: str,
        scope: Scope,
        values: dict[str, Any],
        page: PageRequest,
        audit: AuditedRead,
    ) -> Page[View]:
        kind = _scope_kind(scope)
        values = {**values, **_scope_values(scope)}
        plain = (PATIENT_PAGES if resource == "patient" else RECORD_PAGES)[kind]
        if self.one_statement_audit:
            statement = AUDITED[f"{resource}_pages"][kind]
            values.update(audit_at=audit.at, audit_actor=audit.actor_id)
            with self._reading() as tx:
                return _paged(tx, statement, values, page, counting=plain)
        with Transaction(self.engine) as tx:
            found = _paged(tx, plain, values, page)
            action = Action.LIST
            kind_of = _resource(resource)
            events = [
                audit.event(action, kind_of, row["id"], row[SUBJECT[kind_of]])
                for row in found.items
            ] or [audit.event(action, kind_of, None, values.get("patient_id"))]
            tx.execute(insert(AUDIT), [AuditEventRow.values_of(e) for e in events])
            tx.commit()
        return found

    def _audited_item(
        self, resource: str, scope: Scope, item_id: int, audit: AuditedRead
    ) -> View | None:
        kind = _scope_kind(scope)
        values = {"id": item_id, **_scope_values(scope)}
        if self.one_statement_audit:
            statement = AUDITED[f"{resource}_items"][kind]
            values.update(audit_at=audit.at, audit_actor=audit.actor_id)
            with self._reading() as tx:
                return _one(tx.execute(statement, values))
        plain = PATIENT_ITEMS if resource == "patient" else RECORD_ITEMS
        with Transaction(self.engine) as tx:
            found = _one(tx.execute(plain[kind], values))
            if found is None:
                event = audit.event(Action.READ, _resource(resource), item_id, None, Outcome.DENIED)
            else:
                kind_of = _resource(resource)
                event = audit.event(Action.READ, kind_of, found["id"], found[SUBJECT[kind_of]])
            tx.execute(insert(AUDIT), [AuditEventRow.values_of(event)])
            tx.commit()
        return found


def _resource(name: str) -> Resource:
    return Resource.PATIENT if name == "patient" else Resource.MEDICAL_RECORD


def _reason_reader(scope: Scope) -> dict[str, Any]:
    return {"everyone": scope.everyone, SCOPE_DOCTOR: scope.doctor_id}


def _keys(result: Any) -> list[str]:
    """The wire names of a result's columns, as plain strings (SQLAlchemy may name a column
    with a ``str`` subclass, which a JSON encoder may refuse as a key)."""
    return [str(key) for key in result.keys()]


def _one(result: Any) -> View | None:
    row = result.first()
    return dict(zip(_keys(result), row, strict=True)) if row is not None else None


def _paged(
    tx: Transaction,
    statement: Select[Any],
    values: dict[str, Any],
    page: PageRequest,
    *,
    counting: Select[Any] | None = None,
) -> Page[View]:
    """A page of ``statement``'s rows; ``counting`` (default: the statement itself) counts
    them all when the page is past the end."""
    result = tx.execute(statement, {**values, LIMIT: page.page_size, OFFSET: page.offset})
    keys = _keys(result)[1:]  # the first column is the total
    rows = result.all()
    if rows:
        total = rows[0][0]
    elif page.offset == 0:
        total = 0
    else:  # a page past the end has no row to carry the total
        total = tx.execute(counted(counting if counting is not None else statement), values).scalar_one()
    return Page(items=[dict(zip(keys, row[1:], strict=True)) for row in rows], total=total, request=page)
