"""Holds (SPEC section 8): a slot kept for a patient while they finish booking.

A hold is stored as the appointment it may become, with ``hold_expires_at`` set: the storage's
no-overlap guarantees (PostgreSQL's exclusion constraints, SQLite's triggers) then keep its
slot exactly as they keep a booking's, so a hold and a booking racing for one slot leave one
winner. Those guarantees cannot see the clock, so whoever writes a slot first removes the
expired holds in its way, in its own transaction (``clear_expired_holds``): an expired hold
blocks nothing, and no clean-up job is needed. Booking a hold clears ``hold_expires_at``: the
same row becomes the pending appointment, atomically.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from healthcare.domain.actor import Actor
from healthcare.domain.appointments import REASON_MAX, Appointment, Party
from healthcare.domain.errors import HoldExpired, TooManyHolds
from healthcare.domain.text import require_text
from healthcare.domain.time import Interval


def place_hold(
    patient_id: int,
    doctor_id: int,
    slot: Interval,
    buffer: timedelta,
    now: datetime,
    lasts: timedelta,
) -> Appointment:
    """A hold of ``slot`` for the patient, lasting ``lasts`` from ``now``; the doctor is kept
    busy with the buffer, as by the booking it may become."""
    return Appointment(
        patient_id=patient_id,
        doctor_id=doctor_id,
        start=slot.start,
        end=slot.end,
        blocked_until=slot.end + buffer,
        created_at=now,
        updated_at=now,
        hold_expires_at=now + lasts,
    )


def require_room_for_a_hold(live_holds: int, maximum: int) -> None:
    """A patient keeps at most ``maximum`` live holds at once."""
    if live_holds >= maximum:
        raise TooManyHolds(maximum)


def hold_visible_to(hold: Appointment, actor: Actor) -> bool:
    """A hold is its patient's and the front desk's; a doctor sees only bookings."""
    return hold.is_hold and hold.party_of(actor) in (Party.ADMIN, Party.PATIENT)


def is_live(hold: Appointment, now: datetime) -> bool:
    return hold.hold_expires_at is not None and now < hold.hold_expires_at


def book_hold(hold: Appointment, now: datetime, reason: str = "") -> None:
    """The hold becomes the pending appointment at its slot; after it expired, 409."""
    if not is_live(hold, now):
        raise HoldExpired()
    hold.reason = require_text(reason or "", "reason", REASON_MAX, allow_empty=True)
    hold.hold_expires_at = None
    hold.created_at = hold.updated_at = now
