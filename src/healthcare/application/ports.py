"""Ports: what the use cases need from the outside world, as Protocols.

Repositories serve the write side: they return domain entities (copies: changing one changes
nothing until ``update``). ``add`` assigns the id; ``add`` and ``update`` raise the matching
domain error when a uniqueness or no-overlap guarantee is broken, because the storage enforces
those guarantees itself (the transaction is then over: the use case ends). ``add_many`` stores a
batch the same way (one round trip on a database), assigns each entity its id, and returns the
ids in the batch's order; a broken guarantee stores none of the batch. Lists and item reads are
the read side's (``read_model.ReadModel``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from healthcare.domain.actor import Actor
from healthcare.domain.appointments import Appointment, Status
from healthcare.domain.audit import Action, AuditEvent, Outcome, Resource
from healthcare.domain.availability import Availability
from healthcare.domain.blocked_periods import AvailabilityException
from healthcare.domain.calendar import Calendar
from healthcare.domain.doctors import Doctor
from healthcare.domain.events import Event
from healthcare.domain.feeds import CalendarFeed, FeedEntry, FeedOwner
from healthcare.domain.idempotency import IdempotencyRecord
from healthcare.domain.notifications import OutboxMessage
from healthcare.domain.patients import Patient
from healthcare.domain.records import MedicalRecord
from healthcare.domain.sign_in import Bucket, Tally
from healthcare.domain.time import Interval
from healthcare.domain.users import User
from healthcare.domain.waitlist import WaitlistEntry
from healthcare.domain.webhooks import (
    AttemptLog,
    AttemptResult,
    Delivery,
    DeliveryStatus,
    IpAddress,
    WebhookEndpoint,
)
from healthcare.domain.weekly_hours import AvailabilityRule

T = TypeVar("T")


class StorageUnavailable(Exception):
    """The storage cannot be reached right now (restart, failover); the caller may retry.

    Adapters raise it instead of their driver's connection errors, so entrypoints can answer
    503 with Retry-After without knowing which database is behind the ports.
    """


class TransactionAborted(StorageUnavailable):
    """The database gave up this transaction to let a concurrent one through (a deadlock, a
    serialization failure). Nothing of it was kept, so the use case may simply run again; if
    it cannot, it is a 503 like any other unavailability."""


DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    def __post_init__(self) -> None:
        from healthcare.domain.errors import InvalidInput

        if self.page < 1:
            raise InvalidInput("page starts at 1.", {"page": ["Must be at least 1."]})
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise InvalidInput(
                f"page_size is between 1 and {MAX_PAGE_SIZE}.",
                {"page_size": [f"Must be between 1 and {MAX_PAGE_SIZE}."]},
            )

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    request: PageRequest = field(default_factory=PageRequest)

    @classmethod
    def empty(cls, request: PageRequest) -> Page[T]:
        return cls(items=[], total=0, request=request)


# -- what a list is narrowed to (on top of the caller's scope) ---------------------------------


@dataclass(frozen=True)
class AppointmentFilter:
    doctor_id: int | None = None
    patient_id: int | None = None
    status: Status | None = None
    #: Appointments starting at or after ``start`` and before ``end``.
    start: datetime | None = None
    end: datetime | None = None
    #: Also the history copies reschedules leave behind (cancelled, "rescheduled").
    include_history: bool = False


@dataclass(frozen=True)
class AvailabilityFilter:
    doctor_id: int | None = None
    #: Windows overlapping [start, end).
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class RuleFilter:
    doctor_id: int | None = None


@dataclass(frozen=True)
class ExceptionFilter:
    doctor_id: int | None = None
    #: Blocked periods overlapping [start, end).
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class RecordFilter:
    patient_id: int | None = None
    doctor_id: int | None = None
    appointment_id: int | None = None


@dataclass(frozen=True)
class AuditFilter:
    actor_id: int | None = None
    patient_id: int | None = None
    resource: Resource | None = None
    action: Action | None = None
    outcome: Outcome | None = None
    start: datetime | None = None
    end: datetime | None = None


# -- repositories ----------------------------------------------------------------------------


class UserRepository(Protocol):
    def add(self, user: User) -> User: ...
    def add_many(self, users: Sequence[User]) -> list[int]: ...
    def get(self, user_id: int) -> User | None: ...
    def get_by_email(self, email: str) -> User | None: ...
    def update(self, user: User) -> None: ...


class DoctorRepository(Protocol):
    def add(self, doctor: Doctor) -> Doctor: ...
    def add_many(self, doctors: Sequence[Doctor]) -> list[int]: ...
    def get(self, doctor_id: int) -> Doctor | None: ...
    def get_by_user(self, user_id: int) -> Doctor | None: ...
    def update(self, doctor: Doctor) -> None: ...
    def delete(self, doctor_id: int) -> None: ...

    def all(self, specialization: str | None = None) -> list[Doctor]:
        """Every doctor (of one specialization, compared case-insensitively), by id."""
        ...

    def is_referenced(self, doctor_id: int) -> bool:
        """Whether appointments or medical records still name this doctor."""
        ...

    def lock(self, doctor_id: int) -> None:
        """Hold the doctor's calendar until the transaction ends: checks that read several
        rows (weekly hours that must not overlap, the daily cap) run one at a time per doctor.
        (PostgreSQL: a row lock that bookings' foreign-key checks do not wait for; SQLite and
        memory already run one writer at a time.)"""
        ...


class PatientRepository(Protocol):
    def add(self, patient: Patient) -> Patient: ...
    def add_many(self, patients: Sequence[Patient]) -> list[int]: ...
    def get(self, patient_id: int) -> Patient | None: ...
    def get_by_user(self, user_id: int) -> Patient | None: ...
    def update(self, patient: Patient) -> None: ...

    def lock(self, patient_id: int) -> None:
        """As ``DoctorRepository.lock``, for the patient: their holds are counted one request
        at a time."""
        ...


class AvailabilityRepository(Protocol):
    def add(self, window: Availability) -> Availability: ...
    def add_many(self, windows: Sequence[Availability]) -> list[int]: ...
    def get(self, window_id: int) -> Availability | None: ...
    def update(self, window: Availability) -> None: ...
    def delete(self, window_id: int) -> None: ...

    def overlapping(
        self, doctor_id: int, interval: Interval, exclude_id: int | None = None
    ) -> list[Availability]:
        """The doctor's windows overlapping ``interval``, ordered by start."""
        ...


class AppointmentRepository(Protocol):
    def add(self, appointment: Appointment) -> Appointment: ...
    def add_many(self, appointments: Sequence[Appointment]) -> list[int]: ...
    def get(self, appointment_id: int) -> Appointment | None: ...
    def update(self, appointment: Appointment) -> None: ...

    def active_overlapping(
        self,
        interval: Interval,
        *,
        doctor_id: int | None = None,
        patient_id: int | None = None,
        exclude_id: int | None = None,
    ) -> list[Appointment]:
        """Pending/confirmed appointments of the doctor or the patient overlapping ``interval``
        (holds are none: every appointment read here leaves them out)."""
        ...

    def exists_between(self, doctor_id: int, patient_id: int) -> bool:
        """Whether the doctor has (had) any appointment with the patient."""
        ...

    def confirmed_ended_before(self, cutoff: datetime, limit: int) -> list[Appointment]:
        """Confirmed appointments whose end is before ``cutoff``, oldest first."""
        ...

    def active_starting_between(self, start: datetime, end: datetime) -> list[Appointment]:
        """Pending/confirmed appointments starting in [start, end), by start."""
        ...

    def clear_expired_holds(
        self,
        now: datetime,
        doctor_id: int,
        doctor_span: Interval,
        patient_id: int | None = None,
        patient_span: Interval | None = None,
    ) -> None:
        """Delete the holds expired at ``now`` that are in the way of a write: the doctor's
        overlapping ``doctor_span`` (their busy time), the patient's overlapping
        ``patient_span``. The no-overlap guarantees cannot see the clock; this makes an
        expired hold block nothing, in the writer's own transaction."""
        ...

    def live_hold_count(self, patient_id: int, now: datetime) -> int: ...

    def add_unless_taken(self, appointment: Appointment) -> Appointment | None:
        """``add``, except that when a no-overlap guarantee refuses the row (a concurrent
        transaction took the time meanwhile) it is None and the transaction goes on."""
        ...

    def delete_hold(self, hold_id: int) -> bool:
        """Delete the row if it is still a hold (not booked meanwhile by a concurrent
        transaction); whether it was."""
        ...

    def purge_expired_holds(self, now: datetime) -> int:
        """Delete every hold expired by ``now`` (housekeeping: they block nothing); how many."""
        ...


class AvailabilityRuleRepository(Protocol):
    def add(self, rule: AvailabilityRule) -> AvailabilityRule: ...
    def get(self, rule_id: int) -> AvailabilityRule | None: ...
    def update(self, rule: AvailabilityRule) -> None: ...
    def delete(self, rule_id: int) -> None: ...

    def for_doctor(self, doctor_id: int) -> list[AvailabilityRule]:
        """All the doctor's weekly rules, by weekday, start time and id."""
        ...


class AvailabilityExceptionRepository(Protocol):
    def add(self, period: AvailabilityException) -> AvailabilityException: ...
    def get(self, period_id: int) -> AvailabilityException | None: ...
    def delete(self, period_id: int) -> None: ...

    def overlapping(self, doctor_id: int, interval: Interval) -> list[AvailabilityException]:
        """The doctor's blocked periods overlapping ``interval``, by start."""
        ...


class CalendarRepository(Protocol):
    def load(
        self,
        doctor: Doctor,
        within: Interval,
        *,
        patient_id: int | None = None,
        exclude_id: int | None = None,
        now: datetime | None = None,
    ) -> Calendar:
        """The doctor's calendar around ``within``, in one look-up: every weekly hours rule,
        the windows and blocked periods overlapping ``within``, the busy time [start,
        blocked_until) of the doctor's active appointments overlapping it, and the active
        appointments of ``patient_id`` (if given) overlapping it; appointment ``exclude_id``
        (one being moved) left out. Holds live at ``now`` count as appointments, expired
        ones not (without ``now``: every hold counts)."""
        ...


class IdempotencyKeyRepository(Protocol):
    def add(self, record: IdempotencyRecord) -> IdempotencyRecord:
        """Raises ``IdempotencyKeyTaken`` when the owner already stored that key."""
        ...

    def get(self, owner: str, key: str) -> IdempotencyRecord | None: ...


class MedicalRecordRepository(Protocol):
    def add(self, record: MedicalRecord) -> MedicalRecord: ...
    def add_many(self, records: Sequence[MedicalRecord]) -> list[int]: ...
    def get(self, record_id: int) -> MedicalRecord | None: ...
    def get_by_appointment(self, appointment_id: int) -> MedicalRecord | None: ...
    def update(self, record: MedicalRecord) -> None: ...


class AuditRepository(Protocol):
    def add_many(self, events: Sequence[AuditEvent]) -> None: ...


class OutboxRepository(Protocol):
    def add_if_absent(self, message: OutboxMessage) -> bool:
        """Store ``message`` unless one with its key exists; True when it was stored."""
        ...

    def unsent(self, limit: int) -> list[OutboxMessage]:
        """Messages not yet sent, oldest first."""
        ...

    def mark_sent(self, message_id: int, at: datetime) -> None: ...


class WebhookEndpointRepository(Protocol):
    def add(self, endpoint: WebhookEndpoint) -> WebhookEndpoint: ...
    def get(self, endpoint_id: int) -> WebhookEndpoint | None: ...
    def update(self, endpoint: WebhookEndpoint) -> None: ...
    def delete(self, endpoint_id: int) -> None:
        """The endpoint, its undelivered events and its delivery log."""
        ...

    def list(self, page: PageRequest) -> Page[WebhookEndpoint]: ...


class WebhookOutbox(Protocol):
    """Events bound for webhook endpoints: written in the transaction of the change, then
    claimed, one attempt at a time, by the delivery workers.

    A use case publishes what it changed in its own unit of work::

        uow.webhooks.publish(appointment_event(EventType.APPOINTMENT_BOOKED, appointment, now))

    and the event is stored, or not, with the change itself.
    """

    def publish(self, event: Event) -> int:
        """One outbox row per active endpoint subscribed to ``event.type``, in one statement
        (none when no endpoint listens); how many were written."""
        ...

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
        """Up to ``limit`` rows due at ``now`` (at most ``per_endpoint`` per endpoint, none for
        ``busy_endpoints``), of active endpoints, oldest due first, leased to ``claim`` until
        ``lease_until``: no other worker takes them meanwhile, and one that outlives its lease
        (a killed worker) is taken again."""
        ...

    def settle(
        self,
        delivery: Delivery,
        claim: str,
        result: AttemptResult,
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
    ) -> bool:
        """Record the attempt in the row and the endpoint's log; False, recording nothing, when
        the lease was lost to another worker."""
        ...

    def attempts(self, endpoint_id: int, page: PageRequest) -> Page[AttemptLog]:
        """The endpoint's delivery log, newest first."""
        ...

    def pending(self) -> int:
        """Rows not yet delivered or failed, for the worker's summary."""
        ...


class CalendarFeedRepository(Protocol):
    def add(self, feed: CalendarFeed) -> CalendarFeed: ...
    def get(self, feed_id: int) -> CalendarFeed | None: ...
    def get_by_digest(self, token_digest: str) -> CalendarFeed | None: ...
    def delete(self, feed_id: int) -> None: ...
    def list(self, page: PageRequest, owner_id: int | None = None) -> Page[CalendarFeed]: ...

    def entries(
        self, kind: FeedOwner, profile_id: int, start: datetime, end: datetime
    ) -> list[FeedEntry]:
        """The doctor's or patient's appointments starting in [start, end), by start, with
        both parties' names; the copies reschedules leave behind are not among them."""
        ...


class WaitlistRepository(Protocol):
    """Waitlist entries (SPEC section 8). An entry changes status by a conditional write
    (``claim``, ``lapse``): of two transactions racing to change one entry, one does, and the
    other hears False once the first has committed."""

    def add(self, entry: WaitlistEntry) -> WaitlistEntry: ...
    def get(self, entry_id: int) -> WaitlistEntry | None: ...
    def update(self, entry: WaitlistEntry) -> None: ...
    def delete(self, entry_id: int) -> None: ...

    def waiting_for(self, doctor_id: int, span: Interval) -> list[WaitlistEntry]:
        """The doctor's waiting entries whose range overlaps ``span``, oldest first."""
        ...

    def claim(self, entry_id: int, offer: Interval, expires_at: datetime) -> bool:
        """Waiting -> offered (of ``offer``, until ``expires_at``); False when not waiting."""
        ...

    def lapse(self, entry_id: int) -> bool:
        """Offered -> expired; False when it was not offered (any more)."""
        ...

    def by_hold(self, hold_id: int) -> WaitlistEntry | None:
        """The offered entry whose offer is the hold ``hold_id``."""
        ...

    def lapsed_offers(self, now: datetime, limit: int) -> list[WaitlistEntry]:
        """Offered entries whose offer expired by ``now``, the first to expire first."""
        ...

    def expire_passed(self, now: datetime) -> int:
        """Waiting entries whose range has passed become expired; how many."""
        ...


class TokenRevocations(Protocol):
    """Revoked token ids and token families, shared by every process through the database."""

    def revoke(self, key: str, expires_at: datetime) -> bool:
        """True when ``key`` was newly revoked; revoking a revoked key changes nothing and
        answers False. Atomic: of two racing callers, exactly one hears True."""
        ...

    def any_revoked(self, keys: Sequence[str]) -> bool: ...

    def purge_expired(self, now: datetime) -> int: ...


class SignInAttempts(Protocol):
    """Sign-in attempts counted per bucket (``domain.sign_in``), shared by every process that
    signs users in, so several workers and instances count as one.

    Its own storage and its own transactions: an attempt is counted even though the sign-in
    that made it fails and rolls back.
    """

    def add(self, buckets: Sequence[Bucket], now: datetime) -> list[Tally]:
        """Count one more attempt in each bucket and answer their tallies, in order. Atomic per
        bucket: of any number of concurrent callers, each sees a different count, and no
        increment is lost. A bucket whose window has ended starts a new one at ``now``."""
        ...

    def give_back(self, tallies: Sequence[tuple[Bucket, Tally]], now: datetime) -> None:
        """Uncount the attempts ``add`` answered with these tallies (the sign-in succeeded or
        was refused before checking a password), unless their window has ended since."""
        ...


# -- other ports -----------------------------------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class MessageSender(Protocol):
    """Delivers one message (email, SMS gateway, log); raises on failure so it is retried."""

    def send(self, recipient: str, subject: str, body: str) -> None: ...


class AddressResolver(Protocol):
    """DNS: every address a host resolves to (none when it does not resolve)."""

    def resolve(self, host: str, port: int) -> list[IpAddress]: ...


class WebhookSender(Protocol):
    """Signs and posts one attempt to ``address`` (already checked), naming the URL's host;
    a timeout or a refused connection is a result with an ``error``, not an exception."""

    def send(self, delivery: Delivery, address: IpAddress, at: datetime) -> AttemptResult: ...


@dataclass(frozen=True)
class TokenHolder:
    actor: Actor
    revoked: bool


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool: ...
    def needs_rehash(self, password_hash: str) -> bool: ...
