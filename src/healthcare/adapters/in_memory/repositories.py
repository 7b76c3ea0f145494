"""In-memory repositories.

They keep copies, never the caller's objects, so a use case that forgets ``update`` loses its
change here exactly as it would in a database. Each enforces the guarantees the database
enforces with constraints (unique email, one profile per user, no overlapping active booking,
no overlapping window, one record per appointment), raising the same domain errors.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from healthcare.application.ports import Page, PageRequest
from healthcare.domain.actor import Actor
from healthcare.domain.appointments import ACTIVE, Appointment, Status
from healthcare.domain.audit import AuditEvent
from healthcare.domain.availability import Availability
from healthcare.domain.blocked_periods import AvailabilityException
from healthcare.domain.calendar import Calendar
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
from healthcare.domain.events import Event
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

    def _page(
        self,
        request: PageRequest,
        keep: Callable[[E], bool] = lambda _: True,
        order: Callable[[E], Any] = lambda row: row.id,
    ) -> Page[E]:
        rows = sorted((r for r in self._rows.values() if keep(r)), key=order)
        chosen = rows[request.offset : request.offset + request.page_size]
        return Page(items=[copy.deepcopy(r) for r in chosen], total=len(rows), request=request)


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

    def lock(self, doctor_id: int) -> None:
        """One transaction at a time already (the store's lock)."""

    def delete(self, entity_id: int) -> None:
        super().delete(entity_id)
        for name in ("availabilities", "rules", "exceptions"):
            owned = self._tables[name]
            for owned_id in [row.id for row in owned.values() if row.doctor_id == entity_id]:
                del owned[owned_id]


class InMemoryPatientRepository(_ProfileRepository[Patient]):
    table_name = "patients"
    kind = "patient"

    def lock(self, patient_id: int) -> None:
        """One transaction at a time already (the store's lock)."""


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
        """The database's no-overlap guarantees: holds (expired or not) take part, since the
        guarantees cannot see the clock."""
        if not entity.is_active:
            return
        others = [a for a in self._rows.values() if a.is_active and a.id != entity.id]
        if any(a.doctor_id == entity.doctor_id and a.blocking.overlaps(entity.blocking) for a in others):
            raise SlotUnavailable()
        if any(a.patient_id == entity.patient_id and a.interval.overlaps(entity.interval) for a in others):
            raise PatientDoubleBooked()

    def clear_expired_holds(
        self,
        now: datetime,
        doctor_id: int,
        doctor_span: Interval,
        patient_id: int | None = None,
        patient_span: Interval | None = None,
    ) -> None:
        for hold in list(self._rows.values()):
            if hold.hold_expires_at is None or hold.hold_expires_at > now:
                continue
            if (hold.doctor_id == doctor_id and hold.blocking.overlaps(doctor_span)) or (
                patient_span is not None
                and hold.patient_id == patient_id
                and hold.interval.overlaps(patient_span)
            ):
                del self._rows[hold.id]

    def add_unless_taken(self, appointment: Appointment) -> Appointment | None:
        try:
            return self.add(appointment)
        except (SlotUnavailable, PatientDoubleBooked):
            return None

    def delete_hold(self, hold_id: int) -> bool:
        hold = self._rows.get(hold_id)
        if hold is None or not hold.is_hold:
            return False
        del self._rows[hold_id]
        return True

    def purge_expired_holds(self, now: datetime) -> int:
        expired = [
            a.id for a in self._rows.values() if a.hold_expires_at and a.hold_expires_at <= now
        ]
        for hold_id in expired:
            del self._rows[hold_id]
        return len(expired)

    def live_hold_count(self, patient_id: int, now: datetime) -> int:
        return sum(
            a.patient_id == patient_id and a.hold_expires_at is not None and a.hold_expires_at > now
            for a in self._rows.values()
        )

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
            and not a.is_hold
            and a.id != exclude_id
            and (doctor_id is None or a.doctor_id == doctor_id)
            and (patient_id is None or a.patient_id == patient_id)
            and a.interval.overlaps(interval)
        ]
        return [copy.deepcopy(a) for a in sorted(found, key=lambda a: (a.start, a.id))]

    def exists_between(self, doctor_id: int, patient_id: int) -> bool:
        return any(
            a.doctor_id == doctor_id and a.patient_id == patient_id and not a.is_hold
            for a in self._rows.values()
        )

    def confirmed_ended_before(self, cutoff: datetime, limit: int) -> list[Appointment]:
        found = [a for a in self._rows.values() if a.status is Status.CONFIRMED and a.end < cutoff]
        found.sort(key=lambda a: (a.end, a.id))
        return [copy.deepcopy(a) for a in found[:limit]]

    def active_starting_between(self, start: datetime, end: datetime) -> list[Appointment]:
        found = [
            a for a in self._rows.values() if a.is_active and not a.is_hold and start <= a.start < end
        ]
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
        now: datetime | None = None,
    ) -> Calendar:
        appointments = [
            a
            for a in self._tables["appointments"].values()
            if a.is_active
            and a.id != exclude_id
            and (now is None or a.hold_expires_at is None or a.hold_expires_at > now)
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


class InMemoryWebhookEndpointRepository(_Repository[WebhookEndpoint]):
    table_name = "webhook_endpoints"

    def list(self, page: PageRequest) -> Page[WebhookEndpoint]:
        return self._page(page)

    def delete(self, entity_id: int) -> None:
        for owned in ("webhook_messages", "webhook_attempts"):
            rows = self._tables[owned]
            for row_id in [i for i, row in rows.items() if _endpoint_of(row) == entity_id]:
                del rows[row_id]
        super().delete(entity_id)


def _endpoint_of(row: Any) -> int:
    """The endpoint of an outbox row or of a log line (kept as ``(endpoint_id, line)``)."""
    return row[0] if isinstance(row, tuple) else row.endpoint_id  # type: ignore[no-any-return]


class _Message:
    """A row of the in-memory webhook outbox."""

    def __init__(self, id: int, endpoint_id: int, event: Event) -> None:  # noqa: A002
        self.id, self.endpoint_id = id, endpoint_id
        self.event_id, self.event_type, self.body = event.id, str(event.type), event.body()
        self.status = DeliveryStatus.PENDING
        self.attempts = 0
        self.next_attempt_at: datetime | None = event.occurred_at
        self.claim: str | None = None


class InMemoryWebhookOutbox:
    def __init__(self, tables: dict[str, Table]) -> None:
        self._endpoints = tables["webhook_endpoints"]
        self._messages = tables["webhook_messages"]
        self._attempts = tables["webhook_attempts"]

    def publish(self, event: Event) -> int:
        written = 0
        for endpoint in self._endpoints.values():
            if endpoint.is_active and endpoint.subscribes_to(event.type):
                self._messages.last_id += 1
                message = _Message(self._messages.last_id, endpoint.id, event)
                self._messages[message.id] = message
                written += 1
        return written

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
        due = sorted(
            (
                m
                for m in self._messages.values()
                if m.status is DeliveryStatus.PENDING
                and m.next_attempt_at <= now
                and self._endpoints[m.endpoint_id].is_active
                and m.endpoint_id not in busy_endpoints
            ),
            key=lambda m: (m.next_attempt_at, m.id),
        )[: limit * 4]
        taken: Counter[int] = Counter()
        claimed = []
        for message in due:
            if len(claimed) == limit:
                break
            if taken[message.endpoint_id] == per_endpoint:
                continue
            taken[message.endpoint_id] += 1
            message.next_attempt_at, message.claim = lease_until, claim
            endpoint = self._endpoints[message.endpoint_id]
            claimed.append(
                Delivery(
                    id=message.id,
                    endpoint_id=message.endpoint_id,
                    event_id=message.event_id,
                    event_type=message.event_type,
                    body=message.body,
                    attempt=message.attempts + 1,
                    url=endpoint.url,
                    secret=endpoint.secret,
                )
            )
        return sorted(claimed, key=lambda delivery: delivery.id)

    def settle(
        self,
        delivery: Delivery,
        claim: str,
        result: AttemptResult,
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
    ) -> bool:
        message = self._messages.get(delivery.id)
        if (
            message is None
            or message.claim != claim
            or message.attempts != delivery.attempt - 1
            or message.status is not DeliveryStatus.PENDING
        ):
            return False
        message.attempts, message.status = delivery.attempt, status
        message.next_attempt_at, message.claim = next_attempt_at, None
        self._attempts.last_id += 1
        log = AttemptLog(
            id=self._attempts.last_id,
            event_id=delivery.event_id,
            type=delivery.event_type,
            attempt=delivery.attempt,
            status_code=result.status_code,
            error=result.error,
            at=result.at,
            next_attempt_at=next_attempt_at,
        )
        self._attempts[log.id] = (delivery.endpoint_id, log)  # type: ignore[index]
        return True

    def attempts(self, endpoint_id: int, page: PageRequest) -> Page[AttemptLog]:
        found = sorted(
            (log for endpoint, log in self._attempts.values() if endpoint == endpoint_id),
            key=lambda log: log.id,
            reverse=True,
        )
        return Page(found[page.offset : page.offset + page.page_size], len(found), page)

    def pending(self) -> int:
        return sum(m.status is DeliveryStatus.PENDING for m in self._messages.values())


class InMemoryCalendarFeedRepository(_Repository[CalendarFeed]):
    table_name = "calendar_feeds"

    def get_by_digest(self, token_digest: str) -> CalendarFeed | None:
        found = [f for f in self._rows.values() if f.token_digest == token_digest]
        return copy.deepcopy(found[0]) if found else None

    def list(self, page: PageRequest, owner_id: int | None = None) -> Page[CalendarFeed]:
        return self._page(page, lambda f: owner_id is None or f.owner_id == owner_id)

    def entries(
        self, kind: FeedOwner, profile_id: int, start: datetime, end: datetime
    ) -> list[FeedEntry]:
        appointments = self._tables["appointments"]
        history = {a.rescheduled_from for a in appointments.values()}
        doctors, patients = self._tables["doctors"], self._tables["patients"]
        found = [
            a
            for a in appointments.values()
            if (a.doctor_id if kind is FeedOwner.DOCTOR else a.patient_id) == profile_id
            and start <= a.start < end
            and a.id not in history
            and not a.is_hold
        ]
        return [
            FeedEntry(
                appointment_id=a.id,  # type: ignore[arg-type]
                start=a.start,
                end=a.end,
                status=a.status,
                sequence=a.sequence,
                updated_at=a.updated_at,
                doctor_name=doctors[a.doctor_id].name,
                patient_name=patients[a.patient_id].name,
            )
            for a in sorted(found, key=lambda a: (a.start, a.id))
        ]


class InMemoryWaitlistRepository(_Repository[WaitlistEntry]):
    table_name = "waitlist"

    def waiting_for(self, doctor_id: int, span: Interval) -> list[WaitlistEntry]:
        found = [
            e
            for e in self._rows.values()
            if e.doctor_id == doctor_id
            and e.status is EntryStatus.WAITING
            and e.range.overlaps(span)
        ]
        return [copy.deepcopy(e) for e in sorted(found, key=lambda e: e.id)]

    def claim(self, entry_id: int, offer: Interval, expires_at: datetime) -> bool:
        entry = self._rows.get(entry_id)
        if entry is None or entry.status is not EntryStatus.WAITING:
            return False
        entry.status, entry.offer, entry.offer_expires_at = EntryStatus.OFFERED, offer, expires_at
        return True

    def lapse(self, entry_id: int) -> bool:
        entry = self._rows.get(entry_id)
        if entry is None or entry.status is not EntryStatus.OFFERED:
            return False
        entry.status = EntryStatus.EXPIRED
        return True

    def by_hold(self, hold_id: int) -> WaitlistEntry | None:
        found = [
            e
            for e in self._rows.values()
            if e.hold_id == hold_id and e.status is EntryStatus.OFFERED
        ]
        return copy.deepcopy(found[0]) if found else None

    def lapsed_offers(self, now: datetime, limit: int) -> list[WaitlistEntry]:
        found = [
            e
            for e in self._rows.values()
            if e.status is EntryStatus.OFFERED and e.offer_expires_at <= now
        ]
        found.sort(key=lambda e: (e.offer_expires_at, e.id))
        return [copy.deepcopy(e) for e in found[:limit]]

    def expire_passed(self, now: datetime) -> int:
        passed = [
            e for e in self._rows.values() if e.status is EntryStatus.WAITING and e.end <= now
        ]
        for entry in passed:
            entry.status = EntryStatus.EXPIRED
        return len(passed)


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
