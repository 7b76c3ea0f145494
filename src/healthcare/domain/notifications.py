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


def waitlist_offer_for(
    entry_id: int,
    start: datetime,
    expires_at: datetime,
    doctor: Doctor,
    recipient: str,
    now: datetime,
) -> OutboxMessage:
    """The waitlist's offer (SPEC section 8): whom, when (doctor's local time), and until
    when to book it. One per entry: an entry is offered a slot once."""
    tz = zone(doctor.timezone)
    when = start.astimezone(tz).strftime("%A %d %B %Y at %H:%M") + f" ({doctor.timezone})"
    until = expires_at.astimezone(tz).strftime("%H:%M on %d %B")
    return OutboxMessage(
        key=f"waitlist-offer:{entry_id}",
        recipient=recipient,
        subject="An earlier appointment is free",
        body=(
            f"A slot with {doctor.name} on {when} is kept for you until {until}. "
            "Book it from your waitlist, or let it go."
        ),
        created_at=now,
    )
