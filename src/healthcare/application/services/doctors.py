"""Doctor profiles: anyone signed in reads them; admins manage them."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from healthcare.application.commands import CreateDoctor, UpdateDoctor, given
from healthcare.application.ports import Page, PageRequest
from healthcare.application.read_model import View
from healthcare.application.services.base import Service, found
from healthcare.application.unit_of_work import UnitOfWork
from healthcare.domain.actor import Actor
from healthcare.domain.doctors import Doctor
from healthcare.domain.errors import (
    InUse,
    InvalidInput,
    ProfileAlreadyExists,
    WeeklyHoursNeedAChoice,
)
from healthcare.domain.time import Interval
from healthcare.domain.users import Role

#: The one way a time zone change treats weekly hours: the same local times in the new zone.
KEEP_LOCAL_TIMES = "keep_local_times"
#: How far ahead a zone change checks the appointments the weekly hours hold (the longest
#: booking horizon the policy allows).
ZONE_CHANGE_REACH = timedelta(days=730)

class DoctorService(Service):
    def create(self, actor: Actor, command: CreateDoctor) -> Doctor:
        actor.require_role(Role.ADMIN)
        doctor = Doctor(
            user_id=command.user_id,
            name=command.name,
            specialization=command.specialization,
            appointment_minutes=command.appointment_minutes,
            timezone=command.timezone,
        )
        with self.uow_factory() as uow:
            user = uow.users.get(command.user_id)
            if user is None or user.role is not Role.DOCTOR:
                raise InvalidInput(
                    "user must be an existing doctor-role user.",
                    {"user": ["Not a doctor-role user."]},
                )
            if uow.doctors.get_by_user(command.user_id) is not None:
                raise ProfileAlreadyExists("doctor")
            doctor = uow.doctors.add(doctor)
            uow.commit()
        return doctor

    def get(self, actor: Actor, doctor_id: int) -> View:
        return found(self.reads.doctor(doctor_id), "Doctor")

    def list(
        self,
        actor: Actor,
        page: PageRequest,
        specialization: str | None = None,
        name: str | None = None,
    ) -> Page[View]:
        """Doctors of one specialization and/or whose name contains ``name`` (both compared
        case-insensitively)."""
        return self.reads.doctors(page, specialization, name)

    def update(self, actor: Actor, doctor_id: int, command: UpdateDoctor) -> Doctor:
        """A new time zone moves the doctor's weekly hours (local wall-clock times): while
        there are any, the change says how to treat them (``keep_local_times``), and is
        refused if an active appointment they hold would then lie outside the calendar."""
        actor.require_role(Role.ADMIN)
        changes = given(command)
        choice = changes.pop("weekly_hours", None)
        if choice not in (None, KEEP_LOCAL_TIMES):
            raise InvalidInput(
                "weekly_hours takes keep_local_times.", {"weekly_hours": ["Not a choice."]}
            )
        now = self.clock.now()
        with self.uow_factory() as uow:
            before = found(uow.doctors.get(doctor_id), "Doctor")
            uow.doctors.lock(doctor_id)  # no weekly hours sneak in meanwhile
            doctor = replace(before, **changes)  # replace() re-runs validation
            if doctor.timezone != before.timezone and uow.rules.for_doctor(doctor_id):
                if choice != KEEP_LOCAL_TIMES:
                    raise WeeklyHoursNeedAChoice()
                self._ensure_zone_change_keeps(uow, doctor, now)
            uow.doctors.update(doctor)
            uow.commit()
        return doctor

    @staticmethod
    def _ensure_zone_change_keeps(uow: UnitOfWork, doctor: Doctor, now: datetime) -> None:
        """Every active appointment from now on still lies in the calendar in the new zone."""
        ahead = Interval(now, now + ZONE_CHANGE_REACH)
        booked = uow.appointments.active_overlapping(ahead, doctor_id=doctor.id)
        if booked:
            span = Interval(min(a.start for a in booked), max(a.end for a in booked))
            uow.calendars.load(doctor, span, now=now).ensure_keeps(a.interval for a in booked)

    def delete(self, actor: Actor, doctor_id: int) -> None:
        """Refused while appointments or records name the doctor: history is never erased."""
        actor.require_role(Role.ADMIN)
        with self.uow_factory() as uow:
            found(uow.doctors.get(doctor_id), "Doctor")
            if uow.doctors.is_referenced(doctor_id):
                raise InUse("The doctor has appointments or medical records; deactivate the user.")
            uow.doctors.delete(doctor_id)
            uow.commit()
