"""Appointments: booking rules and the lifecycle state machine.

Who may act is checked before what state allows, so a patient trying to confirm hears "your role
may not" (403) whatever the status, while a permitted actor on a final appointment hears 409.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from healthcare.domain.actor import Actor
from healthcare.domain.doctors import MAX_APPOINTMENT_MINUTES
from healthcare.domain.entity import Entity
from healthcare.domain.errors import (
    InBlockedPeriod,
    InPast,
    InvalidInput,
    OutsideAvailability,
    PermissionDenied,
    TransitionNotAllowed,
)
from healthcare.domain.policy import MAX_BUFFER, BookingPolicy
from healthcare.domain.text import require_text
from healthcare.domain.time import Interval, require_aware


class Status(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


def status_named(name: str) -> Status:
    """The status called ``name``; anything else is invalid input."""
    try:
        return Status(name)
    except ValueError:
        raise InvalidInput("Unknown status.", {"status": ["Not a valid status."]}) from None


#: Statuses that hold a slot: the doctor and the patient are busy during them.
ACTIVE = frozenset({Status.PENDING, Status.CONFIRMED})

REASON_MAX = 1000
#: The longest an appointment can keep its doctor busy: the longest appointment and buffer.
MAX_BLOCKING = timedelta(minutes=MAX_APPOINTMENT_MINUTES) + MAX_BUFFER
#: The cancellation reason of the history copy a reschedule leaves behind.
RESCHEDULED = "rescheduled"


@dataclass(eq=False)
class Appointment(Entity):
    patient_id: int
    doctor_id: int
    start: datetime
    end: datetime
    created_at: datetime
    updated_at: datetime
    status: Status = Status.PENDING
    reason: str = ""
    cancellation_reason: str | None = None
    id: int | None = None
    #: The end of the time the doctor is kept busy: ``end`` plus the doctor's buffer (room
    #: turnover) at booking time. The doctor's no-overlap guarantee uses [start, blocked_until).
    blocked_until: datetime | None = None
    #: Cancelled inside the clinic's late-cancellation cut-off (allowed, but recorded).
    late_cancellation: bool = False
    #: The history copy of the slot this appointment was moved away from, if it was moved.
    rescheduled_from: int | None = None
    #: How many times it changed since booking: a calendar feed's SEQUENCE (RFC 5545), which
    #: tells a calendar app which version of the event is newer.
    sequence: int = 0
    #: Set while this row is a hold (SPEC section 8), not yet an appointment: it keeps the slot,
    #: under the very guarantees that keep a booking's, until this instant; after it, nothing.
    #: Every appointment read leaves holds out; ``domain.holds`` has their rules.
    hold_expires_at: datetime | None = None

    def __post_init__(self) -> None:
        interval = Interval(self.start, self.end)
        self.start, self.end = interval.start, interval.end
        self.status = Status(self.status)
        self.reason = require_text(self.reason or "", "reason", REASON_MAX, allow_empty=True)
        blocked = require_aware(self.blocked_until or self.end, "blocked_until")
        self.blocked_until = max(blocked, self.end)

    @property
    def interval(self) -> Interval:
        return Interval(self.start, self.end)

    @property
    def blocking(self) -> Interval:
        """The doctor's busy time: the appointment and the buffer after it."""
        return Interval(self.start, self.blocked_until or self.end)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def is_hold(self) -> bool:
        return self.hold_expires_at is not None

    # -- who is who -------------------------------------------------------------------------

    def party_of(self, actor: Actor) -> Party | None:
        """The part ``actor`` plays in this appointment, if any."""
        if actor.is_admin:
            return Party.ADMIN
        if actor.is_doctor and actor.doctor_id == self.doctor_id:
            return Party.DOCTOR
        if actor.is_patient and actor.patient_id == self.patient_id:
            return Party.PATIENT
        return None

    def visible_to(self, actor: Actor) -> bool:
        return self.party_of(actor) is not None

    # -- lifecycle -------------------------------------------------------------------------

    def move_to(
        self,
        target: Status,
        actor: Actor,
        now: datetime,
        *,
        reason: str | None = None,
        policy: BookingPolicy | None = None,
    ) -> None:
        """Take the lifecycle step to ``target`` (``TRANSITIONS``). Cancelling records the
        optional ``reason``, and whether it came inside ``policy``'s late-cancellation cut-off."""
        step = TRANSITIONS.get(target)
        if step is None:
            raise PermissionDenied("Status goes back to pending only by rescheduling.")
        party = self.party_of(actor)
        if party not in step.parties:
            raise PermissionDenied(step.refusal)
        if self.status not in step.allowed_from:
            raise TransitionNotAllowed(self.status, target)
        started = now >= self.start
        if step.only_once_started and not started:
            raise TransitionNotAllowed(self.status, target, "it has not started yet")
        if target is Status.CANCELLED and party is Party.PATIENT and started:
            raise TransitionNotAllowed(
                self.status, target, "a patient cancels only before it starts"
            )
        self.status = target
        self._changed(now)
        if target is Status.CANCELLED:
            text = require_text(reason, "reason", REASON_MAX, allow_empty=True) if reason else ""
            self.cancellation_reason = text or None
            self.late_cancellation = policy is not None and policy.is_late_cancellation(
                self.start, now
            )

    def reschedule(
        self, actor: Actor, new_slot: Interval, now: datetime, buffer: timedelta = timedelta(0)
    ) -> None:
        """Move to ``new_slot``; the caller has checked it like a new booking (ignoring this one)."""
        self.require_can_reschedule(actor)
        self.start, self.end = new_slot.start, new_slot.end
        self.blocked_until = new_slot.end + buffer
        self.status = Status.PENDING
        self._changed(now)

    def history_copy(self, now: datetime) -> Appointment:
        """What this appointment was before a move: a cancelled copy ("rescheduled") that
        keeps the old slot on record and holds no time."""
        return replace(
            self,
            id=None,
            status=Status.CANCELLED,
            cancellation_reason=RESCHEDULED,
            late_cancellation=False,
            updated_at=now,
        )

    def require_can_reschedule(self, actor: Actor) -> None:
        if self.party_of(actor) not in (Party.ADMIN, Party.PATIENT):
            raise PermissionDenied("Only the appointment's patient or an admin may reschedule it.")
        if self.status not in ACTIVE:
            raise TransitionNotAllowed(self.status, Status.PENDING, "only active ones move")

    def change_reason(self, actor: Actor, reason: str, now: datetime) -> None:
        if self.party_of(actor) not in (Party.ADMIN, Party.PATIENT):
            raise PermissionDenied("Only the appointment's patient or an admin may edit the reason.")
        self.reason = require_text(reason, "reason", REASON_MAX, allow_empty=True)
        self._changed(now)

    def _changed(self, now: datetime) -> None:
        """Every change of a booked appointment goes through here."""
        self.updated_at = now
        self.sequence += 1


class Party(StrEnum):
    """The part an actor plays in an appointment."""

    ADMIN = "admin"
    DOCTOR = "doctor"  # the appointment's own doctor
    PATIENT = "patient"  # the appointment's own patient


@dataclass(frozen=True)
class Step:
    """One lifecycle step: from which statuses, by whom, and whether only once it started."""

    allowed_from: frozenset[Status]
    parties: frozenset[Party]
    refusal: str
    only_once_started: bool = False


_STAFF = frozenset({Party.ADMIN, Party.DOCTOR})

#: The lifecycle of SPEC section 3; back to pending happens only by rescheduling. Who may act is
#: checked before what the status allows. A patient cancels only before the start.
TRANSITIONS: dict[Status, Step] = {
    Status.CONFIRMED: Step(
        frozenset({Status.PENDING}), _STAFF, "Only the appointment's doctor or an admin may confirm it."
    ),
    Status.CANCELLED: Step(ACTIVE, _STAFF | {Party.PATIENT}, "You may not cancel this appointment."),
    Status.COMPLETED: Step(
        frozenset({Status.CONFIRMED}),
        _STAFF,
        "Only the appointment's doctor or an admin may mark it completed.",
        only_once_started=True,
    ),
    Status.NO_SHOW: Step(
        frozenset({Status.CONFIRMED}),
        _STAFF,
        "Only the appointment's doctor or an admin may mark it a no-show.",
        only_once_started=True,
    ),
}


# -- booking ---------------------------------------------------------------------------------


def slot_for(start: datetime, appointment_minutes: int) -> Interval:
    start = require_aware(start, "datetime")
    return Interval(start, start + timedelta(minutes=appointment_minutes))


def require_stated_end(slot: Interval, end: datetime | None) -> None:
    """An end a client states must be the one the doctor's appointment length gives."""
    if end is not None and require_aware(end, "end") != slot.end:
        minutes = int(slot.duration.total_seconds() // 60)
        raise InvalidInput(
            f"The end must be the start plus the doctor's appointment length ({minutes} minutes).",
            {"end": [f"Must be {minutes} minutes after the start."]},
        )


def who_is_booked_for(actor: Actor, requested_patient_id: int | None) -> int:
    """Rule 4: a patient books only for themself; an admin names the patient."""
    if actor.is_patient:
        if actor.patient_id is None:
            raise PermissionDenied("Your account has no patient profile.")
        if requested_patient_id is not None and requested_patient_id != actor.patient_id:
            raise PermissionDenied("A patient books only for themself.")
        return actor.patient_id
    if actor.is_admin:
        if requested_patient_id is None:
            raise InvalidInput("Name the patient to book for.", {"patient": ["Required."]})
        return requested_patient_id
    raise PermissionDenied("Only patients and admins book appointments.")


def require_initial_status(requested: str | None) -> None:
    """Rule 5: a client may say ``pending`` and nothing else."""
    if requested is not None and requested != Status.PENDING:
        raise InvalidInput(
            "A new appointment is always pending.", {"status": ["Only 'pending' is accepted."]}
        )


def check_bookable(
    slot: Interval,
    now: datetime,
    windows: Iterable[Interval],
    *,
    blocked: Iterable[Interval] = (),
) -> None:
    """Rules 1 and 2: the slot is in the future and fits inside one of ``windows`` (one-off
    windows and weekly-hour occurrences), touching none of the ``blocked`` periods.

    Rule 3 (no overlap with the doctor's appointments and their buffers, nor with the
    patient's) is the storage's guarantee, checked atomically when the booking is written, so
    no race can slip past it.
    """
    if slot.start <= now:
        raise InPast("The appointment must be in the future.", {"datetime": ["In the past."]})
    if not any(window.contains(slot) for window in windows):
        raise OutsideAvailability()
    if any(slot.overlaps(period) for period in blocked):
        raise InBlockedPeriod()
