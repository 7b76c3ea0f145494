"""Bookable slots of a doctor: what a patient can actually book."""

from __future__ import annotations

from datetime import datetime

from healthcare.application.services.base import Service, not_found
from healthcare.domain.actor import Actor
from healthcare.domain.model import Doctor
from healthcare.domain.schedule import free_slots, search_range
from healthcare.domain.time import Interval


class SlotService(Service):
    def for_doctor(
        self, actor: Actor, doctor_id: int, start: datetime, end: datetime
    ) -> tuple[Doctor, list[Interval]]:
        within = search_range(start, end)
        with self.uow_factory() as uow:
            doctor = uow.doctors.get(doctor_id)
            if doctor is None:
                raise not_found("Doctor")
            windows = [w.interval for w in uow.availabilities.overlapping(doctor_id, within)]
            busy = [a.interval for a in uow.appointments.active_overlapping(within, doctor_id=doctor_id)]
        slots = free_slots(within, windows, busy, doctor.appointment_minutes, self.clock.now())
        return doctor, list(slots)
