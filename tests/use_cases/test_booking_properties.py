"""A model-based property test of booking.

Random actors book, confirm, cancel and reschedule at random times on a small grid of slots while
the clock moves forward. After every step the stored appointments must hold the two invariants of
SPEC section 3 (no two active appointments of a doctor or of a patient overlap; every active
appointment lies inside one window of its doctor), and every call must end as a small model of
the rules predicts, so a wrong refusal fails as surely as a wrong acceptance.

Each example plays on a fresh day of the same clinic, so it runs unchanged on every backend and
costs a handful of transactions per step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from itertools import count

from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from healthcare.adapters.clock import FixedClock
from healthcare.application.commands import BookAppointment, CreateAvailability
from healthcare.application.ports import AppointmentFilter
from healthcare.domain.actor import Actor
from healthcare.domain.appointments import ACTIVE, Status
from healthcare.domain.errors import (
    DomainError,
    InPast,
    InvalidInput,
    NotASlotStart,
    NotFound,
    OutsideAvailability,
    PatientDoubleBooked,
    PermissionDenied,
    SlotUnavailable,
    TransitionNotAllowed,
)
from healthcare.domain.time import Interval
from tests.use_cases.clinic import WIDE, Clinic, Services, at, reschedule

LENGTH = timedelta(minutes=30)
ZERO = timedelta(0)
#: Slot starts every quarter hour from 09:00 to 11:45: a few outside the windows, more soon past.
GRID = [timedelta(hours=9, minutes=15 * i) for i in range(12)]
#: Windows as offsets from midnight; the doctor's two windows touch at 11:00.
WINDOWS = {
    "doctor": [
        (timedelta(hours=9), timedelta(hours=11)),
        (timedelta(hours=11), timedelta(hours=12)),
    ],
    "other_doctor": [(timedelta(hours=9, minutes=30), timedelta(hours=11, minutes=30))],
}
ACTORS = ["admin", "doctor", "other_doctor", "patient", "other_patient"]
#: (who books, whom they name): mostly rightful bookings, some refused ones.
BOOKERS = [
    ("patient", None),
    ("other_patient", None),
    ("patient", "patient"),
    ("admin", "patient"),
    ("admin", "other_patient"),
    ("patient", "other_patient"),
    ("admin", None),
    ("doctor", "patient"),
]
DAYS = count(1)

slots = st.integers(0, len(GRID) - 1)
picks = st.integers(0, 50)
booking = st.tuples(
    st.just("book"), st.sampled_from(BOOKERS), st.sampled_from(list(WINDOWS)), slots
)
OPERATIONS = st.one_of(
    booking,
    booking,
    st.tuples(st.just("confirm"), st.sampled_from(ACTORS), picks),
    st.tuples(st.just("cancel"), st.sampled_from(ACTORS), picks),
    st.tuples(st.just("reschedule"), st.sampled_from(ACTORS), picks, slots),
    st.tuples(
        st.just("reschedule"), st.sampled_from(["patient", "other_patient", "admin"]), picks, slots
    ),
    st.tuples(st.just("time_passes"), st.integers(1, 3)),
)


@dataclass(frozen=True)
class Booking:
    doctor_id: int
    patient_id: int
    slot: Interval
    status: Status = Status.PENDING

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


class Day:
    """One day of the clinic: its windows, what the model expects, and the operations."""

    def __init__(self, services: Services, clinic: Clinic, clock: FixedClock) -> None:
        self.services, self.clinic, self.clock = services, clinic, clock
        self.midnight = at(0, days=next(DAYS))
        clock.at = self.midnight + timedelta(hours=8)
        self.windows: dict[int, list[Interval]] = {}
        for name, spans in WINDOWS.items():
            doctor_id = clinic.roles[name].doctor_id
            self.windows[doctor_id] = [
                Interval(self.midnight + a, self.midnight + b) for a, b in spans
            ]
            for window in self.windows[doctor_id]:
                services.availability.create(
                    clinic.admin, CreateAvailability(window.start, window.end, doctor_id)
                )
        self.model: dict[int, Booking] = {}

    # -- the model of the rules --------------------------------------------------------------

    def slot(self, index: int) -> Interval:
        start = self.midnight + GRID[index]
        return Interval(start, start + LENGTH)

    def booking_refusal(
        self, doctor_id: int, patient_id: int, slot: Interval, ignore: int | None, by: Actor
    ):
        if slot.start <= self.clock.now():
            return InPast
        holding = [w for w in self.windows[doctor_id] if w.contains(slot)]
        if not holding:
            return OutsideAvailability
        if not by.is_admin and not any((slot.start - w.start) % LENGTH == ZERO for w in holding):
            return NotASlotStart  # section 8: a patient books on the grid, an admin anywhere
        others = [
            b for i, b in self.model.items() if i != ignore and b.active and b.slot.overlaps(slot)
        ]
        if any(b.doctor_id == doctor_id for b in others):
            return SlotUnavailable
        if any(b.patient_id == patient_id for b in others):
            return PatientDoubleBooked
        return None

    def pick(self, pick: int) -> tuple[int, Booking] | None:
        if not self.model:
            return None
        ids = sorted(self.model)
        return ids[pick % len(ids)], self.model[ids[pick % len(ids)]]

    @staticmethod
    def sees(actor: Actor, booking: Booking) -> bool:
        return (
            actor.is_admin
            or actor.doctor_id == booking.doctor_id
            or actor.patient_id == booking.patient_id
        )

    @staticmethod
    def attempt(expected: type[DomainError] | None, call: Callable[[], object]) -> object:
        """Run ``call``: it must fail with exactly ``expected``, or succeed when that is None."""
        event(expected.__name__ if expected else "succeeded")
        try:
            result = call()
        except DomainError as error:
            assert type(error) is expected, f"expected {expected}, got {error!r}"
            return None
        assert expected is None, f"expected {expected.__name__}, but it succeeded"
        return result

    # -- operations ------------------------------------------------------------------------------

    def book(self, who: tuple[str, str | None], doctor: str, index: int) -> None:
        (by, named), slot = who, self.slot(index)
        actor, doctor_id = self.clinic.roles[by], self.clinic.roles[doctor].doctor_id
        patient_id = self.clinic.roles[named].patient_id if named else None
        if actor.is_doctor or (actor.is_patient and patient_id not in (None, actor.patient_id)):
            expected = PermissionDenied
        elif actor.is_admin and patient_id is None:
            expected = InvalidInput
        else:
            patient_id = patient_id or actor.patient_id
            expected = self.booking_refusal(doctor_id, patient_id, slot, ignore=None, by=actor)
        command = BookAppointment(doctor_id=doctor_id, start=slot.start, patient_id=patient_id)
        booked = self.attempt(expected, lambda: self.services.appointments.book(actor, command))
        if booked is not None:
            self.model[booked.id] = Booking(doctor_id, booked.patient_id, slot)

    def confirm(self, by: str, pick: int) -> None:
        if (picked := self.pick(pick)) is None:
            return
        (appointment_id, booking), actor = picked, self.clinic.roles[by]
        if not self.sees(actor, booking):
            expected = NotFound
        elif not (actor.is_admin or actor.doctor_id == booking.doctor_id):
            expected = PermissionDenied
        else:
            expected = None if booking.status is Status.PENDING else TransitionNotAllowed
        if self.attempt(
            expected, lambda: self.services.appointments.confirm(actor, appointment_id)
        ):
            self.model[appointment_id] = replace(booking, status=Status.CONFIRMED)

    def cancel(self, by: str, pick: int) -> None:
        if (picked := self.pick(pick)) is None:
            return
        (appointment_id, booking), actor = picked, self.clinic.roles[by]
        if not self.sees(actor, booking):
            expected = NotFound
        elif not booking.active or (actor.is_patient and self.clock.now() >= booking.slot.start):
            expected = TransitionNotAllowed
        else:
            expected = None
        if self.attempt(expected, lambda: self.services.appointments.cancel(actor, appointment_id)):
            self.model[appointment_id] = replace(booking, status=Status.CANCELLED)

    def reschedule(self, by: str, pick: int, index: int) -> None:
        if (picked := self.pick(pick)) is None:
            return
        (appointment_id, booking), actor, slot = picked, self.clinic.roles[by], self.slot(index)
        if not self.sees(actor, booking):
            expected = NotFound
        elif not (actor.is_admin or actor.patient_id == booking.patient_id):
            expected = PermissionDenied
        elif not booking.active:
            expected = TransitionNotAllowed
        else:
            expected = self.booking_refusal(
                booking.doctor_id, booking.patient_id, slot, ignore=appointment_id, by=actor
            )
        moved = self.attempt(
            expected,
            lambda: reschedule(self.services, actor, appointment_id, slot.start),
        )
        if moved:
            self.model[appointment_id] = replace(booking, slot=slot, status=Status.PENDING)

    def time_passes(self, quarters: int) -> None:
        self.clock.advance(timedelta(minutes=15 * quarters))

    # -- the invariants, on what is stored -------------------------------------------------------

    def check(self) -> None:
        where = AppointmentFilter(start=self.midnight, end=self.midnight + timedelta(days=1))
        stored = self.services.appointments.list(self.clinic.admin, WIDE, where).items
        assert {a["id"]: (a["datetime"], a["status"]) for a in stored} == {
            i: (b.slot.start, b.status) for i, b in self.model.items()
        }
        active = [
            Booking(a["doctor"], a["patient"], Interval(a["datetime"], a["end"]))
            for a in stored
            if a["status"] in ACTIVE
        ]
        for i, a in enumerate(active):
            assert any(w.contains(a.slot) for w in self.windows[a.doctor_id]), a
            for b in active[i + 1 :]:
                if a.doctor_id == b.doctor_id or a.patient_id == b.patient_id:
                    assert not a.slot.overlaps(b.slot), (a, b)


#: No shrinking: the examples share one clinic whose tables grow with every example, so a shrink
#: of hundreds of replays would take minutes; a failing list of at most 14 steps reads well as is.
@settings(
    max_examples=50,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(operations=st.lists(OPERATIONS, min_size=6, max_size=14))
def test_random_bookings_never_overlap_and_stay_inside_availability(
    services: Services, clinic: Clinic, clock: FixedClock, operations: list[tuple]
) -> None:
    day = Day(services, clinic, clock)
    for name, *arguments in operations:
        getattr(day, name)(*arguments)
        day.check()
