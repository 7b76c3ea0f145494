"""Sixteen callers book at the same instant: exactly one wins, on both engines.

PostgreSQL is raced by threads sharing one engine (one web worker's threads); SQLite by
processes each with their own engine (several web workers on one file). Either way the
service's read-then-check cannot see the others' uncommitted rows; what stops the rest is the
database (PostgreSQL's exclusion constraints; SQLite's write lock, after which the check sees
the winner).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

import pytest
from sqlalchemy import Engine, text

from healthcare.adapters.clock import FixedClock
from healthcare.adapters.security import Argon2PasswordHasher
from healthcare.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from healthcare.application.unit_of_work import UnitOfWork
from healthcare.domain.errors import AuthenticationFailed
from tests.conftest import NOW
from tests.support.clinic_rows import add_doctor, add_patient, add_window, at, stored
from tests.support.databases import engine_for
from tests.support.racing import Booking, race_in_processes, race_in_threads
from tests.support.sign_in import account_service

RACERS = 16

ENGINES = [
    pytest.param("postgres", race_in_threads, marks=pytest.mark.postgres, id="postgres-threads"),
    pytest.param("sqlite", race_in_processes, id="sqlite-processes"),
]


def same_doctor_same_time(uow: UnitOfWork) -> list[Booking]:
    doctor = add_doctor(uow)
    add_window(uow, doctor, at(9), at(17))
    return [Booking(doctor.id, add_patient(uow).id, at(10)) for _ in range(RACERS)]  # type: ignore[arg-type]


def same_doctor_overlapping_times(uow: UnitOfWork) -> list[Booking]:
    """Thirty-minute slots starting a minute apart: each overlaps every other."""
    doctor = add_doctor(uow)
    add_window(uow, doctor, at(9), at(17))
    return [
        Booking(doctor.id, add_patient(uow).id, at(10) + timedelta(minutes=n))  # type: ignore[arg-type]
        for n in range(RACERS)
    ]


def same_patient_different_doctors(uow: UnitOfWork) -> list[Booking]:
    patient = add_patient(uow)
    bookings = []
    for _ in range(RACERS):
        doctor = add_doctor(uow)
        add_window(uow, doctor, at(9), at(17))
        bookings.append(Booking(doctor.id, patient.id, at(10)))  # type: ignore[arg-type]
    return bookings


SCENARIOS = [
    pytest.param(same_doctor_same_time, "SlotUnavailable", id="same-doctor-same-time"),
    pytest.param(same_doctor_overlapping_times, "SlotUnavailable", id="same-doctor-overlapping"),
    pytest.param(same_patient_different_doctors, "PatientDoubleBooked", id="same-patient"),
]


def active_appointments(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(
            text("SELECT count(*) FROM appointments WHERE status IN ('pending', 'confirmed')")
        )


@pytest.mark.parametrize(("scenario", "refusal"), SCENARIOS)
@pytest.mark.parametrize(("backend", "race"), ENGINES)
def test_of_simultaneous_overlapping_bookings_exactly_one_wins(
    request: pytest.FixtureRequest,
    backend: str,
    race: Callable[..., list[str]],
    scenario: Callable[[UnitOfWork], list[Booking]],
    refusal: str,
    record_property: Callable[[str, object], None],
) -> None:
    url = request.getfixturevalue(f"{backend}_url")
    with engine_for(url) as engine:
        bookings = stored(lambda: SqlAlchemyUnitOfWork(engine), scenario)

        outcomes = Counter(race(url, NOW, bookings))

        record_property("outcomes", dict(outcomes))
        print(f"{backend}: {dict(outcomes)}")
        assert outcomes["booked"] == 1, outcomes
        assert all(o == "booked" or o.startswith(refusal) for o in outcomes), outcomes
        assert sum(outcomes.values()) == RACERS
        assert active_appointments(engine) == 1


@pytest.mark.postgres
def test_a_refresh_token_spent_by_racing_requests_works_exactly_once(postgres_url: str) -> None:
    """Two copies of one refresh token presented at once: one rotation, the rest refused, and
    the family revoked (a copy in other hands is a stolen token)."""
    with engine_for(postgres_url, pool_size=RACERS) as engine:
        accounts = account_service(
            lambda: SqlAlchemyUnitOfWork(engine), FixedClock(NOW), Argon2PasswordHasher(1, 8, 1)
        )
        barrier = Barrier(RACERS)

        def spend(_: int) -> str:
            barrier.wait(timeout=60)
            try:
                accounts.spend_refresh_token("the-jti", "the-family", NOW + timedelta(days=1))
            except AuthenticationFailed:
                return "refused"
            return "rotated"

        with ThreadPoolExecutor(RACERS) as pool:
            outcomes = Counter(pool.map(spend, range(RACERS)))

        assert outcomes == {"rotated": 1, "refused": RACERS - 1}
        with SqlAlchemyUnitOfWork(engine) as uow:
            assert uow.revocations.any_revoked(["fam:the-family"])
