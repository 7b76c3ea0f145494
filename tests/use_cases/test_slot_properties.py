"""A property test of the slot search against booking.

For random weekly hours, one-off windows, blocked periods, bookings and booking policies, in
random time zones: no returned slot overlaps an active appointment (with its buffer) or a
blocked period, every returned slot can be booked by the patient who searched, and a booked slot
is gone from the next search. Each example has a doctor of its own and a week of its own, so it
runs unchanged on every backend.
"""

from __future__ import annotations

from datetime import time, timedelta
from itertools import count

from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from healthcare.adapters.clock import FixedClock
from healthcare.application.commands import (
    BookAppointment,
    CreateAvailability,
    CreateException,
    CreateRule,
    CreateUser,
    UpdateDoctor,
    UpdatePolicy,
)
from healthcare.application.ports import AppointmentFilter
from healthcare.domain.actor import Actor
from healthcare.domain.appointments import ACTIVE
from healthcare.domain.errors import DomainError
from healthcare.domain.time import Interval
from tests.use_cases.clinic import PASSWORD, WIDE, Clinic, Services, at

WEEKS = count(1)
ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata"]

rules = st.lists(
    st.tuples(st.integers(0, 6), st.integers(6, 16), st.integers(1, 6)), max_size=3
)
#: (day of the week, hour UTC, hours) for one-off windows and for blocked periods.
spans = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 20), st.integers(1, 4)), max_size=2)
#: (day of the week, quarter hour of the day) of bookings by the front desk.
bookings = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 95)), max_size=6)
policies = st.fixed_dictionaries(
    {
        "min_notice_minutes": st.sampled_from([0, 120, 24 * 60]),
        "buffer_minutes": st.sampled_from([0, 10, 15]),
        "max_per_day": st.sampled_from([None, 2, 4]),
    }
)


def _attempt(call) -> object:
    """Random set-ups may be refused (overlaps, bookings outside the hours): that is fine."""
    try:
        return call()
    except DomainError:
        return None


class Week:
    def __init__(self, services: Services, clinic: Clinic, clock: FixedClock) -> None:
        self.services, self.admin = services, clinic.admin
        self.start = at(0, days=7 * next(WEEKS))
        self.range = Interval(self.start, self.start + timedelta(days=7))
        clock.at = self.start - timedelta(hours=20)
        n = next(WEEKS)
        account = services.accounts.create_user(
            Actor.system(),
            CreateUser(f"doc{n}@slots.test", PASSWORD, "doctor", name=f"Dr. {n}"),
        )
        self.doctor_id = account.doctor.id
        self.doctor = services.accounts.actor_for(account.user.id)
        self.patient = clinic.patient

    def build(self, zone: str, minutes: int, policy: dict, weekly, windows, blocked, booked) -> None:
        s = self.services
        s.doctors.update(
            self.admin, self.doctor_id, UpdateDoctor(timezone=zone, appointment_minutes=minutes)
        )
        s.calendar.update_policy(self.admin, self.doctor_id, UpdatePolicy(**policy))
        for weekday, hour, hours in weekly:
            end = time(min(hour + hours, 23))
            rule = CreateRule(weekday, time(hour), end)
            _attempt(lambda r=rule: s.calendar.create_rule(self.doctor, r))
        for day, hour, hours in windows:
            start = self.start + timedelta(days=day, hours=hour)
            command = CreateAvailability(start, start + timedelta(hours=hours))
            _attempt(lambda c=command: s.availability.create(self.doctor, c))
        for day, quarter in booked:
            start = self.start + timedelta(days=day, minutes=15 * quarter)
            command = BookAppointment(self.doctor_id, start, patient_id=self.patient.patient_id)
            _attempt(lambda c=command: s.appointments.book(self.admin, c))
        for day, hour, hours in blocked:
            start = self.start + timedelta(days=day, hours=hour)
            command = CreateException(start, start + timedelta(hours=hours), "Away")
            _attempt(lambda c=command: s.calendar.create_exception(self.doctor, c))

    def free(self) -> list[Interval]:
        _, slots = self.services.slots.for_doctor(
            self.patient, self.doctor_id, self.range.start, self.range.end
        )
        return slots

    def check_nothing_overlaps(self, slots: list[Interval], buffer: timedelta) -> None:
        where = AppointmentFilter(doctor_id=self.doctor_id, status=None)
        # What each active appointment holds: itself and the buffer after it (the week's
        # policy is set before anything is booked, so every booking has this buffer).
        held = [
            Interval(a["datetime"], a["end"] + buffer)
            for a in self.services.appointments.list(self.admin, WIDE, where).items
            if a["status"] in ACTIVE
        ]
        blocked = [
            Interval(p["start_time"], p["end_time"])
            for p in self.services.calendar.list_exceptions(self.admin, WIDE).items
            if p["doctor"] == self.doctor_id
        ]
        for slot in slots:
            reach = Interval(slot.start, slot.end + buffer)
            assert not any(reach.overlaps(busy) for busy in held), slot
            assert not any(slot.overlaps(period) for period in blocked), slot

    def book(self, slot: Interval):
        command = BookAppointment(self.doctor_id, slot.start)
        return self.services.appointments.book(self.patient, command)


@settings(
    max_examples=15,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    zone=st.sampled_from(ZONES),
    minutes=st.sampled_from([20, 30, 45]),
    policy=policies,
    weekly=rules,
    windows=spans,
    blocked=spans,
    booked=bookings,
    picks=st.lists(st.integers(0, 10_000), min_size=1, max_size=4),
)
def test_every_returned_slot_is_free_and_bookable(
    services: Services,
    clinic: Clinic,
    clock: FixedClock,
    zone: str,
    minutes: int,
    policy: dict,
    weekly: list,
    windows: list,
    blocked: list,
    booked: list,
    picks: list[int],
) -> None:
    week = Week(services, clinic, clock)
    week.build(zone, minutes, policy, weekly, windows, blocked, booked)
    buffer = timedelta(minutes=policy["buffer_minutes"])

    slots = week.free()
    event("slots offered" if slots else "no slot offered")
    week.check_nothing_overlaps(slots, buffer)
    # Any returned slot can be booked (tried and undone), and one is booked for good.
    for pick in picks[:-1] if slots else []:
        trial = week.book(slots[pick % len(slots)])
        services.appointments.cancel(clinic.admin, trial.id)
    if slots:
        chosen = slots[picks[-1] % len(slots)]
        week.book(chosen)
        after = week.free()
        assert chosen not in after
        week.check_nothing_overlaps(after, buffer)
