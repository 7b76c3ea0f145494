"""Booking and the appointment lifecycle."""

from __future__ import annotations

from healthcare.application.commands import BookAppointment, UpdateAppointment, given
from healthcare.application.ports import AppointmentFilter, Clock, Page, PageRequest
from healthcare.application.read_model import ReadModel, View
from healthcare.application.services.base import Service, found
from healthcare.application.services.slot_checks import (
    checked_slot,
    clear_the_way,
    doctor_and_slot,
    visible_appointment,
)
from healthcare.application.services.waitlist import WaitlistOffers
from healthcare.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from healthcare.domain.access import Scope
from healthcare.domain.actor import Actor
from healthcare.domain.appointments import (
    Appointment,
    Status,
    require_initial_status,
    require_stated_end,
    slot_for,
    status_named,
    who_is_booked_for,
)
from healthcare.domain.errors import InvalidInput
from healthcare.domain.events import EventType, appointment_event, step_event
from healthcare.domain.idempotency import claim, owner_of
from healthcare.domain.policy import CLINIC_DEFAULTS, BookingPolicy
from healthcare.domain.time import Interval


class AppointmentService(Service):
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        reads: ReadModel | None = None,
        policy: BookingPolicy = CLINIC_DEFAULTS,
        offers: WaitlistOffers | None = None,
    ) -> None:
        super().__init__(uow_factory, clock, reads)
        #: The clinic's defaults; each doctor's own choices are applied on top.
        self.policy = policy
        self.offers = offers or WaitlistOffers(policy)

    def book(
        self, actor: Actor, command: BookAppointment, idempotency_key: str | None = None
    ) -> Appointment:
        """Book; with an idempotency key, a retry of the same request returns the appointment
        the first one booked, and books nothing new."""
        require_initial_status(command.status)
        patient_id = who_is_booked_for(actor, command.patient_id)
        request = claim(
            owner_of(actor.user_id),
            idempotency_key,
            "appointment",
            doctor=command.doctor_id,
            start=command.start,
            patient=patient_id,
            reason=command.reason,
        )
        return self.creating_once(
            request,
            lambda uow: self._book(uow, actor, command, patient_id),
            lambda uow, appointment_id: self._visible(uow, actor, appointment_id),
        )

    def _book(
        self, uow: UnitOfWork, actor: Actor, command: BookAppointment, patient_id: int
    ) -> Appointment:
        now = self.clock.now()
        doctor, slot = doctor_and_slot(uow, actor, command.doctor_id, patient_id, command.start)
        require_stated_end(slot, command.end)
        policy = checked_slot(uow, self.policy, actor, doctor, slot, now, exclude_id=None)
        clear_the_way(uow, doctor.id, patient_id, slot, slot.end + policy.buffer, now)
        # The storage refuses a slot the doctor (with the buffer) or the patient is busy in.
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
        uow.webhooks.publish(appointment_event(EventType.APPOINTMENT_BOOKED, appointment, now))
        return appointment

    def get(self, actor: Actor, appointment_id: int) -> View:
        return found(self.reads.appointment(Scope.of(actor), appointment_id), "Appointment")

    def list(
        self, actor: Actor, page: PageRequest, where: AppointmentFilter = AppointmentFilter()
    ) -> Page[View]:
        """Everyone sees only their own: the actor's scope narrows whatever filter is asked."""
        return self.reads.appointments(Scope.of(actor), page, where)

    def move(
        self, actor: Actor, appointment_id: int, target: Status, reason: str | None = None
    ) -> Appointment:
        """One lifecycle step (``domain.appointments.TRANSITIONS``); ``reason`` goes with
        cancelling. A cancellation offers the freed slot to the waitlist, in its transaction."""
        return self.retrying(lambda: self._move(actor, appointment_id, target, reason))

    def _move(
        self, actor: Actor, appointment_id: int, target: Status, reason: str | None
    ) -> Appointment:
        now = self.clock.now()
        with self.uow_factory() as uow:
            appointment = self._visible(uow, actor, appointment_id)
            appointment.move_to(target, actor, now, reason=reason, policy=self.policy)
            uow.appointments.update(appointment)
            uow.webhooks.publish(step_event(appointment, now))
            if target is Status.CANCELLED:
                self._freed(uow, appointment, appointment.interval, now)
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
            freed: Interval | None = None
            if "start" in changes:
                appointment.require_can_reschedule(actor)
                doctor = found(uow.doctors.get(appointment.doctor_id), "Doctor")
                slot = slot_for(changes["start"], doctor.appointment_minutes)
                policy = checked_slot(
                    uow, self.policy, actor, doctor, slot, now, exclude_id=appointment.id
                )
                buffered_end = slot.end + policy.buffer
                clear_the_way(uow, doctor.id, appointment.patient_id, slot, buffered_end, now)
                # The old slot stays on record as a cancelled copy, in this same transaction:
                # the move and its history happen together or not at all.
                history = uow.appointments.add(appointment.history_copy(now))
                freed = appointment.interval
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
            if moved and appointment.status is Status.CANCELLED:
                freed = history.interval if "start" in changes else appointment.interval
            if freed is not None:
                self._freed(uow, appointment, freed, now)
            uow.commit()
        return appointment

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _visible(uow: UnitOfWork, actor: Actor, appointment_id: int) -> Appointment:
        return visible_appointment(uow, actor, appointment_id)

    def _freed(self, uow: UnitOfWork, appointment: Appointment, span: Interval, now) -> None:
        """``span`` of the appointment's doctor is free now: the waitlist hears of it."""
        doctor = found(uow.doctors.get(appointment.doctor_id), "Doctor")
        self.offers.offer_freed(uow, doctor, span, now)
