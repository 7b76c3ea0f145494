"""Integration events: what the clinic tells other systems, and what each event may carry.

An event names one committed change (SPEC section 9.1). Its ``data`` carries identifiers, times
and statuses only, never a reason, a diagnosis or notes: a receiver is another system, and
health information does not leave through webhooks.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from healthcare.domain.appointments import Appointment, Status
from healthcare.domain.errors import InvalidInput
from healthcare.domain.records import MedicalRecord
from healthcare.domain.time import wire_text


class EventType(StrEnum):
    APPOINTMENT_BOOKED = "appointment.booked"
    APPOINTMENT_CONFIRMED = "appointment.confirmed"
    APPOINTMENT_CANCELLED = "appointment.cancelled"
    APPOINTMENT_RESCHEDULED = "appointment.rescheduled"
    APPOINTMENT_COMPLETED = "appointment.completed"
    APPOINTMENT_NO_SHOW = "appointment.no_show"
    MEDICAL_RECORD_CREATED = "medical_record.created"
    MEDICAL_RECORD_UPDATED = "medical_record.updated"
    WAITLIST_OFFERED = "waitlist.offered"


#: Subscribes an endpoint to every event type, present and future.
EVERY_EVENT = "*"

#: The event a lifecycle step (``Appointment.move_to``) announces.
EVENT_OF_STEP: dict[Status, EventType] = {
    Status.CONFIRMED: EventType.APPOINTMENT_CONFIRMED,
    Status.CANCELLED: EventType.APPOINTMENT_CANCELLED,
    Status.COMPLETED: EventType.APPOINTMENT_COMPLETED,
    Status.NO_SHOW: EventType.APPOINTMENT_NO_SHOW,
}


def event_types_named(names: list[str]) -> tuple[str, ...]:
    """A subscription: known event types, or ``["*"]`` alone; duplicates dropped, order kept."""
    if not names:
        raise InvalidInput("Subscribe to at least one event.", {"events": ["At least one."]})
    known = {str(t) for t in EventType}
    unknown = [name for name in names if name != EVERY_EVENT and name not in known]
    if unknown:
        raise InvalidInput(
            "Unknown event type.", {"events": [f"Unknown: {', '.join(sorted(set(unknown)))}."]}
        )
    if EVERY_EVENT in names and len(set(names)) > 1:
        raise InvalidInput(
            '"*" already means every event.', {"events": ['Send ["*"] alone, or name the events.']}
        )
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class Event:
    """One change, as every subscribed endpoint receives it. ``id`` is the ``webhook-id``: the
    same on every retry and for every endpoint, so a receiver can drop a repeat."""

    type: EventType
    occurred_at: datetime
    data: dict[str, Any]
    id: str = field(default_factory=lambda: f"evt_{uuid.uuid4().hex}")

    def body(self) -> str:
        """The JSON body that is signed and sent, byte for byte the same on every attempt."""
        return json.dumps(
            {"type": str(self.type), "timestamp": wire_text(self.occurred_at), "data": self.data},
            separators=(",", ":"),
        )


def appointment_event(kind: EventType, appointment: Appointment, now: datetime) -> Event:
    """``appointment.*``: the appointment's ids, times and status, nothing it says."""
    return Event(
        type=kind,
        occurred_at=now,
        data={
            "id": appointment.id,
            "patient": appointment.patient_id,
            "doctor": appointment.doctor_id,
            "datetime": wire_text(appointment.start),
            "end": wire_text(appointment.end),
            "status": str(appointment.status),
        },
    )


def step_event(appointment: Appointment, now: datetime) -> Event:
    """The event of the lifecycle step that brought ``appointment`` to its current status."""
    return appointment_event(EVENT_OF_STEP[appointment.status], appointment, now)


def record_event(kind: EventType, record: MedicalRecord, now: datetime) -> Event:
    """``medical_record.*``: who and which visit; never the diagnosis, treatment or notes."""
    return Event(
        type=kind,
        occurred_at=now,
        data={
            "id": record.id,
            "patient": record.patient_id,
            "appointment": record.appointment_id,
            "doctor": record.doctor_id,
        },
    )


def waitlist_offered(
    *,
    entry_id: int,
    patient_id: int,
    doctor_id: int,
    hold_id: int,
    start: datetime,
    end: datetime,
    expires_at: datetime,
    now: datetime,
) -> Event:
    """``waitlist.offered``: the waitlist (SPEC section 8) publishes it in the transaction that
    makes the offer: ``uow.webhooks.publish(waitlist_offered(...))``."""
    return Event(
        type=EventType.WAITLIST_OFFERED,
        occurred_at=now,
        data={
            "id": entry_id,
            "patient": patient_id,
            "doctor": doctor_id,
            "hold": hold_id,
            "start": wire_text(start),
            "end": wire_text(end),
            "expires_at": wire_text(expires_at),
            "status": "offered",
        },
    )

