"""What booking, holding and offering a slot share: the checks a slot passes, and clearing
the expired holds in its way before it is written."""

from __future__ import annotations

from datetime import datetime

from healthcare.application.services.base import found, not_found
from healthcare.application.unit_of_work import UnitOfWork
from healthcare.domain.actor import Actor
from healthcare.domain.appointments import Appointment, check_bookable, slot_for
from healthcare.domain.calendar import local_day
from healthcare.domain.doctors import Doctor
from healthcare.domain.policy import BookingPolicy
from healthcare.domain.slots import require_slot_start, require_whole_minutes
from healthcare.domain.time import Interval, zone


def visible_appointment(uow: UnitOfWork, actor: Actor, appointment_id: int) -> Appointment:
    """The appointment, if ``actor`` may see it; a hold is no appointment (yet)."""
    appointment = uow.appointments.get(appointment_id)
    if appointment is not None and not appointment.is_hold and appointment.visible_to(actor):
        return appointment
    raise not_found("Appointment")


def doctor_and_slot(
    uow: UnitOfWork, actor: Actor, doctor_id: int, patient_id: int, start: datetime
) -> tuple[Doctor, Interval]:
    """What booking and holding start from: the doctor, the patient checked to exist (one's
    own profile was found with the token), and the slot of the doctor's length at ``start``."""
    doctor = found(uow.doctors.get(doctor_id), "Doctor")
    if patient_id != actor.patient_id:
        found(uow.patients.get(patient_id), "Patient")
    return doctor, slot_for(start, doctor.appointment_minutes)


def clear_the_way(
    uow: UnitOfWork,
    doctor_id: int | None,
    patient_id: int,
    slot: Interval,
    blocked_until: datetime,
    now: datetime,
) -> None:
    """Before writing ``slot``: the holds expired by ``now`` in its way go, in this very
    transaction, so an expired hold blocks nothing (the guarantees cannot see the clock)."""
    span = Interval(slot.start, blocked_until)
    uow.appointments.clear_expired_holds(now, doctor_id, span, patient_id, slot)  # type: ignore[arg-type]


def checked_slot(
    uow: UnitOfWork,
    clinic_policy: BookingPolicy,
    actor: Actor,
    doctor: Doctor,
    slot: Interval,
    now: datetime,
    exclude_id: int | None,
) -> BookingPolicy:
    """Rules 1-2, the grid and the doctor's booking policy, on the calendar as stored now
    (live holds taking their slots); the storage refuses an overlap (rule 3, buffer included)
    when the booking or hold is written. Returns the policy in force."""
    policy = doctor.policy.over(clinic_policy)
    capped = not actor.is_admin and policy.max_per_day is not None
    if capped:  # the count and the write, one booking of the doctor at a time
        uow.doctors.lock(doctor.id)  # type: ignore[arg-type]
    # With a daily cap, the doctor's whole local day, to count what it holds already.
    day = local_day(slot.start, zone(doctor.timezone))
    around = Interval(min(slot.start, day.start), max(slot.end, day.end)) if capped else slot
    calendar = uow.calendars.load(doctor, around, exclude_id=exclude_id, now=now)
    require_whole_minutes(slot.start)
    windows = calendar.open_intervals(slot)
    check_bookable(slot, now, windows, blocked=calendar.blocked)
    if not actor.is_admin:  # the front desk may override notice, horizon, cap and grid
        require_slot_start(slot.start, windows, doctor.appointment_minutes)
        policy.check_timing(slot.start, now)
        if capped:
            policy.check_daily_cap(sum(day.start <= busy.start < day.end for busy in calendar.busy))
    return policy
