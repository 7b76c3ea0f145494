"""Availability windows: a doctor manages their own, an admin anyone's; all may read."""

from __future__ import annotations

from healthcare.application.commands import (
    CreateAvailability,
    UpdateAvailability,
    given,
)
from healthcare.application.ports import AvailabilityFilter, Page, PageRequest
from healthcare.application.read_model import View
from healthcare.application.services.base import found, managed_doctor
from healthcare.application.services.waitlist import OfferingService
from healthcare.application.unit_of_work import UnitOfWork
from healthcare.domain.actor import Actor
from healthcare.domain.availability import (
    Availability,
    ensure_no_overlap,
    validate_window,
)
from healthcare.domain.calendar import Calendar
from healthcare.domain.time import Interval, zone
from healthcare.domain.users import Role


class AvailabilityService(OfferingService):
    def create(self, actor: Actor, command: CreateAvailability) -> Availability:
        """Open a window; its slots are offered to the waitlist in the same transaction."""
        actor.require_role(Role.DOCTOR, Role.ADMIN)
        now = self.clock.now()
        window = Interval(command.start, command.end)
        with self.uow_factory() as uow:
            doctor = managed_doctor(uow, actor, command.doctor_id)
            validate_window(window, doctor.appointment_minutes, now)
            ensure_no_overlap(window, uow.availabilities.overlapping(doctor.id, window))  # type: ignore[arg-type]
            created = uow.availabilities.add(
                Availability(doctor_id=doctor.id, start=window.start, end=window.end)  # type: ignore[arg-type]
            )
            self.offers.offer_freed(uow, doctor, window, now)
            uow.commit()
        return created

    def get(self, actor: Actor, window_id: int) -> View:
        return found(self.reads.window(window_id), "Availability")

    def list(
        self, actor: Actor, page: PageRequest, where: AvailabilityFilter = AvailabilityFilter()
    ) -> Page[View]:
        return self.reads.windows(page, where)

    def update(self, actor: Actor, window_id: int, command: UpdateAvailability) -> Availability:
        actor.require_role(Role.DOCTOR, Role.ADMIN)
        changes = given(command)
        now = self.clock.now()
        with self.uow_factory() as uow:
            window = self._owned_window(uow, actor, window_id)
            doctor = uow.doctors.get(window.doctor_id)
            assert doctor is not None
            new = Interval(changes.get("start", window.start), changes.get("end", window.end))
            validate_window(new, doctor.appointment_minutes, now if "start" in changes else None)
            ensure_no_overlap(new, uow.availabilities.overlapping(doctor.id, new, exclude_id=window_id))  # type: ignore[arg-type]
            self._ensure_appointments_kept(uow, window, replacement=new)
            window.start, window.end = new.start, new.end
            uow.availabilities.update(window)
            uow.commit()
        return window

    def delete(self, actor: Actor, window_id: int) -> None:
        actor.require_role(Role.DOCTOR, Role.ADMIN)
        with self.uow_factory() as uow:
            window = self._owned_window(uow, actor, window_id)
            self._ensure_appointments_kept(uow, window, replacement=None)
            uow.availabilities.delete(window_id)
            uow.commit()

    # -- rules that need the repositories ----------------------------------------------------

    @staticmethod
    def _owned_window(uow: UnitOfWork, actor: Actor, window_id: int) -> Availability:
        window = found(uow.availabilities.get(window_id), "Availability")
        actor.require_calendar_of(window.doctor_id)
        return window

    @staticmethod
    def _ensure_appointments_kept(
        uow: UnitOfWork, window: Availability, replacement: Interval | None
    ) -> None:
        """The appointments the window holds must still fit in one window or one occurrence
        of the weekly hours afterwards."""
        old = window.interval
        booked = uow.appointments.active_overlapping(old, doctor_id=window.doctor_id)
        if not booked:
            return
        doctor = found(uow.doctors.get(window.doctor_id), "Doctor")
        others = uow.availabilities.overlapping(window.doctor_id, old, exclude_id=window.id)
        calendar = Calendar(
            tz=zone(doctor.timezone),
            windows=[w.interval for w in others] + ([replacement] if replacement else []),
            rules=uow.rules.for_doctor(window.doctor_id),
        )
        calendar.ensure_keeps(a.interval for a in booked)
