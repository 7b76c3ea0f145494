"""Holds (SPEC section 8): a slot kept for a patient while they finish booking, on every
storage backend."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from healthcare.adapters.clock import FixedClock
from healthcare.application.commands import (
    BookAppointment,
    JoinWaitlist,
    PlaceHold,
    WriteMedicalRecord,
)
from healthcare.application.services import HoldService
from healthcare.domain.actor import Actor
from healthcare.domain.appointments import Appointment, Status
from healthcare.domain.errors import (
    HoldExpired,
    IdempotencyKeyReused,
    InPast,
    NotASlotStart,
    NotFound,
    PatientDoubleBooked,
    PermissionDenied,
    SlotUnavailable,
    TooManyHolds,
)
from healthcare.domain.feeds import FeedOwner
from healthcare.domain.time import Interval
from tests.use_cases.clinic import WIDE, Clinic, Services, at, ids, outcome, row

TEN_MINUTES = timedelta(minutes=10)


def hold(
    services: Services, clinic: Clinic, start: datetime, by: str = "patient", **fields
) -> Appointment:
    command = PlaceHold(doctor_id=clinic.doctor.doctor_id, start=start, **fields)
    return services.holds.place(clinic.roles[by], command)


def book(services: Services, clinic: Clinic, start: datetime, by: str = "other_patient", **fields):
    command = BookAppointment(doctor_id=clinic.doctor.doctor_id, start=start, **fields)
    return services.appointments.book(clinic.roles[by], command)


def free(services: Services, clinic: Clinic, actor: Actor) -> list[datetime]:
    _, slots = services.slots.for_doctor(actor, clinic.doctor.doctor_id, at(9), at(12))
    return [slot.start for slot in slots]


def held_ids(services: Services, actor: Actor) -> list[int]:
    return ids(services.holds.list(actor, WIDE))


def test_a_held_slot_is_taken_for_everyone_else_and_left_out_of_slot_searches(
    services: Services, clinic: Clinic
) -> None:
    kept = hold(services, clinic, at(10))
    assert (kept.start, kept.end, kept.hold_expires_at) == (at(10), at(10, 30), at(8) + TEN_MINUTES)
    assert outcome(lambda: book(services, clinic, at(10))) is SlotUnavailable
    assert outcome(lambda: hold(services, clinic, at(10), by="other_patient")) is SlotUnavailable
    admin_booking = {"by": "admin", "patient_id": clinic.other_patient.patient_id}
    assert outcome(lambda: book(services, clinic, at(10), **admin_booking)) is SlotUnavailable
    for actor in (clinic.patient, clinic.other_patient, clinic.admin):
        assert at(10) not in free(services, clinic, actor)
        assert at(10, 30) in free(services, clinic, actor)


def test_a_hold_is_checked_like_a_booking(services: Services, clinic: Clinic) -> None:
    attempts = {
        "off the grid": (lambda: hold(services, clinic, at(10, 10)), NotASlotStart),
        "in the past": (lambda: hold(services, clinic, at(7)), InPast),
        "for another patient": (
            lambda: hold(services, clinic, at(10), patient_id=clinic.other_patient.patient_id),
            PermissionDenied,
        ),
        "by a doctor": (lambda: hold(services, clinic, at(10), by="doctor"), PermissionDenied),
    }
    assert {name: outcome(call) for name, (call, _) in attempts.items()} == {
        name: refusal for name, (_, refusal) in attempts.items()
    }
    assert held_ids(services, clinic.admin) == []


def test_a_patient_keeps_at_most_two_holds_at_once(services: Services, clinic: Clinic) -> None:
    hold(services, clinic, at(9))
    second = hold(services, clinic, at(9, 30))
    with pytest.raises(TooManyHolds):
        hold(services, clinic, at(10))
    services.holds.release(clinic.patient, second.id)
    hold(services, clinic, at(10))


def test_a_hold_keeps_the_patient_busy_too(services: Services, clinic: Clinic) -> None:
    hold(services, clinic, at(10))
    with pytest.raises(PatientDoubleBooked):
        services.appointments.book(
            clinic.patient, BookAppointment(doctor_id=clinic.other_doctor.doctor_id, start=at(10))
        )


def test_an_expired_hold_blocks_nothing_with_no_job_running(
    services: Services, clinic: Clinic, clock: FixedClock
) -> None:
    kept = hold(services, clinic, at(10))
    clock.advance(TEN_MINUTES)  # exactly its expiry: over
    assert held_ids(services, clinic.patient) == []
    assert at(10) in free(services, clinic, clinic.other_patient)
    assert book(services, clinic, at(10)).start == at(10)  # the expired hold makes way
    with pytest.raises(NotFound):
        services.holds.book(clinic.patient, kept.id)


def test_an_expired_hold_no_longer_keeps_the_patient_busy(
    services: Services, clinic: Clinic, clock: FixedClock
) -> None:
    hold(services, clinic, at(10))
    clock.advance(TEN_MINUTES)
    services.appointments.book(
        clinic.patient, BookAppointment(doctor_id=clinic.other_doctor.doctor_id, start=at(10))
    )
    hold(services, clinic, at(11))  # and counts no more against the two


def test_process_waitlist_removes_expired_holds_and_only_them(
    services: Services, clinic: Clinic, clock: FixedClock, uow_factory
) -> None:
    hold(services, clinic, at(10))
    clock.advance(TEN_MINUTES)
    live = hold(services, clinic, at(11))
    assert services.waitlist.process().purged_holds == 1
    with uow_factory() as uow:
        assert uow.appointments.get(live.id) is not None


def test_a_hold_booked_meanwhile_is_not_deleted_as_a_hold(
    services: Services, clinic: Clinic, uow_factory
) -> None:
    """A lapsed offer passed on, or a release, racing the booking of the same hold: the
    deletion is conditional, so the appointment the hold became stays."""
    kept = hold(services, clinic, at(10))
    services.holds.book(clinic.patient, kept.id)
    with uow_factory() as uow:
        assert uow.appointments.delete_hold(kept.id) is False
        uow.commit()
    assert services.appointments.get(clinic.patient, kept.id)["status"] == "pending"


def test_booking_an_expired_hold_is_a_conflict(
    services: Services, clinic: Clinic, clock: FixedClock
) -> None:
    kept = hold(services, clinic, at(10))
    clock.advance(TEN_MINUTES)
    with pytest.raises(HoldExpired):
        services.holds.book(clinic.patient, kept.id)


def test_booking_a_hold_makes_it_the_pending_appointment_at_its_slot(
    services: Services, clinic: Clinic, clock: FixedClock
) -> None:
    kept = hold(services, clinic, at(10))
    assert services.appointments.list(clinic.admin, WIDE).items == []
    clock.advance(timedelta(minutes=9))
    booked = services.holds.book(clinic.patient, kept.id, "Checkup")
    assert (booked.id, booked.start, booked.end, booked.status) == (
        kept.id,
        at(10),
        at(10, 30),
        Status.PENDING,
    )
    assert (booked.reason, booked.created_at) == ("Checkup", clock.now())
    assert services.appointments.get(clinic.patient, booked.id)["status"] == "pending"
    assert held_ids(services, clinic.patient) == []
    with pytest.raises(NotFound):  # used up
        services.holds.book(clinic.patient, kept.id)
    services.appointments.cancel(clinic.patient, booked.id)  # an appointment like any other


def test_booking_a_hold_with_an_idempotency_key_books_once(
    services: Services, clinic: Clinic
) -> None:
    kept = hold(services, clinic, at(10))
    first = services.holds.book(clinic.patient, kept.id, "Checkup", idempotency_key="k-1")
    again = services.holds.book(clinic.patient, kept.id, "Checkup", idempotency_key="k-1")
    assert again.id == first.id
    with pytest.raises(IdempotencyKeyReused):
        services.holds.book(clinic.patient, kept.id, "Other", idempotency_key="k-1")


def test_placing_a_hold_and_joining_the_waitlist_with_an_idempotency_key_makes_one(
    services: Services, clinic: Clinic
) -> None:
    command = PlaceHold(doctor_id=clinic.doctor.doctor_id, start=at(10))
    first = services.holds.place(clinic.patient, command, idempotency_key="h-1")
    assert services.holds.place(clinic.patient, command, idempotency_key="h-1").id == first.id
    assert held_ids(services, clinic.patient) == [first.id]
    with pytest.raises(IdempotencyKeyReused):
        services.holds.place(clinic.patient, PlaceHold(clinic.doctor.doctor_id, at(11)), "h-1")
    join = JoinWaitlist(clinic.doctor.doctor_id, at(9), at(12))
    entry = services.waitlist.join(clinic.patient, join, idempotency_key="w-1")
    assert services.waitlist.join(clinic.patient, join, idempotency_key="w-1").id == entry.id
    assert len(services.waitlist.list(clinic.patient, WIDE).items) == 1


def test_a_hold_is_its_patients_and_the_front_desks(services: Services, clinic: Clinic) -> None:
    def tried(verb: str):
        def attempt(actor: Actor) -> object:
            kept = hold(services, clinic, at(10))
            try:
                if verb == "book":
                    booked = services.holds.book(actor, kept.id)
                    services.appointments.cancel(clinic.admin, booked.id)
                    return booked
                return services.holds.release(actor, kept.id)
            finally:  # a refused role's hold goes back, for the next role
                outcome(lambda: services.holds.release(clinic.admin, kept.id))

        return attempt

    for verb in ("book", "release"):
        assert clinic.each_role(tried(verb)) == row("ok", NotFound, NotFound, "ok", NotFound)


def test_each_role_lists_its_own_live_holds(services: Services, clinic: Clinic) -> None:
    mine = hold(services, clinic, at(9))
    theirs = hold(services, clinic, at(10), by="other_patient")
    assert held_ids(services, clinic.patient) == [mine.id]
    assert held_ids(services, clinic.other_patient) == [theirs.id]
    assert held_ids(services, clinic.admin) == [mine.id, theirs.id]
    assert held_ids(services, clinic.doctor) == []


def test_a_hold_is_no_appointment_anywhere(services: Services, clinic: Clinic) -> None:
    kept = hold(services, clinic, at(10))
    for actor in (clinic.admin, clinic.doctor, clinic.patient):
        assert services.appointments.list(actor, WIDE).items == []
        with pytest.raises(NotFound):
            services.appointments.get(actor, kept.id)
        with pytest.raises(NotFound):
            services.appointments.cancel(actor, kept.id)
    # The doctor does not come to treat the patient by a hold.
    assert services.patients.list(clinic.doctor, WIDE).items == []


def test_a_hold_is_in_no_feed_nor_reminder_and_takes_no_record(
    services: Services, clinic: Clinic, uow_factory
) -> None:
    kept = hold(services, clinic, at(10))
    day, doctor_id, patient_id = Interval(at(0), at(23)), clinic.doctor.doctor_id, kept.patient_id
    with uow_factory() as uow:
        assert uow.appointments.active_starting_between(day.start, day.end) == []
        assert uow.appointments.active_overlapping(day, doctor_id=doctor_id) == []
        assert not uow.appointments.exists_between(doctor_id, patient_id)
        for owner, profile in ((FeedOwner.DOCTOR, doctor_id), (FeedOwner.PATIENT, patient_id)):
            assert uow.calendar_feeds.entries(owner, profile, day.start, day.end) == []
    with pytest.raises(NotFound):
        services.records.create(clinic.doctor, WriteMedicalRecord(kept.id, "Hypertension"))


def test_releasing_a_hold_frees_its_slot(services: Services, clinic: Clinic) -> None:
    kept = hold(services, clinic, at(10))
    services.holds.release(clinic.patient, kept.id)
    assert book(services, clinic, at(10)).start == at(10)
    with pytest.raises(NotFound):
        services.holds.release(clinic.patient, kept.id)


def test_the_hold_settings_are_the_services(storage, clock: FixedClock) -> None:
    service = HoldService(storage.uow_factory, clock, storage.read_model, hold_minutes=3)
    assert service.lasts == timedelta(minutes=3)
