"""Booking and the appointment lifecycle."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from healthcare.application.commands import BookAppointment, UpdateAppointment, given
from healthcare.application.ports import AppointmentFilter, Clock, Page, PageRequest
from healthcare.application.services.base import Service, not_found
from healthcare.application.services.calendar import load_calendar
from healthcare.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from healthcare.domain.actor import Actor
from healthcare.domain.appointments import (
    Appointment,
    Status,
    check_bookable,
    require_initial_status,
    slot_for,
    status_named,
    who_is_booked_for,
)
from healthcare.domain.calendar import local_day
from healthcare.domain.doctors import Doctor
from healthcare.domain.errors import Conflict, InvalidInput
from healthcare.domain.events import EventType, appointment_event, step_event
from healthcare.domain.idempotency import IdempotencyRecord, fingerprint, require_key
from healthcare.domain.policy import CLINIC_DEFAULTS, BookingPolicy
from healthcare.domain.time import Interval


class AppointmentService(Service):
    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, policy: BookingPolicy = CLINIC_DEFAULTS
    ) -> None:
        super().__init__(uow_factory, clock)
        #: The clinic's defaults; each doctor's own choices are applied on top.
        self.policy = policy

    def book(
        self, actor: Actor, command: BookAppointment, idempotency_key: str | None = None
    ) -> Appointment:
        """Book; with an idempotency key, a retry of the same request returns the appointment
        the first one booked, and books nothing new."""
        require_initial_status(command.status)
        patient_id = who_is_booked_for(actor, command.patient_id)
        # Keys are per user; the clinic's own batch jobs (no user) do not retry through HTTP.
        key = require_key(idempotency_key) if idempotency_key is not None else None
        key = key if actor.user_id is not None else None
        request = fingerprint(
            doctor=command.doctor_id, start=command.start, patient=patient_id, reason=command.reason
        )
        try:
            return self.retrying(lambda: self._book(actor, command, patient_id, key, request))
        except Conflict:
            # A racing retry with the same key lost to the first request (its slot or its
            # key is taken): answer with what the first one booked.
            replayed = self._replay(actor, key, request) if key is not None else None
            if replayed is None:
                raise
            return replayed

    def _book(
        self,
        actor: Actor,
        command: BookAppointment,
        patient_id: int,
        key: str | None,
        request: str,
    ) -> Appointment:
        now = self.clock.now()
        with self.uow_factory() as uow:
            if key is not None:
                earlier = uow.idempotency_keys.get(actor.user_id, key)  # type: ignore[arg-type]
                if earlier is not None:
                    return self._visible(uow, actor, earlier.replay(request))
            doctor = self._doctor(uow, command.doctor_id)
            if uow.patients.get(patient_id) is None:
                raise not_found("Patient")
            slot = slot_for(command.start, doctor.appointment_minutes)
            policy = self._check_slot(uow, actor, doctor, patient_id, slot, now, exclude_id=None)
            appointment = uow.appointments.add(
                Appointment(
                    patient_id=patient_id,
                    doctor_id=doctor.id,  # type: ignore[arg-type]
                    start=slot.start,
                    end=slot.end,
                    blocked_until=slot.end + policy.buffer,
                    reason=command.reason,
                    created_at=now,
                    updated_at=now,
                )
            )
            if key is not None:
                uow.idempotency_keys.add(
                    IdempotencyRecord(
                        user_id=actor.user_id,  # type: ignore[arg-type]
                        key=key,
                        fingerprint=request,
                        appointment_id=appointment.id,  # type: ignore[arg-type]
                        created_at=now,
                    )
                )
            uow.webhooks.publish(appointment_event(EventType.APPOINTMENT_BOOKED, appointment, now))
            uow.commit()
        return appointment

    def _replay(self, actor: Actor, key: str, request: str) -> Appointment | None:
        """What the key booked, in a fresh transaction (it sees the winner's commit)."""
        with self.uow_factory() as uow:
            earlier = uow.idempotency_keys.get(actor.user_id, key)  # type: ignore[arg-type]
            if earlier is None:
                return None
            return self._visible(uow, actor, earlier.replay(request))

    def get(self, actor: Actor, appointment_id: int) -> Appointment:
        with self.uow_factory().read_only() as uow:
            return self._visible(uow, actor, appointment_id)

    def list(
        self, actor: Actor, page: PageRequest, where: AppointmentFilter = AppointmentFilter()
    ) -> Page[Appointment]:
        """Everyone sees only their own: the actor's scope narrows whatever filter is asked."""
        if actor.is_doctor:
            if where.doctor_id not in (None, actor.doctor_id) or actor.doctor_id is None:
                return Page.empty(page)
            where = replace(where, doctor_id=actor.doctor_id)
        elif actor.is_patient:
            if where.patient_id not in (None, actor.patient_id) or actor.patient_id is None:
                return Page.empty(page)
            where = replace(where, patient_id=actor.patient_id)
        with self.uow_factory().read_only() as uow:
            return uow.appointments.list(page, where)

    def move(
        self, actor: Actor, appointment_id: int, target: Status, reason: str | None = None
    ) -> Appointment:
        """One lifecycle step (``domain.appointments.TRANSITIONS``); ``reason`` goes with
        cancelling."""
        now = self.clock.now()
        with self.uow_factory() as uow:
            appointment = self._visible(uow, actor, appointment_id)
            appointment.move_to(target, actor, now, reason=reason, policy=self.policy)
            uow.appointments.update(appointment)
            uow.webhooks.publish(step_event(appointment, now))
            uow.commit()
        return appointment

    def confirm(self, actor: Actor, appointment_id: int) -> Appointment:
        return self.move(actor, appointment_id, Status.CONFIRMED)

    def cancel(self, actor: Actor, appointment_id: int, reason: str | None = None) -> Appointment:
        return self.move(actor, appointment_id, Status.CANCELLED, reason)

    def update(self, actor: Actor, appointment_id: int, command: UpdateAppointment) -> Appointment:
        """A partial update: reason, a new start (reschedule) and/or a lifecycle ``status``."""
        return self.retrying(lambda: self._update(actor, appointment_id, command))

    def _update(self, actor: Actor, appointment_id: int, command: UpdateAppointment) -> Appointment:
        changes = given(command)
        now = self.clock.now()
        with self.uow_factory() as uow:
            appointment = self._visible(uow, actor, appointment_id)
            if "start" in changes:
                appointment.require_can_reschedule(actor)
                doctor = self._doctor(uow, appointment.doctor_id)
                slot = slot_for(changes["start"], doctor.appointment_minutes)
                policy = self._check_slot(
                    uow, actor, doctor, appointment.patient_id, slot, now, exclude_id=appointment.id
                )
                # The old slot stays on record as a cancelled copy, in this same transaction:
                # the move and its history happen together or not at all.
                history = uow.appointments.add(appointment.history_copy(now))
                appointment.reschedule(actor, slot, now, policy.buffer)
                appointment.rescheduled_from = history.id
            if "reason" in changes:
                appointment.change_reason(actor, changes["reason"] or "", now)
            moved = "status" in changes and changes["status"] != appointment.status
            if moved:
                appointment.move_to(
                    status_named(changes["status"]),
                    actor,
                    now,
                    reason=changes.get("cancellation_reason"),
                    policy=self.policy,
                )
            elif "cancellation_reason" in changes and appointment.status is not Status.CANCELLED:
                raise InvalidInput(
                    "cancellation_reason goes with cancelling.",
                    {"cancellation_reason": ["Only when cancelling."]},
                )
            uow.appointments.update(appointment)
            if "start" in changes:
                uow.webhooks.publish(
                    appointment_event(EventType.APPOINTMENT_RESCHEDULED, appointment, now)
                )
            if moved:
                uow.webhooks.publish(step_event(appointment, now))
            uow.commit()
        return appointment

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _doctor(uow: UnitOfWork, doctor_id: int) -> Doctor:
        doctor = uow.doctors.get(doctor_id)
        if doctor is None:
            raise not_found("Doctor")
        return doctor

    @staticmethod
    def _visible(uow: UnitOfWork, actor: Actor, appointment_id: int) -> Appointment:
        appointment = uow.appointments.get(appointment_id)
        if appointment is None or not appointment.visible_to(actor):
            raise not_found("Appointment")
        return appointment

    def _check_slot(
        self,
        uow: UnitOfWork,
        actor: Actor,
        doctor: Doctor,
        patient_id: int,
        slot: Interval,
        now: datetime,
        exclude_id: int | None,
    ) -> BookingPolicy:
        """Rules 1-3 and the doctor's booking policy on what the repositories hold now; the
        storage re-checks rule 3 (with the buffer) atomically. Returns the policy in force."""
        assert doctor.id is not None
        policy = doctor.policy.over(self.policy)
        calendar = load_calendar(uow, doctor, slot)
        reach = Interval(slot.start, slot.end + policy.buffer)
        check_bookable(
            slot,
            now,
            windows=calendar.open_intervals(slot),
            doctor_busy=uow.appointments.doctor_busy(doctor.id, reach, exclude_id),
            patient_busy=[
                a.interval
                for a in uow.appointments.active_overlapping(
                    slot, patient_id=patient_id, exclude_id=exclude_id
                )
            ],
            blocked=calendar.blocked,
            buffer=policy.buffer,
        )
        if not actor.is_admin:  # the front desk may override notice, horizon and the cap
            policy.check_timing(slot.start, now)
            if policy.max_per_day is not None:
                day = local_day(slot.start, calendar.tz)
                same_day = uow.appointments.active_overlapping(
                    day, doctor_id=doctor.id, exclude_id=exclude_id
                )
                policy.check_daily_cap(sum(day.start <= a.start < day.end for a in same_day))
        return policy
