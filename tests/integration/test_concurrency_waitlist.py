"""The waitlist under concurrency (SPEC section 8), on PostgreSQL (threads) and SQLite
(processes): a freed slot is booked by a racer or offered to the waiting entry, never both; and
runs of process-waitlist at once pass a lapsed offer on exactly once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from healthcare.adapters.clock import FixedClock
from healthcare.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from healthcare.application.commands import BookAppointment, JoinWaitlist
from healthcare.application.services import AppointmentService, WaitlistService
from healthcare.domain.actor import Actor
from tests.conftest import NOW
from tests.support.clinic_rows import add_doctor, add_patient, add_window, at, stored
from tests.support.databases import engine_for
from tests.support.racing import ENGINES, Booking, Cancelling, ProcessingWaitlist

RACERS = 16


def rows(engine: Engine, sql: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(sql))]


def a_booked_slot_and_a_waiting_entry(engine: Engine, waiting: int = 1):
    """A doctor's 10:00 appointment, ``waiting`` entries for exactly that slot, and fifteen
    other patients; the services that made them."""
    uow_factory = lambda: SqlAlchemyUnitOfWork(engine)  # noqa: E731
    clock = FixedClock(NOW)
    appointments, waitlist = (
        AppointmentService(uow_factory, clock),
        WaitlistService(uow_factory, clock),
    )

    def build(uow):
        doctor = add_doctor(uow)
        add_window(uow, doctor, at(9), at(17))
        return doctor.id, [add_patient(uow).id for _ in range(RACERS + waiting)]

    doctor_id, patients = stored(uow_factory, build)
    system = Actor.system()
    booked = appointments.book(system, BookAppointment(doctor_id, at(10), patients[0]))
    entries = [
        waitlist.join(system, JoinWaitlist(doctor_id, at(10), at(10, 30), patient_id))
        for patient_id in patients[1 : 1 + waiting]
    ]
    return doctor_id, booked, entries, patients[1 + waiting :], appointments, clock


@pytest.mark.parametrize(("backend", "race"), ENGINES)
def test_a_cancellation_racing_bookings_of_its_slot_leaves_it_booked_or_offered_never_both(
    request: pytest.FixtureRequest, backend: str, race: Callable[..., list[str]]
) -> None:
    url = request.getfixturevalue(f"{backend}_url")
    with engine_for(url) as engine:
        doctor_id, booked, (entry,), others, _, _ = a_booked_slot_and_a_waiting_entry(engine)
        attempts = [Cancelling(booked.id)] + [
            Booking(doctor_id, patient_id, at(10)) for patient_id in others[: RACERS - 1]
        ]

        outcomes = Counter(race(url, NOW, attempts))

        print(f"{backend}: {dict(outcomes)}")
        assert outcomes["cancelled"] == 1, outcomes
        assert all(
            o in ("cancelled", "booked") or o.startswith("SlotUnavailable") for o in outcomes
        ), outcomes
        taking = rows(
            engine,
            "SELECT hold_expires_at IS NOT NULL FROM appointments "
            "WHERE status IN ('pending', 'confirmed')",
        )
        (status,) = rows(engine, f"SELECT status FROM waitlist_entries WHERE id = {entry.id}")[0]
        assert len(taking) == 1, taking  # one row takes the slot: a booking or the offer
        offered = status == "offered"
        assert offered == bool(taking[0][0]), (status, taking)
        assert outcomes["booked"] == (0 if offered else 1), (outcomes, status)


@pytest.mark.parametrize(("backend", "race"), ENGINES)
def test_runs_of_process_waitlist_at_once_pass_a_lapsed_offer_on_once(
    request: pytest.FixtureRequest, backend: str, race: Callable[..., list[str]]
) -> None:
    url = request.getfixturevalue(f"{backend}_url")
    with engine_for(url) as engine:
        _, booked, entries, _, appointments, clock = a_booked_slot_and_a_waiting_entry(
            engine, waiting=2
        )
        appointments.cancel(Actor.system(), booked.id)  # the first entry is offered 10:00
        later = NOW + timedelta(minutes=31)  # the offer has lapsed

        outcomes = Counter(race(url, later, [ProcessingWaitlist()] * 4))

        assert outcomes == {"passed on 1": 1, "passed on 0": 3}, outcomes
        statuses = rows(
            engine,
            "SELECT status FROM waitlist_entries WHERE id IN "
            f"({entries[0].id}, {entries[1].id}) ORDER BY id",
        )
        assert statuses == [("expired",), ("offered",)]
        holds = rows(
            engine, "SELECT patient_id FROM appointments WHERE hold_expires_at IS NOT NULL"
        )
        assert holds == [(entries[1].patient_id,)]


@pytest.mark.parametrize(("backend", "race"), ENGINES)
def test_a_cancellation_racing_the_waiting_patients_booking_elsewhere_goes_through(
    request: pytest.FixtureRequest, backend: str, race: Callable[..., list[str]]
) -> None:
    """The waiting patient books the same time with another doctor while the cancellation
    offers them the freed slot: the cancellation never fails for it, and the patient ends up
    with exactly one of the two."""
    url = request.getfixturevalue(f"{backend}_url")
    with engine_for(url) as engine:
        _, booked, (entry,), _, _, _ = a_booked_slot_and_a_waiting_entry(engine)

        def another_doctor(uow):
            doctor = add_doctor(uow)
            add_window(uow, doctor, at(9), at(17))
            return doctor.id

        elsewhere = stored(lambda: SqlAlchemyUnitOfWork(engine), another_doctor)
        attempts = [Cancelling(booked.id), Booking(elsewhere, entry.patient_id, at(10))]

        outcomes = Counter(race(url, NOW, attempts))

        assert outcomes["cancelled"] == 1, outcomes
        taken = rows(
            engine,
            "SELECT doctor_id FROM appointments WHERE status IN ('pending', 'confirmed') "
            f"AND patient_id = {entry.patient_id}",
        )
        assert len(taken) == 1, (outcomes, taken)
        (status,) = rows(engine, f"SELECT status FROM waitlist_entries WHERE id = {entry.id}")[0]
        assert (status == "offered") == (taken[0][0] != elsewhere), (status, taken)
