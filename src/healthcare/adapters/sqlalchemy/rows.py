"""Row classes: how each entity is laid out in tables, with explicit mappers both ways.

The rows mirror the schema the migrations build (the migrations are the only source of the
schema; these classes only describe it to the ORM). Column names are plain SQL names and may
differ from the domain's: an appointment's ``start`` is ``start_at``, a window's ``start_time``.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Any, Generic, TypeVar

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from healthcare.adapters.sqlalchemy.types import UtcDateTime
from healthcare.domain.appointments import Appointment, Status
from healthcare.domain.audit import Action, AuditEvent, Outcome, Resource
from healthcare.domain.availability import Availability
from healthcare.domain.blocked_periods import AvailabilityException
from healthcare.domain.doctors import Doctor
from healthcare.domain.feeds import CalendarFeed, FeedOwner
from healthcare.domain.idempotency import IdempotencyRecord
from healthcare.domain.notifications import OutboxMessage
from healthcare.domain.patients import Patient
from healthcare.domain.policy import BookingPolicy
from healthcare.domain.records import MedicalRecord
from healthcare.domain.time import Interval
from healthcare.domain.users import Role, User
from healthcare.domain.waitlist import EntryStatus, WaitlistEntry
from healthcare.domain.webhooks import AttemptLog, WebhookEndpoint
from healthcare.domain.weekly_hours import AvailabilityRule

E = TypeVar("E")

#: BIGINT on PostgreSQL; INTEGER on SQLite, where only "INTEGER PRIMARY KEY" is the rowid.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime(), int: Id}


class EntityRow(Base, Generic[E]):
    """A row that maps to a domain entity with an integer id."""

    __abstract__ = True

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)

    def to_domain(self) -> E:
        raise NotImplementedError

    @classmethod
    def values_of(cls, entity: E) -> dict[str, Any]:
        """The column values of ``entity`` but its id: one parameter set of an INSERT or UPDATE.

        A plain dict, not a row object: bulk inserts and every audit write build one per row,
        and an instrumented ORM instance costs several times more to make.
        """
        raise NotImplementedError


class UserRow(EntityRow[User]):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    is_active: Mapped[bool]
    created_at: Mapped[datetime]

    @classmethod
    def values_of(cls, user: User) -> dict[str, Any]:
        return {
            "email": user.email,
            "password_hash": user.password_hash,
            "role": user.role.value,
            "is_active": user.is_active,
            "created_at": user.created_at,
        }

    def to_domain(self) -> User:
        return User(
            id=self.id,
            email=self.email,
            password_hash=self.password_hash,
            role=Role(self.role),
            is_active=self.is_active,
            created_at=self.created_at,
        )


class DoctorRow(EntityRow[Doctor]):
    __tablename__ = "doctors"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(200))
    specialization: Mapped[str] = mapped_column(String(200))
    appointment_minutes: Mapped[int] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64))
    # The doctor's booking policy; NULL is the clinic's default.
    min_notice_minutes: Mapped[int | None] = mapped_column(Integer)
    horizon_days: Mapped[int | None] = mapped_column(Integer)
    buffer_minutes: Mapped[int | None] = mapped_column(Integer)
    max_per_day: Mapped[int | None] = mapped_column(Integer)

    @classmethod
    def values_of(cls, doctor: Doctor) -> dict[str, Any]:
        return {
            "user_id": doctor.user_id,
            "name": doctor.name,
            "specialization": doctor.specialization,
            "appointment_minutes": doctor.appointment_minutes,
            "timezone": doctor.timezone,
            "min_notice_minutes": doctor.policy.min_notice_minutes,
            "horizon_days": doctor.policy.horizon_days,
            "buffer_minutes": doctor.policy.buffer_minutes,
            "max_per_day": doctor.policy.max_per_day,
        }

    def to_domain(self) -> Doctor:
        return Doctor(
            id=self.id,
            user_id=self.user_id,
            name=self.name,
            specialization=self.specialization,
            appointment_minutes=self.appointment_minutes,
            timezone=self.timezone,
            policy=BookingPolicy(
                min_notice_minutes=self.min_notice_minutes,
                horizon_days=self.horizon_days,
                buffer_minutes=self.buffer_minutes,
                max_per_day=self.max_per_day,
            ),
        )


class PatientRow(EntityRow[Patient]):
    __tablename__ = "patients"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(40))
    insurance_id: Mapped[str] = mapped_column(String(64))
    date_of_birth: Mapped[date | None]

    @classmethod
    def values_of(cls, patient: Patient) -> dict[str, Any]:
        return {
            "user_id": patient.user_id,
            "name": patient.name,
            "email": patient.email,
            "phone": patient.phone,
            "insurance_id": patient.insurance_id,
            "date_of_birth": patient.date_of_birth,
        }

    def to_domain(self) -> Patient:
        return Patient(
            id=self.id,
            user_id=self.user_id,
            name=self.name,
            email=self.email,
            phone=self.phone,
            insurance_id=self.insurance_id,
            date_of_birth=self.date_of_birth,
        )


class AvailabilityRow(EntityRow[Availability]):
    __tablename__ = "availabilities"

    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id", ondelete="CASCADE"))
    start_time: Mapped[datetime]
    end_time: Mapped[datetime]

    @classmethod
    def values_of(cls, window: Availability) -> dict[str, Any]:
        return {"doctor_id": window.doctor_id, "start_time": window.start, "end_time": window.end}

    def to_domain(self) -> Availability:
        return Availability(
            id=self.id, doctor_id=self.doctor_id, start=self.start_time, end=self.end_time
        )


class AppointmentRow(EntityRow[Appointment]):
    __tablename__ = "appointments"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    #: NULL (rows written before buffers existed) blocks the doctor until ``end_at``.
    blocked_until: Mapped[datetime | None]
    late_cancellation: Mapped[bool]
    rescheduled_from: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    sequence: Mapped[int] = mapped_column(Integer)
    #: Set while the row is a hold (SPEC section 8), which every appointment read leaves out.
    hold_expires_at: Mapped[datetime | None]

    @classmethod
    def values_of(cls, appointment: Appointment) -> dict[str, Any]:
        return {
            "sequence": appointment.sequence,
            "hold_expires_at": appointment.hold_expires_at,
            "blocked_until": appointment.blocked_until,
            "late_cancellation": appointment.late_cancellation,
            "rescheduled_from": appointment.rescheduled_from,
            "patient_id": appointment.patient_id,
            "doctor_id": appointment.doctor_id,
            "start_at": appointment.start,
            "end_at": appointment.end,
            "status": appointment.status.value,
            "reason": appointment.reason,
            "cancellation_reason": appointment.cancellation_reason,
            "created_at": appointment.created_at,
            "updated_at": appointment.updated_at,
        }

    def to_domain(self) -> Appointment:
        return Appointment(
            id=self.id,
            patient_id=self.patient_id,
            doctor_id=self.doctor_id,
            start=self.start_at,
            end=self.end_at,
            status=Status(self.status),
            reason=self.reason,
            cancellation_reason=self.cancellation_reason,
            created_at=self.created_at,
            updated_at=self.updated_at,
            blocked_until=self.blocked_until,
            late_cancellation=self.late_cancellation,
            rescheduled_from=self.rescheduled_from,
            sequence=self.sequence,
            hold_expires_at=self.hold_expires_at,
        )


class WaitlistEntryRow(EntityRow[WaitlistEntry]):
    __tablename__ = "waitlist_entries"

    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id", ondelete="CASCADE"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    hold_id: Mapped[int | None]
    offer_start: Mapped[datetime | None]
    offer_end: Mapped[datetime | None]
    offer_expires_at: Mapped[datetime | None]

    @classmethod
    def values_of(cls, entry: WaitlistEntry) -> dict[str, Any]:
        return {
            "doctor_id": entry.doctor_id,
            "patient_id": entry.patient_id,
            "start_at": entry.start,
            "end_at": entry.end,
            "status": entry.status.value,
            "created_at": entry.created_at,
            "hold_id": entry.hold_id,
            "offer_start": entry.offer.start if entry.offer else None,
            "offer_end": entry.offer.end if entry.offer else None,
            "offer_expires_at": entry.offer_expires_at,
        }

    def to_domain(self) -> WaitlistEntry:
        offered = self.offer_start is not None and self.offer_end is not None
        return WaitlistEntry(
            id=self.id,
            doctor_id=self.doctor_id,
            patient_id=self.patient_id,
            start=self.start_at,
            end=self.end_at,
            status=EntryStatus(self.status),
            created_at=self.created_at,
            hold_id=self.hold_id,
            offer=Interval(self.offer_start, self.offer_end) if offered else None,  # type: ignore[arg-type]
            offer_expires_at=self.offer_expires_at,
        )


class AvailabilityRuleRow(EntityRow[AvailabilityRule]):
    __tablename__ = "availability_rules"

    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[time]
    end_time: Mapped[time]
    valid_from: Mapped[date]
    valid_until: Mapped[date | None]

    @classmethod
    def values_of(cls, rule: AvailabilityRule) -> dict[str, Any]:
        return {
            "doctor_id": rule.doctor_id,
            "weekday": rule.weekday,
            "start_time": rule.start_time,
            "end_time": rule.end_time,
            "valid_from": rule.valid_from,
            "valid_until": rule.valid_until,
        }

    def to_domain(self) -> AvailabilityRule:
        return AvailabilityRule(
            id=self.id,
            doctor_id=self.doctor_id,
            weekday=self.weekday,
            start_time=self.start_time,
            end_time=self.end_time,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
        )


class AvailabilityExceptionRow(EntityRow[AvailabilityException]):
    __tablename__ = "availability_exceptions"

    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id", ondelete="CASCADE"))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)

    @classmethod
    def values_of(cls, period: AvailabilityException) -> dict[str, Any]:
        return {
            "doctor_id": period.doctor_id,
            "start_at": period.start,
            "end_at": period.end,
            "reason": period.reason or "",
        }

    def to_domain(self) -> AvailabilityException:
        return AvailabilityException(
            id=self.id,
            doctor_id=self.doctor_id,
            start=self.start_at,
            end=self.end_at,
            reason=self.reason,
        )


class IdempotencyKeyRow(EntityRow[IdempotencyRecord]):
    """No foreign key: a key names what it created by kind and id, whatever the kind."""

    __tablename__ = "idempotency_keys"

    owner: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    resource: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[int]
    created_at: Mapped[datetime]

    @classmethod
    def values_of(cls, record: IdempotencyRecord) -> dict[str, Any]:
        return {
            "owner": record.owner,
            "key": record.key,
            "fingerprint": record.fingerprint,
            "resource": record.resource,
            "resource_id": record.resource_id,
            "created_at": record.created_at,
        }

    def to_domain(self) -> IdempotencyRecord:
        return IdempotencyRecord(
            id=self.id,
            owner=self.owner,
            key=self.key,
            fingerprint=self.fingerprint,
            resource=self.resource,
            resource_id=self.resource_id,
            created_at=self.created_at,
        )


class MedicalRecordRow(EntityRow[MedicalRecord]):
    __tablename__ = "medical_records"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"))
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"))
    diagnosis: Mapped[str] = mapped_column(Text)
    treatment: Mapped[str] = mapped_column(Text)
    notes: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    @classmethod
    def values_of(cls, record: MedicalRecord) -> dict[str, Any]:
        return {
            "patient_id": record.patient_id,
            "appointment_id": record.appointment_id,
            "doctor_id": record.doctor_id,
            "diagnosis": record.diagnosis,
            "treatment": record.treatment,
            "notes": record.notes,
            "created_at": record.created_at,
            "updated_at": record.updated_at,
        }

    def to_domain(self) -> MedicalRecord:
        return MedicalRecord(
            id=self.id,
            patient_id=self.patient_id,
            appointment_id=self.appointment_id,
            doctor_id=self.doctor_id,
            diagnosis=self.diagnosis,
            treatment=self.treatment,
            notes=self.notes,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


class AuditEventRow(EntityRow[AuditEvent]):
    """No foreign keys: the trail records attempts on ids that may not exist, and outlives rows."""

    __tablename__ = "audit_events"

    at: Mapped[datetime]
    actor_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(16))
    resource: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[int | None]
    patient_id: Mapped[int | None]
    outcome: Mapped[str] = mapped_column(String(16))

    @classmethod
    def values_of(cls, event: AuditEvent) -> dict[str, Any]:
        return {
            "at": event.at,
            "actor_id": event.actor_id,
            "action": event.action.value,
            "resource": event.resource.value,
            "resource_id": event.resource_id,
            "patient_id": event.patient_id,
            "outcome": event.outcome.value,
        }

    def to_domain(self) -> AuditEvent:
        return AuditEvent(
            id=self.id,
            at=self.at,
            actor_id=self.actor_id,
            action=Action(self.action),
            resource=Resource(self.resource),
            resource_id=self.resource_id,
            patient_id=self.patient_id,
            outcome=Outcome(self.outcome),
        )


class OutboxMessageRow(EntityRow[OutboxMessage]):
    __tablename__ = "outbox_messages"

    key: Mapped[str] = mapped_column(String(255))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]

    @classmethod
    def values_of(cls, message: OutboxMessage) -> dict[str, Any]:
        return {
            "key": message.key,
            "recipient": message.recipient,
            "subject": message.subject,
            "body": message.body,
            "created_at": message.created_at,
            "sent_at": message.sent_at,
        }

    def to_domain(self) -> OutboxMessage:
        return OutboxMessage(
            id=self.id,
            key=self.key,
            recipient=self.recipient,
            subject=self.subject,
            body=self.body,
            created_at=self.created_at,
            sent_at=self.sent_at,
        )


class RevokedTokenRow(Base):
    __tablename__ = "revoked_tokens"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[datetime]


class SignInAttemptRow(Base):
    """One bucket of sign-in attempts (``domain.sign_in``): its count in the current window."""

    __tablename__ = "sign_in_attempts"

    bucket: Mapped[str] = mapped_column(String(128), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer)
    window_ends: Mapped[datetime]


class WebhookEndpointRow(EntityRow[WebhookEndpoint]):
    __tablename__ = "webhook_endpoints"

    url: Mapped[str] = mapped_column(String(2000))
    #: The subscribed event types as a JSON array (``["*"]``: all); the outbox's fan-out
    #: matches a type inside it.
    events: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(64))
    is_active: Mapped[bool]
    created_at: Mapped[datetime]

    @classmethod
    def values_of(cls, endpoint: WebhookEndpoint) -> dict[str, Any]:
        return {
            "url": endpoint.url,
            "events": json.dumps(list(endpoint.events)),
            "description": endpoint.description,
            "secret": endpoint.secret,
            "is_active": endpoint.is_active,
            "created_at": endpoint.created_at,
        }

    def to_domain(self) -> WebhookEndpoint:
        return WebhookEndpoint(
            id=self.id,
            url=self.url,
            events=tuple(json.loads(self.events)),
            description=self.description,
            secret=self.secret,
            is_active=self.is_active,
            created_at=self.created_at,
        )


class WebhookMessageRow(Base):
    """The webhook outbox: one row per event and subscribed endpoint, with its delivery state.

    ``next_attempt_at`` is when the row is due; a worker that claims it moves it to the end of
    its lease and writes its ``claim``, so a row whose worker died is due again afterwards.
    """

    __tablename__ = "webhook_messages"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(40))
    event_type: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    #: Attempts made and settled so far.
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None]
    claim: Mapped[str | None] = mapped_column(String(32))


class WebhookAttemptRow(EntityRow[AttemptLog]):
    """The delivery log: one row per settled attempt. Never the body."""

    __tablename__ = "webhook_attempts"

    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(40))
    event_type: Mapped[str] = mapped_column(String(40))
    attempt: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]
    next_attempt_at: Mapped[datetime | None]

    def to_domain(self) -> AttemptLog:
        return AttemptLog(
            id=self.id,
            event_id=self.event_id,
            type=self.event_type,
            attempt=self.attempt,
            status_code=self.status_code,
            error=self.error,
            at=self.at,
            next_attempt_at=self.next_attempt_at,
        )


class CalendarFeedRow(EntityRow[CalendarFeed]):
    """A doctor's or a patient's feed (exactly one of the two profile columns is set)."""

    __tablename__ = "calendar_feeds"

    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    doctor_id: Mapped[int | None] = mapped_column(ForeignKey("doctors.id", ondelete="CASCADE"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"))
    #: SHA-256 of the URL's token, hex; the token itself is never stored.
    token_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    @classmethod
    def values_of(cls, feed: CalendarFeed) -> dict[str, Any]:
        doctor = feed.kind is FeedOwner.DOCTOR
        return {
            "owner_id": feed.owner_id,
            "doctor_id": feed.profile_id if doctor else None,
            "patient_id": None if doctor else feed.profile_id,
            "token_digest": feed.token_digest,
            "created_at": feed.created_at,
        }

    def to_domain(self) -> CalendarFeed:
        doctor = self.doctor_id is not None
        return CalendarFeed(
            id=self.id,
            owner_id=self.owner_id,
            kind=FeedOwner.DOCTOR if doctor else FeedOwner.PATIENT,
            profile_id=self.doctor_id if doctor else self.patient_id,  # type: ignore[arg-type]
            token_digest=self.token_digest,
            created_at=self.created_at,
        )
