"""Holds race like bookings (SPEC section 8): sixteen callers hold, or hold and book, one slot
at the same instant, and exactly one wins, on both engines (PostgreSQL by threads, SQLite by
processes, as ``test_concurrency`` races bookings)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, text

from healthcare.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from healthcare.application.unit_of_work import UnitOfWork
from tests.conftest import NOW
from tests.support.clinic_rows import add_doctor, add_patient, add_window, at, stored
from tests.support.databases import engine_for
from tests.support.racing import ENGINES, Attempt, Booking, Holding

RACERS = 16


def holds_of_one_slot(uow: UnitOfWork) -> list[Attempt]:
    doctor = add_doctor(uow)
    add_window(uow, doctor, at(9), at(17))
    return [Holding(doctor.id, add_patient(uow).id, at(10)) for _ in range(RACERS)]  # type: ignore[arg-type]


def holds_and_bookings_of_one_slot(uow: UnitOfWork) -> list[Attempt]:
    doctor = add_doctor(uow)
    add_window(uow, doctor, at(9), at(17))
    kinds = [Holding, Booking] * (RACERS // 2)
    return [kind(doctor.id, add_patient(uow).id, at(10)) for kind in kinds]  # type: ignore[arg-type]


def taking(engine: Engine) -> int:
    """Rows taking a slot: appointments and holds alike."""
    with engine.connect() as connection:
        return connection.scalar(
            text("SELECT count(*) FROM appointments WHERE status IN ('pending', 'confirmed')")
        )


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(holds_of_one_slot, id="holds"),
        pytest.param(holds_and_bookings_of_one_slot, id="holds-and-bookings"),
    ],
)
@pytest.mark.parametrize(("backend", "race"), ENGINES)
def test_of_simultaneous_holds_and_bookings_of_one_slot_exactly_one_wins(
    request: pytest.FixtureRequest,
    backend: str,
    race: Callable[..., list[str]],
    scenario: Callable[[UnitOfWork], list[Attempt]],
    record_property: Callable[[str, object], None],
) -> None:
    url = request.getfixturevalue(f"{backend}_url")
    with engine_for(url) as engine:
        attempts = stored(lambda: SqlAlchemyUnitOfWork(engine), scenario)

        outcomes = Counter(race(url, NOW, attempts))

        record_property("outcomes", dict(outcomes))
        print(f"{backend}: {dict(outcomes)}")
        assert outcomes["held"] + outcomes["booked"] == 1, outcomes
        assert all(o in ("held", "booked") or o.startswith("SlotUnavailable") for o in outcomes)
        assert sum(outcomes.values()) == RACERS
        assert taking(engine) == 1


@pytest.mark.parametrize(("backend", "race"), ENGINES)
def test_of_simultaneous_holds_by_one_patient_at_most_two_are_kept(
    request: pytest.FixtureRequest, backend: str, race: Callable[..., list[str]]
) -> None:
    """HOLD_MAX_PER_PATIENT (2) is counted under the patient's lock: sixteen holds of
    different slots at once keep two."""
    url = request.getfixturevalue(f"{backend}_url")
    with engine_for(url) as engine:

        def clinic(uow: UnitOfWork) -> list[Attempt]:
            doctor, patient = add_doctor(uow), add_patient(uow)
            add_window(uow, doctor, at(8), at(16))
            return [Holding(doctor.id, patient.id, at(8, 30 * n)) for n in range(RACERS)]  # type: ignore[arg-type]

        attempts = stored(lambda: SqlAlchemyUnitOfWork(engine), clinic)

        outcomes = Counter(race(url, NOW, attempts))

        assert outcomes == {"held": 2, "TooManyHolds": RACERS - 2}, outcomes
        assert taking(engine) == 2
