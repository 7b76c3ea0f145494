"""Booking races: many callers book through AppointmentService at the same instant.

Each caller waits at a barrier and then books, so the requests really overlap. Threads share
one engine (as a web server's threads do); processes each build their own (as separate web
workers do). Every outcome is named: "booked", or the domain error's class name, suffixed with
" by the database" when the database refused the INSERT (the guarantee the race is about)
rather than the service's earlier read-then-check.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Protocol

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from healthcare.adapters.clock import FixedClock
from healthcare.adapters.sqlalchemy import (
    SqlAlchemyUnitOfWork,
    create_engine_from_url,
)
from healthcare.application.commands import BookAppointment, CreateRule, PlaceHold
from healthcare.application.services import (
    AppointmentService,
    HoldService,
    WaitlistService,
)
from healthcare.application.services.calendar import CalendarService
from healthcare.domain.actor import Actor
from healthcare.domain.errors import DomainError
from healthcare.domain.users import Role

BARRIER_TIMEOUT_S = 60


@dataclass(frozen=True)
class Booking:
    doctor_id: int
    patient_id: int
    start: datetime
    #: Booked by the patient (under the doctor's policy: the daily cap) rather than the clinic.
    by_patient: bool = False


@dataclass(frozen=True)
class Holding:
    """A hold (SPEC section 8) instead of a booking: the same guarantees decide."""

    doctor_id: int
    patient_id: int
    start: datetime


@dataclass(frozen=True)
class Cancelling:
    """A cancellation, which offers the freed slot to the waitlist in its transaction."""

    appointment_id: int


@dataclass(frozen=True)
class ProcessingWaitlist:
    """A ``healthcare process-waitlist`` run."""


@dataclass(frozen=True)
class CreatingRule:
    """New weekly hours of a doctor, which must overlap none of theirs."""

    doctor_id: int
    weekday: int
    start_time: time
    end_time: time


#: What a racer does; its outcome is "booked" (or "held", "cancelled", "passed on N"), or the
#: error's name.
Attempt = Booking | Holding | Cancelling | ProcessingWaitlist | CreatingRule


class _Barrier(Protocol):
    def wait(self, timeout: float | None = None) -> int: ...


@dataclass(frozen=True)
class _Services:
    appointments: AppointmentService
    holds: HoldService
    waitlist: WaitlistService
    calendar: CalendarService


def _book(services: _Services, attempt: Attempt, barrier: _Barrier) -> str:
    barrier.wait(timeout=BARRIER_TIMEOUT_S)
    try:
        return _act(services, attempt)
    except DomainError as error:
        by_database = isinstance(error.__cause__, IntegrityError)
        return type(error).__name__ + (" by the database" if by_database else "")


def _act(services: _Services, attempt: Attempt) -> str:
    if isinstance(attempt, Cancelling):
        services.appointments.cancel(Actor.system(), attempt.appointment_id)
        return "cancelled"
    if isinstance(attempt, ProcessingWaitlist):
        return f"passed on {services.waitlist.process().passed_on}"
    if isinstance(attempt, CreatingRule):
        command = CreateRule(
            attempt.weekday, attempt.start_time, attempt.end_time, doctor_id=attempt.doctor_id
        )
        services.calendar.create_rule(Actor.system(), command)
        return "created"
    if isinstance(attempt, Holding):
        command = PlaceHold(attempt.doctor_id, attempt.start, attempt.patient_id)
        services.holds.place(Actor.system(), command)
        return "held"
    patient = Actor(user_id=None, role=Role.PATIENT, patient_id=attempt.patient_id)
    services.appointments.book(
        patient if attempt.by_patient else Actor.system(),
        BookAppointment(
            doctor_id=attempt.doctor_id, patient_id=attempt.patient_id, start=attempt.start
        ),
    )
    return "booked"


def _service(url: str, now: datetime, pool_size: int = 1) -> tuple[_Services, Engine]:
    engine = create_engine_from_url(url, pool_size=pool_size)
    uow_factory, clock = (lambda: SqlAlchemyUnitOfWork(engine)), FixedClock(now)
    services = _Services(
        AppointmentService(uow_factory, clock),
        HoldService(uow_factory, clock),
        WaitlistService(uow_factory, clock),
        CalendarService(uow_factory, clock),
    )
    return services, engine


def race_in_threads(url: str, now: datetime, bookings: list[Attempt]) -> list[str]:
    service, engine = _service(url, now, pool_size=len(bookings))
    barrier = threading.Barrier(len(bookings))
    try:
        with ThreadPoolExecutor(max_workers=len(bookings)) as pool:
            return list(pool.map(lambda b: _book(service, b, barrier), bookings))
    finally:
        engine.dispose()


def race_in_processes(url: str, now: datetime, bookings: list[Attempt]) -> list[str]:
    # forkserver: children fork from a clean single-threaded server with the modules
    # preloaded, so they start fast and inherit no threads or open connections from pytest.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    barrier = context.Barrier(len(bookings))
    outcomes: multiprocessing.Queue[str] = context.Queue()
    workers = [
        context.Process(target=_book_in_process, args=(url, now, booking, barrier, outcomes))
        for booking in bookings
    ]
    for worker in workers:
        worker.start()
    try:
        return [outcomes.get(timeout=BARRIER_TIMEOUT_S * 2) for _ in workers]
    except queue.Empty:
        raise AssertionError("a booking process died without reporting") from None
    finally:
        for worker in workers:
            worker.join(timeout=BARRIER_TIMEOUT_S)
            if worker.is_alive():
                worker.kill()


def _book_in_process(
    url: str, now: datetime, booking: Attempt, barrier: _Barrier, outcomes: Any
) -> None:
    try:
        service, engine = _service(url, now)
        try:
            outcome = _book(service, booking, barrier)
        finally:
            engine.dispose()
    except Exception as error:  # noqa: BLE001 - the parent must hear of any failure, not time out
        outcome = f"crashed: {error!r}"
    outcomes.put(outcome)


#: Each race on both engines: PostgreSQL by threads sharing one engine (one web worker's
#: threads), SQLite by processes each with their own (several web workers on one file).
ENGINES = [
    pytest.param("postgres", race_in_threads, marks=pytest.mark.postgres, id="postgres-threads"),
    pytest.param("sqlite", race_in_processes, id="sqlite-processes"),
]
