"""Messages to patients, written to an outbox first so none is lost or sent twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from healthcare.domain.appointments import Appointment
from healthcare.domain.doctors import Doctor
from healthcare.domain.entity import Entity
from healthcare.domain.time import zone


@dataclass(eq=False)
class OutboxMessage(Entity):
    #: Unique: writing the same message twice is a no-op, which makes the jobs idempotent.
    key: str
    recipient: str
    subject: str
    body: str
    created_at: datetime
    sent_at: datetime | None = None
    id: int | None = None


def reminder_for(appointment: Appointment, doctor: Doctor, recipient: str, window: str, now: datetime) -> OutboxMessage:
    """A reminder carries only what the patient needs: whom to see and when (doctor's local
    time). No reason, no diagnosis: email is not a safe place for health information.

    The key includes the start, so a rescheduled appointment gets a reminder for its new time.
    """
    local = appointment.start.astimezone(zone(doctor.timezone))
    when = local.strftime("%A %d %B %Y at %H:%M") + f" ({doctor.timezone})"
    return OutboxMessage(
        key=f"reminder:{window}:{appointment.id}:{appointment.start.isoformat()}",
        recipient=recipient,
        subject="Appointment reminder",
        body=f"This is a reminder of your appointment with {doctor.name} on {when}.",
        created_at=now,
    )
