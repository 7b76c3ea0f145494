"""The read side in memory: the same answers as the database's, from the committed tables.

Each read runs in an in-memory unit of work, so it sees one consistent state, and an audited
read commits its audit events with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from healthcare.adapters.in_memory.unit_of_work import InMemoryStore, InMemoryUnitOfWork
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
from healthcare.application.read_model import (
    AuditedRead,
    View,
    account_view,
    appointment_view,
    audit_event_view,
    blocked_period_view,
    doctor_view,
    hold_view,
    name_contains,
    patient_view,
    record_view,
    rule_view,
    user_view,
    waitlist_view,
    window_view,
)
from healthcare.domain.access import Scope
from healthcare.domain.audit import Action, Outcome, Resource
from healthcare.domain.users import Role

T = TypeVar("T")


def _page(
    rows: Iterable[T],
    request: PageRequest,
    view: Callable[[T], View],
    order: Callable[[T], Any] = lambda row: row.id,  # type: ignore[attr-defined]
    *,
    reverse: bool = False,
) -> Page[View]:
    ordered = sorted(rows, key=order, reverse=reverse)
    chosen = ordered[request.offset : request.offset + request.page_size]
    return Page(items=[view(row) for row in chosen], total=len(ordered), request=request)


def _within(value: Any, low: Any, high: Any) -> bool:
    return (low is None or value >= low) and (high is None or value < high)


def _given(wanted: Any, value: Any) -> bool:
    return wanted is None or value == wanted


class InMemoryReadModel:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    def _tables(self) -> dict[str, Any]:
        with InMemoryUnitOfWork(self.store) as uow:
            return uow.tables

    # -- accounts ----------------------------------------------------------------------------

    def token_holder(self, user_id: int, revocation_keys: Sequence[str]) -> TokenHolder | None:
        with InMemoryUnitOfWork(self.store) as uow:
            actor = uow.users.get_actor(user_id)
            revoked = uow.revocations.any_revoked(revocation_keys)
        return TokenHolder(actor=actor, revoked=revoked) if actor is not None else None

    def users(self, page: PageRequest, role: Role | None = None) -> Page[View]:
        users = self._tables()["users"].values()
        return _page((u for u in users if _given(role, u.role)), page, user_view)

    def user(self, user_id: int) -> View | None:
        user = self._tables()["users"].get(user_id)
        return user_view(user) if user is not None else None

    def account(self, user_id: int) -> View | None:
        tables = self._tables()
        user = tables["users"].get(user_id)
        if user is None:
            return None
        doctor = next((d for d in tables["doctors"].values() if d.user_id == user_id), None)
        patient = next((p for p in tables["patients"].values() if p.user_id == user_id), None)
        return account_view(user, doctor, patient)

    # -- doctors and their calendars ---------------------------------------------------------

    def doctors(
        self, page: PageRequest, specialization: str | None = None, name: str | None = None
    ) -> Page[View]:
        wanted = specialization.casefold() if specialization else None
        doctors = self._tables()["doctors"].values()
        chosen = (
            d
            for d in doctors
            if _given(wanted, d.specialization.casefold())
            and (name is None or name_contains(d.name, name))
        )
        return _page(chosen, page, doctor_view)

    def doctor(self, doctor_id: int) -> View | None:
        doctor = self._tables()["doctors"].get(doctor_id)
        return doctor_view(doctor) if doctor is not None else None

    def windows(self, page: PageRequest, where: AvailabilityFilter) -> Page[View]:
        chosen = (
            w
            for w in self._tables()["availabilities"].values()
            if _given(where.doctor_id, w.doctor_id)
            and (where.start is None or w.end > where.start)
            and (where.end is None or w.start < where.end)
        )
        return _page(chosen, page, window_view, lambda w: (w.start, w.id))

    def window(self, window_id: int) -> View | None:
        window = self._tables()["availabilities"].get(window_id)
        return window_view(window) if window is not None else None

    def rules(self, page: PageRequest, where: RuleFilter) -> Page[View]:
        chosen = (r for r in self._tables()["rules"].values() if _given(where.doctor_id, r.doctor_id))
        return _page(chosen, page, rule_view, lambda r: (r.weekday, r.start_time, r.id))

    def rule(self, rule_id: int) -> View | None:
        rule = self._tables()["rules"].get(rule_id)
        return rule_view(rule) if rule is not None else None

    def blocked_periods(
        self, scope: Scope, page: PageRequest, where: ExceptionFilter
    ) -> Page[View]:
        chosen = (
            e
            for e in self._tables()["exceptions"].values()
            if _given(where.doctor_id, e.doctor_id)
            and (where.start is None or e.end > where.start)
            and (where.end is None or e.start < where.end)
        )
        return _page(
            chosen, page, lambda e: blocked_period_view(e, scope), lambda e: (e.start, e.id)
        )

    def blocked_period(self, scope: Scope, period_id: int) -> View | None:
        period = self._tables()["exceptions"].get(period_id)
        return blocked_period_view(period, scope) if period is not None else None

    # -- clinical data -----------------------------------------------------------------------

    def appointments(
        self, scope: Scope, page: PageRequest, where: AppointmentFilter
    ) -> Page[View]:
        appointments = self._tables()["appointments"].values()
        history = {a.rescheduled_from for a in appointments if a.rescheduled_from is not None}
        chosen = (
            a
            for a in appointments
            if scope.sees_appointment(a.doctor_id, a.patient_id)
            and not a.is_hold
            and (where.include_history or a.id not in history)
            and _given(where.doctor_id, a.doctor_id)
            and _given(where.patient_id, a.patient_id)
            and _given(where.status, a.status)
            and _within(a.start, where.start, where.end)
        )
        return _page(chosen, page, appointment_view, lambda a: (a.start, a.id))

    def appointment(self, scope: Scope, appointment_id: int) -> View | None:
        found = self._tables()["appointments"].get(appointment_id)
        if (
            found is None
            or found.is_hold
            or not scope.sees_appointment(found.doctor_id, found.patient_id)
        ):
            return None
        return appointment_view(found)

    def waitlist(self, scope: Scope, page: PageRequest, now: datetime) -> Page[View]:
        chosen = (
            e
            for e in self._tables()["waitlist"].values()
            if scope.everyone
            or (scope.doctor_id is not None and e.doctor_id == scope.doctor_id)
            or (scope.patient_id is not None and e.patient_id == scope.patient_id)
        )
        return _page(chosen, page, lambda e: waitlist_view(e, now), lambda e: e.id)

    def holds(self, scope: Scope, page: PageRequest, now: datetime) -> Page[View]:
        if not scope.everyone and scope.patient_id is None:
            return Page.empty(page)
        chosen = (
            a
            for a in self._tables()["appointments"].values()
            if a.hold_expires_at is not None
            and a.hold_expires_at > now
            and _given(scope.patient_id, a.patient_id)
        )
        return _page(chosen, page, hold_view, lambda a: (a.start, a.id))

    def patients(
        self, scope: Scope, page: PageRequest, audit: AuditedRead, name: str | None = None
    ) -> Page[View]:
        with InMemoryUnitOfWork(self.store) as uow:
            treated = self._treated(uow.tables, scope)
            chosen = (
                p
                for p in uow.tables["patients"].values()
                if scope.sees_patient(p.id, treated=p.id in treated)
                and (name is None or name_contains(p.name, name))
            )
            found = _page(chosen, page, patient_view)
            self._audit_list(uow, audit, Resource.PATIENT, "id", found, None)
        return found

    def patient(self, scope: Scope, patient_id: int, audit: AuditedRead) -> View | None:
        with InMemoryUnitOfWork(self.store) as uow:
            patient = uow.tables["patients"].get(patient_id)
            treated = self._treated(uow.tables, scope)
            if patient is None or not scope.sees_patient(patient_id, treated=patient_id in treated):
                found = None
            else:
                found = patient_view(patient)
            self._audit_item(uow, audit, Resource.PATIENT, "id", patient_id, found)
        return found

    def records(
        self, scope: Scope, page: PageRequest, where: RecordFilter, audit: AuditedRead
    ) -> Page[View]:
        with InMemoryUnitOfWork(self.store) as uow:
            treated = self._treated(uow.tables, scope)
            chosen = (
                r
                for r in uow.tables["records"].values()
                if scope.sees_record(r.patient_id, r.doctor_id, treated=r.patient_id in treated)
                and _given(where.patient_id, r.patient_id)
                and _given(where.doctor_id, r.doctor_id)
                and _given(where.appointment_id, r.appointment_id)
            )
            found = _page(chosen, page, record_view)
            self._audit_list(uow, audit, Resource.MEDICAL_RECORD, "patient", found, where.patient_id)
        return found

    def record(self, scope: Scope, record_id: int, audit: AuditedRead) -> View | None:
        with InMemoryUnitOfWork(self.store) as uow:
            record = uow.tables["records"].get(record_id)
            treated = self._treated(uow.tables, scope)
            if record is None or not scope.sees_record(
                record.patient_id, record.doctor_id, treated=record.patient_id in treated
            ):
                found = None
            else:
                found = record_view(record)
            self._audit_item(uow, audit, Resource.MEDICAL_RECORD, "patient", record_id, found)
        return found

    def audit_events(self, page: PageRequest, where: AuditFilter) -> Page[View]:
        chosen = (
            e
            for e in self._tables()["audit"].values()
            if _given(where.actor_id, e.actor_id)
            and _given(where.patient_id, e.patient_id)
            and _given(where.resource, e.resource)
            and _given(where.action, e.action)
            and _given(where.outcome, e.outcome)
            and _within(e.at, where.start, where.end)
        )
        return _page(chosen, page, audit_event_view, reverse=True)

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _treated(tables: dict[str, Any], scope: Scope) -> set[int]:
        """The patients the scope's doctor has (had) an appointment with."""
        if scope.doctor_id is None:
            return set()
        return {
            a.patient_id
            for a in tables["appointments"].values()
            if a.doctor_id == scope.doctor_id and not a.is_hold
        }

    @staticmethod
    def _audit_list(
        uow: InMemoryUnitOfWork,
        audit: AuditedRead,
        resource: Resource,
        subject: str,
        found: Page[View],
        patient_id: int | None,
    ) -> None:
        """``subject``: the field of a row that names the patient it is about."""
        events = [
            audit.event(Action.LIST, resource, row["id"], row[subject]) for row in found.items
        ] or [audit.event(Action.LIST, resource, None, patient_id)]
        uow.audit.add_many(events)
        uow.commit()

    @staticmethod
    def _audit_item(
        uow: InMemoryUnitOfWork,
        audit: AuditedRead,
        resource: Resource,
        subject: str,
        item_id: int,
        found: View | None,
    ) -> None:
        if found is None:
            event = audit.event(Action.READ, resource, item_id, None, Outcome.DENIED)
        else:
            event = audit.event(Action.READ, resource, found["id"], found[subject])
        uow.audit.add_many([event])
        uow.commit()
