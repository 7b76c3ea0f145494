"""Booking and the appointment lifecycle."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from healthcare.application.commands import BookAppointment, UpdateAppointment, given
from healthcare.application.ports import AppointmentFilter, Page, PageRequest
from healthcare.application.services.base import Service, not_found
from healthcare.application.unit_of_work import UnitOfWork
from healthcare.domain.actor import Actor
from healthcare.domain.appointments import (
    Appointment,
    Status,
    check_bookable,
    require_initial_status,
    slot_for,
    who_is_booked_for,
)
from healthcare.domain.errors import InvalidInput, PermissionDenied
from healthcare.domain.model import Doctor
from healthcare.domain.time import Interval


class AppointmentService(Service):
    def book(self, actor: Actor, command: BookAppointment) -> Appointment:
        require_initial_status(command.status)
        patient_id = who_is_booked_for(actor, command.patient_id)
        now = self.clock.now()
        with self.uow_factory() as uow:
            doctor = self._doctor(uow, command.doctor_id)
            if uow.patients.get(patient_id) is None:
                raise not_found("Patient")
            slot = slot_for(command.start, doctor.appointment_minutes)
            self._check_slot(uow, doctor, patient_id, slot, now, exclude_id=None)
            appointment = uow.appointments.add(
                Appointment(
                    patient_id=patient_id,
                    doctor_id=doctor.id,  # type: ignore[arg-type]
                    start=slot.start,
                    end=slot.end,
                    reason=command.reason,
                    created_at=now,
                    updated_at=now,
                )
            )
            uow.commit()
        return appointment

    def get(self, actor: Actor, appointment_id: int) -> Appointment:
        with self.uow_factory() as uow:
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
        with self.uow_factory() as uow:
            return uow.appointments.list(page, where)

    def confirm(self, actor: Actor, appointment_id: int) -> Appointment:
        return self._transition(actor, appointment_id, lambda a, now: a.confirm(actor, now))

    def cancel(self, actor: Actor, appointment_id: int, reason: str | None = None) -> Appointment:
        return self._transition(actor, appointment_id, lambda a, now: a.cancel(actor, now, reason))

    def complete(self, actor: Actor, appointment_id: int) -> Appointment:
        return self._transition(actor, appointment_id, lambda a, now: a.complete(actor, now))

    def mark_no_show(self, actor: Actor, appointment_id: int) -> Appointment:
        return self._transition(actor, appointment_id, lambda a, now: a.mark_no_show(actor, now))

    def reschedule(self, actor: Actor, appointment_id: int, start: datetime) -> Appointment:
        return self.update(actor, appointment_id, UpdateAppointment(start=start))

    def update(self, actor: Actor, appointment_id: int, command: UpdateAppointment) -> Appointment:
        """A partial update: reason, a new start (reschedule) and/or a lifecycle ``status``."""
        changes = given(command)
        now = self.clock.now()
        with self.uow_factory() as uow:
            appointment = self._visible(uow, actor, appointment_id)
            if "start" in changes:
                appointment.require_can_reschedule(actor)
                doctor = self._doctor(uow, appointment.doctor_id)
                slot = slot_for(changes["start"], doctor.appointment_minutes)
                self._check_slot(
                    uow, doctor, appointment.patient_id, slot, now, exclude_id=appointment.id
                )
                appointment.reschedule(actor, slot, now)
            if "reason" in changes:
                appointment.change_reason(actor, changes["reason"] or "", now)
            if "status" in changes and changes["status"] != appointment.status:
                self._apply_status(
                    appointment, actor, now, changes["status"], changes.get("cancellation_reason")
                )
            elif "cancellation_reason" in changes and appointment.status is not Status.CANCELLED:
                raise InvalidInput(
                    "cancellation_reason goes with cancelling.",
                    {"cancellation_reason": ["Only when cancelling."]},
                )
            uow.appointments.update(appointment)
            uow.commit()
        return appointment

    # -- helpers ---------------------------------------------------------------------------

    def _transition(
        self, actor: Actor, appointment_id: int, action: Callable[[Appointment, datetime], None]
    ) -> Appointment:
        now = self.clock.now()
        with self.uow_factory() as uow:
            appointment = self._visible(uow, actor, appointment_id)
            action(appointment, now)
            uow.appointments.update(appointment)
            uow.commit()
        return appointment

    @staticmethod
    def _apply_status(
        appointment: Appointment, actor: Actor, now: datetime, status: str, reason: str | None
    ) -> None:
        try:
            target = Status(status)
        except ValueError:
            raise InvalidInput("Unknown status.", {"status": ["Not a valid status."]}) from None
        actions = {
            Status.CONFIRMED: lambda: appointment.confirm(actor, now),
            Status.CANCELLED: lambda: appointment.cancel(actor, now, reason),
            Status.COMPLETED: lambda: appointment.complete(actor, now),
            Status.NO_SHOW: lambda: appointment.mark_no_show(actor, now),
        }
        if target not in actions:
            raise PermissionDenied("Status goes back to pending only by rescheduling.")
        actions[target]()

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

    @staticmethod
    def _check_slot(
        uow: UnitOfWork,
        doctor: Doctor,
        patient_id: int,
        slot: Interval,
        now: datetime,
        exclude_id: int | None,
    ) -> None:
        """Rules 1-3 on what the repositories hold now; the storage re-checks rule 3 atomically."""
        assert doctor.id is not None
        check_bookable(
            slot,
            now,
            windows=[w.interval for w in uow.availabilities.overlapping(doctor.id, slot)],
            doctor_busy=[
                a.interval
                for a in uow.appointments.active_overlapping(
                    slot, doctor_id=doctor.id, exclude_id=exclude_id
                )
            ],
            patient_busy=[
                a.interval
                for a in uow.appointments.active_overlapping(
                    slot, patient_id=patient_id, exclude_id=exclude_id
                )
            ],
        )

