"""The waitlist (SPEC section 8) on every storage backend: offers made in the transaction that
frees a slot, booked through their hold, passed on when they lapse."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

import pytest

from healthcare.adapters.clock import FixedClock
from healthcare.application.commands import (
    CreateAvailability,
    CreateRule,
    JoinWaitlist,
    PlaceHold,
)
from healthcare.application.unit_of_work import UnitOfWork
from healthcare.domain.actor import Actor
from healthcare.domain.appointments import Appointment
from healthcare.domain.errors import InPast, NotFound, PermissionDenied
from tests.use_cases.clinic import WIDE, Clinic, Services, at, reschedule, row

MORNING = (at(9), at(12))
OFFER = timedelta(minutes=30)


def wait(services: Services, actor: Actor, clinic: Clinic, start=at(9), end=at(12), **fields):
    command = JoinWaitlist(clinic.doctor.doctor_id, start, end, **fields)
    return services.waitlist.join(actor, command)


def entry(services: Services, clinic: Clinic, entry_id: int) -> dict:
    return services.waitlist.get(clinic.admin, entry_id)


def holds_of(services: Services, actor: Actor) -> list[tuple[datetime, datetime]]:
    return [(h["start"], h["expires_at"]) for h in services.holds.list(actor, WIDE).items]


def messages(uow_factory: Callable[[], UnitOfWork]) -> list[tuple[str, str]]:
    with uow_factory() as uow:
        return [(m.key, m.recipient) for m in uow.outbox.unsent(100)]


def test_a_cancellation_offers_the_slot_to_the_oldest_waiting_entry_that_fits(
    services: Services, clinic: Clinic, booked: Appointment, uow_factory, clock: FixedClock
) -> None:
    elsewhere = wait(services, clinic.other_patient, clinic, at(11), at(12))
    first = wait(services, clinic.other_patient, clinic)
    services.appointments.cancel(clinic.patient, booked.id)
    offered = entry(services, clinic, first.id)
    assert offered["status"] == "offered" and offered["hold"] is not None
    assert entry(services, clinic, elsewhere.id)["status"] == "waiting"  # 10:00 is not in it
    assert holds_of(services, clinic.other_patient) == [(at(10), clock.now() + OFFER)]
    assert messages(uow_factory) == [(f"waitlist-offer:{first.id}", "quinn@example.org")]
    _, slots = services.slots.for_doctor(clinic.patient, clinic.doctor.doctor_id, *MORNING)
    assert at(10) not in [s.start for s in slots]
    booked_offer = services.holds.book(clinic.other_patient, offered["hold"])
    assert booked_offer.start == at(10)
    assert entry(services, clinic, first.id)["status"] == "booked"


def test_no_waiting_entry_no_offer(services: Services, clinic: Clinic, booked: Appointment) -> None:
    services.appointments.cancel(clinic.patient, booked.id)
    assert holds_of(services, clinic.admin) == []


def test_a_reschedule_away_offers_the_old_slot(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    waiting = wait(services, clinic.other_patient, clinic, at(10), at(10, 30))
    reschedule(services, clinic.patient, booked.id, at(11))
    assert entry(services, clinic, waiting.id)["status"] == "offered"
    assert [s for s, _ in holds_of(services, clinic.other_patient)] == [at(10)]


def test_a_new_window_and_new_weekly_hours_are_offered(services: Services, clinic: Clinic) -> None:
    evening = wait(services, clinic.patient, clinic, at(17), at(18))
    tomorrow = wait(services, clinic.other_patient, clinic, at(0, days=1), at(23, days=1))
    services.availability.create(clinic.doctor, CreateAvailability(start=at(17), end=at(18)))
    assert entry(services, clinic, evening.id)["status"] == "offered"
    assert [s for s, _ in holds_of(services, clinic.patient)] == [at(17)]
    weekday = at(0, days=1).weekday()
    services.calendar.create_rule(clinic.doctor, CreateRule(weekday, time(14), time(16)))
    assert entry(services, clinic, tomorrow.id)["status"] == "offered"
    assert [s for s, _ in holds_of(services, clinic.other_patient)] == [at(14, days=1)]


def test_a_patient_busy_at_the_freed_slot_is_passed_over(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    services.holds.place(clinic.other_patient, PlaceHold(clinic.other_doctor.doctor_id, at(10)))
    busy = wait(services, clinic.other_patient, clinic)
    also = wait(services, clinic.admin, clinic, patient_id=clinic.patient.patient_id)
    services.appointments.cancel(clinic.admin, booked.id)
    assert entry(services, clinic, busy.id)["status"] == "waiting"
    assert entry(services, clinic, also.id)["status"] == "offered"


def test_declining_an_offer_passes_it_on_and_ends_the_entry(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    first = wait(services, clinic.other_patient, clinic, at(10), at(10, 30))
    second = wait(
        services, clinic.admin, clinic, at(10), at(10, 30), patient_id=clinic.patient.patient_id
    )
    services.appointments.cancel(clinic.admin, booked.id)
    services.holds.release(clinic.other_patient, entry(services, clinic, first.id)["hold"])
    assert entry(services, clinic, first.id)["status"] == "expired"
    assert entry(services, clinic, second.id)["status"] == "offered"


def test_process_waitlist_passes_a_lapsed_offer_on_once(
    services: Services, clinic: Clinic, booked: Appointment, clock: FixedClock
) -> None:
    first = wait(services, clinic.other_patient, clinic, at(10), at(10, 30))
    second = wait(
        services, clinic.admin, clinic, at(10), at(10, 30), patient_id=clinic.patient.patient_id
    )
    services.appointments.cancel(clinic.admin, booked.id)
    assert services.waitlist.process().passed_on == 0  # nothing lapsed yet
    clock.advance(OFFER)
    assert entry(services, clinic, first.id)["status"] == "expired"  # lapsed, as read
    listed = {e["id"]: e["status"] for e in services.waitlist.list(clinic.admin, WIDE).items}
    assert listed == {first.id: "expired", second.id: "waiting"}
    report = services.waitlist.process()
    assert (report.passed_on, report.offered) == (1, 1)
    assert entry(services, clinic, first.id)["status"] == "expired"
    assert entry(services, clinic, second.id)["status"] == "offered"
    assert holds_of(services, clinic.patient) == [(at(10), clock.now() + OFFER)]
    assert services.waitlist.process().passed_on == 0  # idempotent
    clock.advance(OFFER)  # the second offer lapses too, with nobody waiting after it
    assert services.waitlist.process().purged_holds == 0  # passed on: its hold went then
    assert holds_of(services, clinic.admin) == []


def test_process_waitlist_expires_entries_whose_range_has_passed(
    services: Services, clinic: Clinic, clock: FixedClock
) -> None:
    soon = wait(services, clinic.patient, clinic, at(9), at(9, 30))
    later = wait(services, clinic.patient, clinic, at(9), at(12))
    clock.at = at(9, 30)
    statuses = lambda: [entry(services, clinic, e.id)["status"] for e in (soon, later)]  # noqa: E731
    assert statuses() == ["expired", "waiting"]  # as read at once; process writes it down
    assert services.waitlist.process().expired_ranges == 1
    assert [entry(services, clinic, e.id)["status"] for e in (soon, later)] == [
        "expired",
        "waiting",
    ]


def test_the_waitlist_is_checked_and_scoped(services: Services, clinic: Clinic) -> None:
    with pytest.raises(InPast):
        wait(services, clinic.patient, clinic, at(7), at(8))
    with pytest.raises(PermissionDenied):
        wait(services, clinic.patient, clinic, patient_id=clinic.other_patient.patient_id)
    with pytest.raises(PermissionDenied):
        wait(services, clinic.doctor, clinic)
    mine = wait(services, clinic.patient, clinic)
    theirs = wait(services, clinic.other_patient, clinic)
    listed = {
        name: [e["id"] for e in services.waitlist.list(actor, WIDE).items]
        for name, actor in clinic.roles.items()
    }
    assert listed == row([mine.id, theirs.id], [mine.id, theirs.id], [], [mine.id], [theirs.id])
    refusals = clinic.each_role(
        lambda actor: services.waitlist.leave(actor, theirs.id),
        ["doctor", "other_doctor", "patient", "other_patient"],
    )
    assert refusals == {
        "doctor": PermissionDenied,
        "other_doctor": NotFound,
        "patient": NotFound,
        "other_patient": "ok",
    }
    services.waitlist.leave(clinic.admin, mine.id)
    assert services.waitlist.list(clinic.admin, WIDE).items == []
