"""What the use cases checked alone before, now under concurrency (issue 16, item 4): weekly
hours that must not overlap, and the daily cap, each decided one request at a time per doctor
by a lock the database holds (PostgreSQL: the doctor's row; SQLite: its one writer), on
PostgreSQL (threads) and SQLite (processes)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import time

import pytest
from sqlalchemy import text

from healthcare.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from healthcare.domain.policy import BookingPolicy
from tests.conftest import NOW
from tests.support.clinic_rows import (
    DAY,
    add_doctor,
    add_patient,
    add_window,
    at,
    stored,
)
from tests.support.databases import engine_for
from tests.support.racing import ENGINES, Booking, CreatingRule

RACERS = 16
CAP = 3


@pytest.mark.parametrize(("backend", "race"), ENGINES)
def test_of_simultaneous_overlapping_weekly_hours_exactly_one_is_created(
    request: pytest.FixtureRequest, backend: str, race: Callable[..., list[str]]
) -> None:
    url = request.getfixturevalue(f"{backend}_url")
    with engine_for(url) as engine:
        doctor_id = stored(lambda: SqlAlchemyUnitOfWork(engine), lambda uow: add_doctor(uow).id)
        # Each a different hour of the same morning, every one overlapping every other.
        attempts = [CreatingRule(doctor_id, 2, time(8, n), time(12, n)) for n in range(RACERS)]

        outcomes = Counter(race(url, NOW, attempts))

        assert outcomes == {"created": 1, "OverlappingAvailability": RACERS - 1}, outcomes
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM availability_rules")) == 1


@pytest.mark.parametrize(("backend", "race"), ENGINES)
def test_of_simultaneous_bookings_of_different_slots_the_daily_cap_admits_only_its_number(
    request: pytest.FixtureRequest, backend: str, race: Callable[..., list[str]]
) -> None:
    url = request.getfixturevalue(f"{backend}_url")
    with engine_for(url) as engine:

        def clinic(uow):
            doctor = add_doctor(uow, policy=BookingPolicy(max_per_day=CAP))
            add_window(uow, doctor, at(8), at(16))
            return [
                Booking(doctor.id, add_patient(uow).id, at(8, 30 * n), by_patient=True)  # type: ignore[arg-type]
                for n in range(RACERS)
            ]

        bookings = stored(lambda: SqlAlchemyUnitOfWork(engine), clinic)

        outcomes = Counter(race(url, NOW, bookings))

        assert outcomes == {"booked": CAP, "DailyLimitReached": RACERS - CAP}, outcomes
        with engine.connect() as connection:
            count = "SELECT count(*) FROM appointments WHERE start_at >= :day"
            assert connection.scalar(text(count), {"day": DAY}) == CAP
