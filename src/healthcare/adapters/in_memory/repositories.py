"""In-memory repositories.

They keep copies, never the caller's objects, so a use case that forgets ``update`` loses its
change here exactly as it would in a database. Each enforces the guarantees the database
enforces with constraints (unique email, one profile per user, no overlapping active booking,
no overlapping window, one record per appointment), raising the same domain errors.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from healthcare.domain.actor import Actor
from healthcare.domain.appointments import ACTIVE, Appointment, Status
from healthcare.domain.audit import AuditEvent
from healthcare.domain.availability import Availability
from healthcare.domain.blocked_periods import AvailabilityException
from healthcare.domain.doctors import Doctor
from healthcare.domain.errors import (
    DuplicateEmail,
    IdempotencyKeyTaken,
    OverlappingAvailability,
    PatientDoubleBooked,
    ProfileAlreadyExists,
    RecordAlreadyExists,
    SlotUnavailable,
)
from healthcare.domain.idempotency import IdempotencyRecord
from healthcare.domain.notifications import OutboxMessage
from healthcare.domain.patients import Patient
from healthcare.domain.records import MedicalRecord
from healthcare.domain.calendar import Calendar
from healthcare.domain.time import Interval, zone
from healthcare.domain.users import User
from healthcare.domain.weekly_hours import AvailabilityRule

E = TypeVar("E", bound=Any)


class Table(dict[int, Any]):
    """Rows of one kind by id, with the id sequence; copied whole at the start of a transaction."""

    def __init__(self) -> None:
        super().__init__()
        self.last_id = 0


class _Repository(Generic[E]):
    table_name: str

    def __init__(self, tables: dict[str, Table]) -> None:
        self._tables = tables

    @property
    def _rows(self) -> Table:
        return self._tables[self.table_name]

    def _check(self, entity: E) -> None:
        """Storage guarantees; overridden where the database has a constraint."""

    def add(self, entity: E) -> E:
        stored = copy.deepcopy(entity)
        self._check(stored)
        self._rows.last_id += 1
        stored.id = self._rows.last_id
        self._rows[stored.id] = stored
        entity.id = stored.id
        return copy.deepcopy(stored)

    def add_many(self, entities: Sequence[E]) -> list[int]:
        """Each entity checked as ``add`` checks it; a broken guarantee stores none of them."""
        rows, last_id = self._rows, self._rows.last_id
        try:
            return [self.add(entity).id for entity in entities]
        except Exception:
            for stored_id in range(last_id + 1, rows.last_id + 1):
                rows.pop(stored_id, None)
            rows.last_id = last_id
            raise

    def get(self, entity_id: int) -> E | None:
        found = self._rows.get(entity_id)
        return copy.deepcopy(found) if found is not None else None

    def update(self, entity: E) -> None:
        if entity.id not in self._rows:
            raise KeyError(entity.id)
        stored = copy.deepcopy(entity)
        self._check(stored)
        self._rows[stored.id] = stored

    def delete(self, entity_id: int) -> None:
        self._rows.pop(entity_id, None)

    def _others(self, entity: E) -> Iterable[E]:
        return (row for row in self._rows.values() if row.id != entity.id)


class InMemoryUserRepository(_Repository[User]):
    table_name = "users"

    def _check(self, entity: User) -> None:
        if any(other.email == entity.email for other in self._others(entity)):
            raise DuplicateEmail()

    def get_by_email(self, email: str) -> User | None:
        email = email.strip().lower()
        return next((copy.deepcopy(u) for u in self._rows.values() if u.email == email), None)

    def get_actor(self, user_id: int) -> Actor | None:
        """The active user ``user_id`` with their profile ids; None if gone or inactive."""
        user = self._rows.get(user_id)
        if user is None or not user.is_active:
            return None
        doctor = next((d for d in self._tables["doctors"].values() if d.user_id == user_id), None)
        patient = next((p for p in self._tables["patients"].values() if p.user_id == user_id), None)
        return Actor(
            user_id=user.id,
            role=user.role,
            doctor_id=doctor.id if doctor else None,
            patient_id=patient.id if patient else None,
        )


class _ProfileRepository(_Repository[E]):
    kind: str

    def _check(self, entity: E) -> None:
        if any(other.user_id == entity.user_id for other in self._others(entity)):
            raise ProfileAlreadyExists(self.kind)

    def get_by_user(self, user_id: int) -> E | None:
        return next(
            (copy.deepcopy(p) for p in self._rows.values() if p.user_id == user_id), None
        )


class InMemoryDoctorRepository(_ProfileRepository[Doctor]):
    table_name = "doctors"
    kind = "doctor"

    def all(self, specialization: str | None = None) -> list[Doctor]:
        wanted = specialization.casefold() if specialization else None
        found = [d for d in self._rows.values() if wanted is None or d.specialization.casefold() == wanted]
        return [copy.deepcopy(d) for d in sorted(found, key=lambda d: d.id)]

    def is_referenced(self, doctor_id: int) -> bool:
        return any(a.doctor_id == doctor_id for a in self._tables["appointments"].values()) or any(
            r.doctor_id == doctor_id for r in self._tables["records"].values()
        )

    def delete(self, entity_id: int) -> None:
        super().delete(entity_id)
        for name in ("availabilities", "rules", "exceptions"):
            owned = self._tables[name]
            for owned_id in [row.id for row in owned.values() if row.doctor_id == entity_id]:
                del owned[owned_id]


class InMemoryPatientRepository(_ProfileRepository[Patient]):
    table_name = "patients"
    kind = "patient"


class InMemoryAvailabilityRepository(_Repository[Availability]):
    table_name = "availabilities"

    def _check(self, entity: Availability) -> None:
        if self.overlapping(entity.doctor_id, entity.interval, exclude_id=entity.id):
            raise OverlappingAvailability()

    def overlapping(
        self, doctor_id: int, interval: Interval, exclude_id: int | None = None
    ) -> list[Availability]:
        found = [
            w
            for w in self._rows.values()
            if w.doctor_id == doctor_id and w.id != exclude_id and w.interval.overlaps(interval)
        ]
        return [copy.deepcopy(w) for w in sorted(found, key=lambda w: w.start)]


class InMemoryAppointmentRepository(_Repository[Appointment]):
    table_name = "appointments"

    def _check(self, entity: Appointment) -> None:
        if not entity.is_active:
            return
        if self.active_blocking(entity.doctor_id, entity.blocking, exclude_id=entity.id):
            raise SlotUnavailable()
        if self.active_overlapping(
            entity.interval, patient_id=entity.patient_id, exclude_id=entity.id
        ):
            raise PatientDoubleBooked()

    def active_overlapping(
        self,
        interval: Interval,
        *,
        doctor_id: int | None = None,
        patient_id: int | None = None,
        exclude_id: int | None = None,
    ) -> list[Appointment]:
        found = [
            a
            for a in self._rows.values()
            if a.status in ACTIVE
            and a.id != exclude_id
            and (doctor_id is None or a.doctor_id == doctor_id)
            and (patient_id is None or a.patient_id == patient_id)
            and a.interval.overlaps(interval)
        ]
        return [copy.deepcopy(a) for a in sorted(found, key=lambda a: (a.start, a.id))]

    def active_blocking(
        self, doctor_id: int, interval: Interval, exclude_id: int | None = None
    ) -> list[Appointment]:
        found = [
            a
            for a in self._rows.values()
            if a.is_active
            and a.doctor_id == doctor_id
            and a.id != exclude_id
            and a.blocking.overlaps(interval)
        ]
        return [copy.deepcopy(a) for a in sorted(found, key=lambda a: (a.start, a.id))]

    def exists_between(self, doctor_id: int, patient_id: int) -> bool:
        return any(
            a.doctor_id == doctor_id and a.patient_id == patient_id for a in self._rows.values()
        )

    def confirmed_ended_before(self, cutoff: datetime, limit: int) -> list[Appointment]:
        found = [a for a in self._rows.values() if a.status is Status.CONFIRMED and a.end < cutoff]
        found.sort(key=lambda a: (a.end, a.id))
        return [copy.deepcopy(a) for a in found[:limit]]

    def active_starting_between(self, start: datetime, end: datetime) -> list[Appointment]:
        found = [a for a in self._rows.values() if a.is_active and start <= a.start < end]
        return [copy.deepcopy(a) for a in sorted(found, key=lambda a: (a.start, a.id))]


class InMemoryAvailabilityRuleRepository(_Repository[AvailabilityRule]):
    table_name = "rules"

    def for_doctor(self, doctor_id: int) -> list[AvailabilityRule]:
        found = [r for r in self._rows.values() if r.doctor_id == doctor_id]
        return [copy.deepcopy(r) for r in sorted(found, key=_rule_order)]


def _rule_order(rule: AvailabilityRule) -> tuple[int, Any, int]:
    return (rule.weekday, rule.start_time, rule.id)


class InMemoryAvailabilityExceptionRepository(_Repository[AvailabilityException]):
    table_name = "exceptions"

    def overlapping(self, doctor_id: int, interval: Interval) -> list[AvailabilityException]:
        found = [
            e
            for e in self._rows.values()
            if e.doctor_id == doctor_id and e.interval.overlaps(interval)
        ]
        return [copy.deepcopy(e) for e in sorted(found, key=lambda e: (e.start, e.id))]


class InMemoryCalendarRepository:
    def __init__(self, tables: dict[str, Table]) -> None:
        self._tables = tables

    def load(
        self,
        doctor: Doctor,
        within: Interval,
        *,
        patient_id: int | None = None,
        exclude_id: int | None = None,
    ) -> Calendar:
        appointments = [
            a for a in self._tables["appointments"].values() if a.is_active and a.id != exclude_id
        ]
        return Calendar(
            tz=zone(doctor.timezone),
            windows=_overlapping(self._tables["availabilities"], doctor.id, within),
            rules=[copy.deepcopy(r) for r in self._tables["rules"].values() if r.doctor_id == doctor.id],
            blocked=_overlapping(self._tables["exceptions"], doctor.id, within),
            busy=sorted(
                a.blocking
                for a in appointments
                if a.doctor_id == doctor.id and a.blocking.overlaps(within)
            ),
            patient_busy=sorted(
                a.interval
                for a in appointments
                if patient_id is not None and a.patient_id == patient_id and a.interval.overlaps(within)
            ),
        )


def _overlapping(rows: Table, doctor_id: int | None, within: Interval) -> list[Interval]:
    return sorted(
        row.interval for row in rows.values() if row.doctor_id == doctor_id and row.interval.overlaps(within)
    )


class InMemoryIdempotencyKeyRepository(_Repository[IdempotencyRecord]):
    table_name = "idempotency_keys"

    def _check(self, entity: IdempotencyRecord) -> None:
        if self._find(entity.owner, entity.key) is not None:
            raise IdempotencyKeyTaken()

    def get(self, owner: str, key: str) -> IdempotencyRecord | None:  # type: ignore[override]
        found = self._find(owner, key)
        return copy.deepcopy(found) if found is not None else None

    def _find(self, owner: str, key: str) -> IdempotencyRecord | None:
        return next((r for r in self._rows.values() if r.owner == owner and r.key == key), None)


class InMemoryMedicalRecordRepository(_Repository[MedicalRecord]):
    table_name = "records"

    def _check(self, entity: MedicalRecord) -> None:
        if any(r.appointment_id == entity.appointment_id for r in self._others(entity)):
            raise RecordAlreadyExists()

    def get_by_appointment(self, appointment_id: int) -> MedicalRecord | None:
        return next(
            (copy.deepcopy(r) for r in self._rows.values() if r.appointment_id == appointment_id),
            None,
        )


class InMemoryAuditRepository(_Repository[AuditEvent]):
    table_name = "audit"

    def add_many(self, events: Sequence[AuditEvent]) -> None:
        for event in events:
            self.add(event)


class InMemoryOutboxRepository(_Repository[OutboxMessage]):
    table_name = "outbox"

    def add_if_absent(self, message: OutboxMessage) -> bool:
        if any(m.key == message.key for m in self._rows.values()):
            return False
        self.add(message)
        return True

    def unsent(self, limit: int) -> list[OutboxMessage]:
        found = sorted((m for m in self._rows.values() if m.sent_at is None), key=lambda m: m.id)
        return [copy.deepcopy(m) for m in found[:limit]]

    def mark_sent(self, message_id: int, at: datetime) -> None:
        self._rows[message_id].sent_at = at


class InMemoryTokenRevocations:
    def __init__(self, tables: dict[str, Table]) -> None:
        self._rows = tables["revocations"]

    def revoke(self, key: str, expires_at: datetime) -> bool:
        if key in self._rows:
            return False
        self._rows[key] = expires_at  # type: ignore[index]
        return True

    def any_revoked(self, keys: Sequence[str]) -> bool:
        return any(key in self._rows for key in keys)

    def purge_expired(self, now: datetime) -> int:
        expired = [key for key, expires_at in self._rows.items() if expires_at <= now]
        for key in expired:
            del self._rows[key]
        return len(expired)
