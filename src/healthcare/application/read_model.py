"""The read side: what list and item reads answer, and the port that answers them.

A read answers plain mappings keyed by the wire field names of SPEC section 2, made by the
storage straight from its rows with the caller's scope in the WHERE clause: no domain entity is
built to be thrown away. The ``*_view`` functions make the same mappings from entities, for the
answers of writes and for the in-memory adapter. Values are ready for a JSON encoder: integers,
strings, booleans, None, UTC datetimes, dates and times.

Reads of patient data (profiles, medical records) are audited: such a read records its audit
events with the read itself, atomically (one statement where the database allows it), as
``AuditedRead`` describes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

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
from healthcare.domain.access import Scope
from healthcare.domain.appointments import Appointment
from healthcare.domain.audit import Action, AuditEvent, Outcome, Resource
from healthcare.domain.availability import Availability
from healthcare.domain.blocked_periods import AvailabilityException
from healthcare.domain.doctors import Doctor
from healthcare.domain.feeds import CalendarFeed
from healthcare.domain.patients import Patient
from healthcare.domain.records import MedicalRecord
from healthcare.domain.users import Role, User
from healthcare.domain.waitlist import WaitlistEntry
from healthcare.domain.webhooks import AttemptLog, WebhookEndpoint
from healthcare.domain.weekly_hours import AvailabilityRule

#: One answer: wire field name -> JSON-ready value.
View = dict[str, Any]


@dataclass(frozen=True)
class AuditedRead:
    """Who reads patient data, and when. An audited read records, in the same statement or
    transaction as the read: for an item, one ``read`` event (``allowed``, or ``denied`` with
    the requested id when the item is absent or out of scope); for a list, one ``list`` event
    per item on the page, or a single one without a resource id (and the patient filter, if
    any) when the page is empty."""

    actor_id: int | None
    at: datetime

    def event(
        self,
        action: Action,
        resource: Resource,
        resource_id: int | None,
        patient_id: int | None,
        outcome: Outcome = Outcome.ALLOWED,
    ) -> AuditEvent:
        return AuditEvent(
            at=self.at,
            actor_id=self.actor_id,
            action=action,
            resource=resource,
            resource_id=resource_id,
            patient_id=patient_id,
            outcome=outcome,
        )


class ReadModel(Protocol):
    """Every list and item read of the API, answered straight from storage."""

    # -- accounts ----------------------------------------------------------------------------

    def token_holder(self, user_id: int, revocation_keys: Sequence[str]) -> TokenHolder | None:
        """The active user ``user_id`` as an Actor, and whether any of ``revocation_keys`` is
        revoked, in one look-up: the check every signed-in request makes. None when the user
        is gone or deactivated."""
        ...

    def users(self, page: PageRequest, role: Role | None = None) -> Page[View]: ...
    def user(self, user_id: int) -> View | None: ...

    def account(self, user_id: int) -> View | None:
        """``{"user", "doctor", "patient"}``: the user with their profile (None where none)."""
        ...

    # -- doctors and their calendars (everyone signed in reads them) ---------------------------

    def doctors(
        self, page: PageRequest, specialization: str | None = None, name: str | None = None
    ) -> Page[View]:
        """Doctors of one specialization (compared case-insensitively), and/or whose name
        contains ``name`` (case-insensitively), by id."""
        ...

    def doctor(self, doctor_id: int) -> View | None: ...
    def windows(self, page: PageRequest, where: AvailabilityFilter) -> Page[View]: ...
    def window(self, window_id: int) -> View | None: ...
    def rules(self, page: PageRequest, where: RuleFilter) -> Page[View]:
        """Weekly hours."""
        ...

    def rule(self, rule_id: int) -> View | None: ...

    def blocked_periods(
        self, scope: Scope, page: PageRequest, where: ExceptionFilter
    ) -> Page[View]:
        """Blocked periods; the ``reason`` only where ``scope`` sees it
        (``Scope.sees_blocked_reason``), None elsewhere."""
        ...

    def blocked_period(self, scope: Scope, period_id: int) -> View | None: ...

    # -- clinical data, in the caller's scope --------------------------------------------------

    def appointments(
        self, scope: Scope, page: PageRequest, where: AppointmentFilter
    ) -> Page[View]: ...

    def appointment(self, scope: Scope, appointment_id: int) -> View | None: ...

    def waitlist(self, scope: Scope, page: PageRequest, now: datetime) -> Page[View]:
        """Waitlist entries: a patient's own, a doctor's, an admin's all; oldest first; each
        status as of ``now``."""
        ...

    def holds(self, scope: Scope, page: PageRequest, now: datetime) -> Page[View]:
        """Live holds (SPEC section 8): a patient's own, an admin's all, a doctor's none; by
        start."""
        ...

    def patients(
        self, scope: Scope, page: PageRequest, audit: AuditedRead, name: str | None = None
    ) -> Page[View]:
        """The patients in ``scope`` (whose name contains ``name``, case-insensitively), by id."""
        ...

    def patient(self, scope: Scope, patient_id: int, audit: AuditedRead) -> View | None: ...

    def records(
        self, scope: Scope, page: PageRequest, where: RecordFilter, audit: AuditedRead
    ) -> Page[View]: ...

    def record(self, scope: Scope, record_id: int, audit: AuditedRead) -> View | None: ...

    def audit_events(self, page: PageRequest, where: AuditFilter) -> Page[View]: ...


def name_contains(name: str, wanted: str) -> bool:
    """The name filter of the reads, as the databases apply it: ``wanted`` anywhere in
    ``name``, both lower-cased (SQL ``lower(name) LIKE '%wanted%'``)."""
    return wanted.lower() in name.lower()


# -- the same answers, from entities -----------------------------------------------------------


def user_view(user: User) -> View:
    return {
        "id": user.id,
        "email": user.email,
        "role": user.role.value,
        "is_active": user.is_active,
        "created_at": user.created_at,
    }


def doctor_view(doctor: Doctor) -> View:
    return {
        "id": doctor.id,
        "user": doctor.user_id,
        "name": doctor.name,
        "specialization": doctor.specialization,
        "appointment_minutes": doctor.appointment_minutes,
        "timezone": doctor.timezone,
    }


def patient_view(patient: Patient) -> View:
    return {
        "id": patient.id,
        "user": patient.user_id,
        "name": patient.name,
        "email": patient.email,
        "phone": patient.phone,
        "insurance_id": patient.insurance_id,
        "date_of_birth": patient.date_of_birth,
    }


def account_view(user: User, doctor: Doctor | None, patient: Patient | None) -> View:
    return {
        "user": user_view(user),
        "doctor": doctor_view(doctor) if doctor is not None else None,
        "patient": patient_view(patient) if patient is not None else None,
    }


def window_view(window: Availability) -> View:
    return {
        "id": window.id,
        "doctor": window.doctor_id,
        "start_time": window.start,
        "end_time": window.end,
    }


def rule_view(rule: AvailabilityRule) -> View:
    return {
        "id": rule.id,
        "doctor": rule.doctor_id,
        "weekday": rule.weekday,
        "start_time": rule.start_time,
        "end_time": rule.end_time,
        "valid_from": rule.valid_from,
        "valid_until": rule.valid_until,
    }


def blocked_period_view(period: AvailabilityException, scope: Scope) -> View:
    return {
        "id": period.id,
        "doctor": period.doctor_id,
        "start_time": period.start,
        "end_time": period.end,
        "reason": period.reason if scope.sees_blocked_reason(period.doctor_id) else None,
    }


def appointment_view(appointment: Appointment) -> View:
    return {
        "id": appointment.id,
        "patient": appointment.patient_id,
        "doctor": appointment.doctor_id,
        "datetime": appointment.start,
        "end": appointment.end,
        "status": appointment.status.value,
        "reason": appointment.reason,
        "cancellation_reason": appointment.cancellation_reason,
        "created_at": appointment.created_at,
        "updated_at": appointment.updated_at,
        "late_cancellation": appointment.late_cancellation,
        "rescheduled_from": appointment.rescheduled_from,
    }


def hold_view(hold: Appointment) -> View:
    return {
        "id": hold.id,
        "doctor": hold.doctor_id,
        "patient": hold.patient_id,
        "start": hold.start,
        "end": hold.end,
        "expires_at": hold.hold_expires_at,
    }


def waitlist_view(entry: WaitlistEntry, now: datetime | None = None) -> View:
    """``now``: the status as of then (``WaitlistEntry.status_at``); without it, as stored."""
    return {
        "id": entry.id,
        "doctor": entry.doctor_id,
        "patient": entry.patient_id,
        "start": entry.start,
        "end": entry.end,
        "status": (entry.status_at(now) if now is not None else entry.status).value,
        "created_at": entry.created_at,
        "hold": entry.hold_id,
    }


def record_view(record: MedicalRecord) -> View:
    return {
        "id": record.id,
        "patient": record.patient_id,
        "appointment": record.appointment_id,
        "doctor": record.doctor_id,
        "diagnosis": record.diagnosis,
        "treatment": record.treatment,
        "notes": record.notes,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def audit_event_view(event: AuditEvent) -> View:
    return {
        "id": event.id,
        "at": event.at,
        "actor": event.actor_id,
        "action": event.action.value,
        "resource": event.resource.value,
        "resource_id": event.resource_id,
        "patient": event.patient_id,
        "outcome": event.outcome.value,
    }


def webhook_view(endpoint: WebhookEndpoint, *, with_secret: bool = False) -> View:
    """A webhook endpoint; its signing secret only where it is shown (create, rotate)."""
    view: View = {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "description": endpoint.description,
        "is_active": endpoint.is_active,
        "created_at": endpoint.created_at,
    }
    if with_secret:
        view["secret"] = endpoint.secret
    return view


def attempt_view(attempt: AttemptLog) -> View:
    return {
        "event_id": attempt.event_id,
        "type": attempt.type,
        "attempt": attempt.attempt,
        "status_code": attempt.status_code,
        "error": attempt.error,
        "at": attempt.at,
        "next_attempt_at": attempt.next_attempt_at,
    }


def calendar_feed_view(feed: CalendarFeed, url: str | None = None) -> View:
    """A calendar feed; its secret URL only in the answer that makes it."""
    return {"id": feed.id, "owner": feed.owner_id, "url": url, "created_at": feed.created_at}
