"""A model-based property test of holds, their expiry and the waitlist (SPEC section 8).

Random patients and the front desk hold, book, book holds, release them, cancel, join the
waitlist, and let time pass (holds and offers expire) while process-waitlist runs now and then.
After every step, on what is stored: no two live holds or active appointments of the doctor or
of a patient overlap, and no slot is offered to two entries. Each cancellation or release is
checked against the waitlist as it stood: the freed slot goes to the oldest waiting entry whose
range it starts in and whose patient is free then, and to no other; with none, it stays free.
Holds and bookings are checked against what is free, so a wrong refusal fails too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from itertools import count

from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from healthcare.adapters.clock import FixedClock
from healthcare.application.commands import (
    BookAppointment,
    CreateAvailability,
    JoinWaitlist,
    PlaceHold,
)
from healthcare.application.ports import AppointmentFilter
from healthcare.domain.appointments import ACTIVE
from healthcare.domain.errors import DomainError, TooManyHolds
from healthcare.domain.time import Interval
from tests.use_cases.clinic import WIDE, Clinic, Services, at

LENGTH = timedelta(minutes=30)
SLOTS = 6  # 09:00 to 12:00
PATIENTS = ["patient", "other_patient"]
DAYS = count(1)

slot_index = st.integers(0, SLOTS - 1)
picks = st.integers(0, 20)
OPERATIONS = st.one_of(
    st.tuples(st.just("hold"), st.sampled_from(PATIENTS), slot_index),
    st.tuples(st.just("book"), st.sampled_from(PATIENTS), slot_index),
    st.tuples(st.just("book_hold"), picks),
    st.tuples(st.just("release"), picks),
    st.tuples(st.just("cancel"), picks),
    st.tuples(st.just("wait"), st.sampled_from(PATIENTS), slot_index, st.integers(1, SLOTS)),
    st.tuples(st.just("wait"), st.sampled_from(PATIENTS), slot_index, st.integers(1, SLOTS)),
    st.tuples(st.just("time_passes"), st.integers(5, 40)),
    st.tuples(st.just("process")),
)


@dataclass(frozen=True)
class Taking:
    """A live hold or an active appointment of the day: what keeps a slot."""

    id: int
    patient: int
    slot: Interval
    hold: bool


class Day:
    def __init__(self, services: Services, clinic: Clinic, clock: FixedClock) -> None:
        self.services, self.clinic, self.clock = services, clinic, clock
        self.midnight = at(0, days=next(DAYS) * 2)
        clock.at = self.midnight + timedelta(hours=8, minutes=50)
        self.doctor_id = clinic.doctor.doctor_id
        services.availability.create(
            clinic.admin,
            CreateAvailability(
                self.midnight + timedelta(hours=9),
                self.midnight + timedelta(hours=12),
                self.doctor_id,
            ),
        )
        self.entries: set[int] = set()

    def slot(self, index: int) -> Interval:
        start = self.midnight + timedelta(hours=9) + index * LENGTH
        return Interval(start, start + LENGTH)

    def patient_id(self, name: str) -> int:
        return self.clinic.roles[name].patient_id  # type: ignore[return-value]

    # -- what is stored ---------------------------------------------------------------------

    def taking(self) -> list[Taking]:
        where = AppointmentFilter(start=self.midnight, end=self.midnight + timedelta(days=1))
        booked = self.services.appointments.list(self.clinic.admin, WIDE, where).items
        holds = self.services.holds.list(self.clinic.admin, WIDE).items
        return [
            Taking(a["id"], a["patient"], Interval(a["datetime"], a["end"]), False)
            for a in booked
            if a["status"] in ACTIVE
        ] + [
            Taking(h["id"], h["patient"], Interval(h["start"], h["end"]), True)
            for h in holds
            if self.midnight <= h["start"] < self.midnight + timedelta(days=1)
        ]

    def waitlist(self) -> dict[int, dict]:
        """This day's entries (read one by one: the examples share one clinic, whose list
        outgrows a page)."""
        return {i: self.services.waitlist.get(self.clinic.admin, i) for i in self.entries}

    def is_free(self, slot: Interval, patient: int, taking: list[Taking]) -> bool:
        return slot.start > self.clock.now() and not any(t.slot.overlaps(slot) for t in taking)

    def patient_free(self, slot: Interval, patient: int, taking: list[Taking]) -> bool:
        return not any(t.patient == patient and t.slot.overlaps(slot) for t in taking)

    @staticmethod
    def attempt(call) -> object | None:
        try:
            return call()
        except DomainError as error:
            event(type(error).__name__)
            return error

    # -- operations -------------------------------------------------------------------------

    def hold(self, name: str, index: int) -> None:
        slot, patient, taking = self.slot(index), self.patient_id(name), self.taking()
        live = sum(t.hold and t.patient == patient for t in self.all_live_holds())
        command = PlaceHold(self.doctor_id, slot.start)
        result = self.attempt(lambda: self.services.holds.place(self.clinic.roles[name], command))
        free = self.is_free(slot, patient, taking) and self.patient_free(slot, patient, taking)
        if free and live < 2:
            assert not isinstance(result, DomainError), (slot, result)
        elif free:
            assert isinstance(result, TooManyHolds), result
        else:
            assert isinstance(result, DomainError), (slot, "held a taken slot")

    def all_live_holds(self) -> list[Taking]:
        holds = self.services.holds.list(self.clinic.admin, WIDE).items
        return [Taking(h["id"], h["patient"], Interval(h["start"], h["end"]), True) for h in holds]

    def book(self, name: str, index: int) -> None:
        slot, patient, taking = self.slot(index), self.patient_id(name), self.taking()
        command = BookAppointment(self.doctor_id, slot.start)
        result = self.attempt(
            lambda: self.services.appointments.book(self.clinic.roles[name], command)
        )
        free = self.is_free(slot, patient, taking) and self.patient_free(slot, patient, taking)
        assert isinstance(result, DomainError) != free, (slot, result)

    def book_hold(self, pick: int) -> None:
        holds = [t for t in self.taking() if t.hold]
        if holds:
            chosen = holds[pick % len(holds)]
            booked = self.services.holds.book(self.clinic.admin, chosen.id)
            assert booked.start == chosen.slot.start

    def release(self, pick: int) -> None:
        holds = [t for t in self.taking() if t.hold]
        if holds:
            chosen = holds[pick % len(holds)]
            self.freeing(chosen, lambda: self.services.holds.release(self.clinic.admin, chosen.id))

    def cancel(self, pick: int) -> None:
        booked = [t for t in self.taking() if not t.hold]
        if booked:
            chosen = booked[pick % len(booked)]
            self.freeing(
                chosen, lambda: self.services.appointments.cancel(self.clinic.admin, chosen.id)
            )

    def wait(self, name: str, index: int, slots: int) -> None:
        start = self.slot(index).start
        end = start + LENGTH * slots
        command = JoinWaitlist(self.doctor_id, start, end)
        made = self.attempt(lambda: self.services.waitlist.join(self.clinic.roles[name], command))
        if not isinstance(made, DomainError):
            self.entries.add(made.id)  # type: ignore[union-attr]

    def time_passes(self, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))

    def process(self) -> None:
        self.services.waitlist.process()

    # -- the waitlist's promise, for one freed slot -----------------------------------------------

    def freeing(self, freed: Taking, call) -> None:
        before, taking = self.waitlist(), [t for t in self.taking() if t.id != freed.id]
        declined = next(
            (i for i, e in before.items() if e["status"] == "offered" and e["hold"] == freed.id),
            None,
        )
        slot = freed.slot
        candidates = [
            i
            for i, e in sorted(before.items())
            if e["status"] == "waiting"
            and i != declined
            and e["start"] <= slot.start < e["end"]
            and slot.start > self.clock.now()
            and self.patient_free(slot, e["patient"], taking)
        ]
        call()
        after = self.waitlist()
        changed = {i for i in before if before[i]["status"] != after[i]["status"]}
        expected = ({declined} if declined else set()) | set(candidates[:1])
        assert changed == expected, (slot, before, after)
        if candidates:
            offered = after[candidates[0]]
            assert offered["status"] == "offered"
            held = [t for t in self.taking() if t.id == offered["hold"]]
            assert [(t.slot, t.patient) for t in held] == [(slot, offered["patient"])]
            event("offered")
        else:
            assert not any(t.slot.overlaps(slot) for t in self.taking()), "nobody took it"

    # -- the invariants ---------------------------------------------------------------------

    def check(self) -> None:
        taking = self.taking()
        for i, a in enumerate(taking):
            for b in taking[i + 1 :]:
                assert not a.slot.overlaps(b.slot), (a, b)  # one doctor: nothing overlaps
        offers = [e["hold"] for e in self.waitlist().values() if e["status"] == "offered"]
        assert len(offers) == len(set(offers)), offers


@settings(
    max_examples=30,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(operations=st.lists(OPERATIONS, min_size=6, max_size=16))
def test_holds_expire_never_overlap_and_every_freed_slot_goes_to_one_waiting_entry(
    services: Services, clinic: Clinic, clock: FixedClock, operations: list[tuple]
) -> None:
    day = Day(services, clinic, clock)
    for name, *arguments in operations:
        getattr(day, name)(*arguments)
        day.check()
