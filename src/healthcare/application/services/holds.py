"""Holds (SPEC section 8): keep a slot for a patient while they finish booking, then book it.

A hold is checked like a booking (rules 1-4, the grid, the policy) and written like one, so the
storage's no-overlap guarantees decide every race between holds and bookings. See
``domain.holds`` for why a hold is a row of the appointments.
"""

from __future__ import annotations

from datetime import timedelta

from healthcare.application.commands import PlaceHold
from healthcare.application.ports import Clock, Page, PageRequest
from healthcare.application.read_model import ReadModel, View, hold_view
from healthcare.application.services.base import Service, found, not_found
from healthcare.application.services.slot_checks import (
    doctor_and_slot,
    checked_slot,
    clear_the_way,
    visible_appointment,
)
from healthcare.application.services.waitlist import WaitlistOffers
from healthcare.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from healthcare.domain.access import Scope
from healthcare.domain.actor import Actor
from healthcare.domain.appointments import Appointment, who_is_booked_for
from healthcare.domain.events import EventType, appointment_event
from healthcare.domain.holds import (
    book_hold,
    hold_visible_to,
    place_hold,
    require_room_for_a_hold,
)
from healthcare.domain.idempotency import claim, owner_of
from healthcare.domain.policy import CLINIC_DEFAULTS, BookingPolicy


class HoldService(Service):
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        reads: ReadModel | None = None,
        policy: BookingPolicy = CLINIC_DEFAULTS,
        hold_minutes: int = 10,
        max_per_patient: int = 2,
        offers: WaitlistOffers | None = None,
    ) -> None:
        super().__init__(uow_factory, clock, reads)
        self.policy = policy
        self.offers = offers or WaitlistOffers(policy)
        self.lasts = timedelta(minutes=hold_minutes)
        self.max_per_patient = max_per_patient

    def place(
        self, actor: Actor, command: PlaceHold, idempotency_key: str | None = None
    ) -> Appointment:
        """Hold a slot for ``HOLD_MINUTES``: taken for everyone else meanwhile. With an
        idempotency key, a retry answers the hold the first request placed."""
        patient_id = who_is_booked_for(actor, command.patient_id)
        request = claim(
            owner_of(actor.user_id),
            idempotency_key,
            "hold",
            doctor=command.doctor_id,
            start=command.start,
            patient=patient_id,
        )
        return self.creating_once(
            request,
            lambda uow: self._place(uow, actor, command, patient_id),
            lambda uow, hold_id: self._visible(uow, actor, hold_id),
        )

    def _place(
        self, uow: UnitOfWork, actor: Actor, command: PlaceHold, patient_id: int
    ) -> Appointment:
        now = self.clock.now()
        doctor, slot = doctor_and_slot(uow, actor, command.doctor_id, patient_id, command.start)
        policy = checked_slot(uow, self.policy, actor, doctor, slot, now, exclude_id=None)
        uow.patients.lock(patient_id)  # the count and the write, one hold at a time
        require_room_for_a_hold(
            uow.appointments.live_hold_count(patient_id, now), self.max_per_patient
        )
        hold = place_hold(patient_id, doctor.id, slot, policy.buffer, now, self.lasts)  # type: ignore[arg-type]
        clear_the_way(uow, doctor.id, patient_id, slot, hold.blocking.end, now)
        hold = uow.appointments.add(hold)  # the storage refuses a taken slot
        return hold

    def book(
        self,
        actor: Actor,
        hold_id: int,
        reason: str = "",
        idempotency_key: str | None = None,
    ) -> Appointment:
        """The held slot becomes the pending appointment; with an idempotency key, a retry
        answers the appointment the first request booked."""
        request = claim(
            owner_of(actor.user_id), idempotency_key, "appointment", hold=hold_id, reason=reason
        )
        return self.creating_once(
            request,
            lambda uow: self._book(uow, actor, hold_id, reason),
            lambda uow, appointment_id: visible_appointment(uow, actor, appointment_id),
        )

    def _book(self, uow: UnitOfWork, actor: Actor, hold_id: int, reason: str) -> Appointment:
        now = self.clock.now()
        hold = self._visible(uow, actor, hold_id)
        book_hold(hold, now, reason)
        uow.appointments.update(hold)
        offer = uow.waitlist.by_hold(hold.id)  # type: ignore[arg-type]
        if offer is not None:  # the waitlist's offer, taken
            offer.booked()
            uow.waitlist.update(offer)
        uow.webhooks.publish(appointment_event(EventType.APPOINTMENT_BOOKED, hold, now))
        return hold

    def release(self, actor: Actor, hold_id: int) -> None:
        """Give the slot back before the hold expires; a waitlist offer declined so passes to
        the next entry, and any other freed slot is offered to the waitlist."""
        now = self.clock.now()
        with self.uow_factory() as uow:
            hold = self._visible(uow, actor, hold_id)
            offer = uow.waitlist.by_hold(hold.id)  # type: ignore[arg-type]
            if not uow.appointments.delete_hold(hold.id):  # type: ignore[arg-type]
                raise not_found("Hold")  # booked by a concurrent request
            if offer is not None:
                self.offers.pass_on(uow, offer, now)
            else:
                doctor = found(uow.doctors.get(hold.doctor_id), "Doctor")
                self.offers.offer_freed(uow, doctor, hold.interval, now)
            uow.commit()

    def get(self, actor: Actor, hold_id: int) -> View:
        """A hold of the caller's (an admin: anyone's), live or expired, until it is booked."""
        with self.uow_factory().read_only() as uow:
            return hold_view(self._visible(uow, actor, hold_id))

    def list(self, actor: Actor, page: PageRequest) -> Page[View]:
        """The caller's live holds (an admin: everyone's)."""
        return self.reads.holds(Scope.of(actor), page, self.clock.now())

    @staticmethod
    def _visible(uow: UnitOfWork, actor: Actor, hold_id: int) -> Appointment:
        hold = uow.appointments.get(hold_id)
        if hold is not None and hold_visible_to(hold, actor):
            return hold
        raise not_found("Hold")
