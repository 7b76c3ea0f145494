"""Bookable slots: what the caller can actually book, for one doctor or across doctors.

Each doctor's slots come from one look-up of their calendar over the whole range (windows,
weekly hours, blocked periods, busy time and the caller's own appointments) and one pass over
the sorted intervals, never a query per slot.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from healthcare.application.ports import Clock, Page, PageRequest
from healthcare.application.read_model import ReadModel
from healthcare.application.services.base import Service, found
from healthcare.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from healthcare.domain.actor import Actor
from healthcare.domain.doctors import Doctor
from healthcare.domain.policy import CLINIC_DEFAULTS, BookingPolicy
from healthcare.domain.slots import free_slots, search_range
from healthcare.domain.time import Interval

#: Local days reach at most 14 hours either side of UTC: a day's margin covers every zone.
DAY = timedelta(days=1)
#: Starts at ``earliest_start`` are bookable, but free_slots offers starts strictly after.
TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class Slot:
    doctor: Doctor
    interval: Interval


class SlotService(Service):
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        reads: ReadModel | None = None,
        policy: BookingPolicy = CLINIC_DEFAULTS,
    ) -> None:
        super().__init__(uow_factory, clock, reads)
        self.policy = policy

    def for_doctor(
        self, actor: Actor, doctor_id: int, start: datetime, end: datetime
    ) -> tuple[Doctor, list[Interval]]:
        within = search_range(start, end)
        with self.uow_factory().read_only() as uow:
            doctor = found(uow.doctors.get(doctor_id), "Doctor")
            return doctor, self._free(uow, actor, doctor, within)

    def across(
        self,
        actor: Actor,
        page: PageRequest,
        start: datetime,
        end: datetime,
        specialization: str | None = None,
    ) -> Page[Slot]:
        """Every doctor's slots (of one specialization, if given) in time order, then by doctor."""
        within = search_range(start, end)
        found_slots: list[Slot] = []
        with self.uow_factory().read_only() as uow:
            for doctor in uow.doctors.all(specialization):
                found_slots.extend(Slot(doctor, s) for s in self._free(uow, actor, doctor, within))
        found_slots.sort(key=lambda slot: (slot.interval.start, slot.doctor.id))
        chosen = found_slots[page.offset : page.offset + page.page_size]
        return Page(items=chosen, total=len(found_slots), request=page)

    def _free(self, uow: UnitOfWork, actor: Actor, doctor: Doctor, within: Interval) -> list[Interval]:
        """The slots ``actor`` could book: a patient under the doctor's policy and around their
        own appointments; an admin (who may override the policy) with only the buffer."""
        now = self.clock.now()
        policy = doctor.policy.over(self.policy)
        bound = not actor.is_admin
        # Whole local days around the range, so the daily cap counts every appointment.
        around = Interval(within.start - DAY, within.end + DAY)
        calendar = uow.calendars.load(
            doctor, around, patient_id=actor.patient_id if bound else None, now=now
        )
        slots = free_slots(
            within,
            calendar.open_intervals(within),
            calendar.busy,
            doctor.appointment_minutes,
            max(now, policy.earliest_start(now) - TICK) if bound else now,
            blocked=[*calendar.blocked, *calendar.patient_busy],
            buffer=policy.buffer,
        )
        if not bound:
            return list(slots)
        latest = policy.latest_start(now)
        per_day = Counter(b.start.astimezone(calendar.tz).date() for b in calendar.busy)
        cap = policy.max_per_day
        return [
            slot
            for slot in slots
            if slot.start <= latest
            and (cap is None or per_day[slot.start.astimezone(calendar.tz).date()] < cap)
        ]
