"""The booking policy: notice, horizon and the daily cap bind patients; the buffer binds all."""

from __future__ import annotations

from datetime import timedelta

import pytest

from healthcare.adapters.clock import FixedClock
from healthcare.adapters.security import Argon2PasswordHasher
from healthcare.application.commands import (
    BookAppointment,
    CreateAvailability,
    CreateException,
    UpdateAppointment,
    UpdatePolicy,
)
from healthcare.domain.actor import Actor
from healthcare.domain.errors import (
    BeyondHorizon,
    DailyLimitReached,
    InBlockedPeriod,
    NotASlotStart,
    InvalidInput,
    PermissionDenied,
    SlotUnavailable,
    TooShortNotice,
)
from healthcare.domain.policy import CLINIC_DEFAULTS
from tests.conftest import Storage
from tests.use_cases.clinic import Clinic, Services, at, outcome, row

#: The clinic's defaults as the settings give them: 2 h notice, 90 days, no buffer, no cap.
CLINIC = CLINIC_DEFAULTS


@pytest.fixture
def services(
    storage: Storage, clock: FixedClock, hasher: Argon2PasswordHasher
) -> Services:
    return Services.build(storage, clock, hasher, policy=CLINIC)


def book(services: Services, actor: Actor, clinic: Clinic, start, patient=None):
    command = BookAppointment(doctor_id=clinic.doctor.doctor_id, start=start, patient_id=patient)
    return services.appointments.book(actor, command)


def set_policy(services: Services, clinic: Clinic, **values: int | None) -> None:
    services.calendar.update_policy(clinic.admin, clinic.doctor.doctor_id, UpdatePolicy(**values))


def test_a_patient_books_at_least_the_minimum_notice_ahead(services: Services, clinic: Clinic) -> None:
    # The clock is at 08:00: 09:30 is too soon, 10:00 is exactly two hours ahead.
    with pytest.raises(TooShortNotice) as refused:
        book(services, clinic.patient, clinic, at(9, 30))
    assert "2030-01-07T10:00:00Z" in refused.value.message
    assert "datetime" in refused.value.errors
    book(services, clinic.patient, clinic, at(10))


def test_the_front_desk_may_book_a_walk_in_inside_the_notice(
    services: Services, clinic: Clinic
) -> None:
    walk_in = book(services, clinic.admin, clinic, at(9), patient=clinic.patient.patient_id)
    assert walk_in.is_active


def test_a_patient_books_no_further_ahead_than_the_horizon(
    services: Services, clinic: Clinic
) -> None:
    far = at(9, days=91)
    services.availability.create(clinic.doctor, CreateAvailability(start=far, end=far + timedelta(hours=3)))
    with pytest.raises(BeyondHorizon):
        book(services, clinic.patient, clinic, far)
    assert book(services, clinic.admin, clinic, far, patient=clinic.patient.patient_id).is_active
    set_policy(services, clinic, horizon_days=120)
    book(services, clinic.patient, clinic, far + timedelta(minutes=30))


def test_a_doctors_planning_horizon_runs_from_now_to_the_latest_bookable_start(
    services: Services, clinic: Clinic, clock: FixedClock
) -> None:
    doctors = [clinic.doctor.doctor_id, clinic.other_doctor.doctor_id]
    set_policy(services, clinic, horizon_days=120)
    horizons = services.calendar.planning_horizons(clinic.patient, [*doctors, 999])
    assert set(horizons) == set(doctors)  # an unknown doctor has none
    assert horizons[clinic.doctor.doctor_id].start == clock.now()
    assert horizons[clinic.doctor.doctor_id].end == clock.now() + timedelta(days=120)
    assert horizons[clinic.other_doctor.doctor_id].end == clock.now() + CLINIC.horizon


def test_the_buffer_after_an_appointment_binds_everyone_and_hides_the_slot(
    services: Services, clinic: Clinic
) -> None:
    set_policy(services, clinic, buffer_minutes=15)
    book(services, clinic.patient, clinic, at(10))  # busy until 10:45 with the buffer

    with pytest.raises(SlotUnavailable):
        book(services, clinic.admin, clinic, at(10, 30), patient=clinic.other_patient.patient_id)
    with pytest.raises(SlotUnavailable):  # its own buffer would run into the 10:00 booking
        book(services, clinic.admin, clinic, at(9, 30), patient=clinic.other_patient.patient_id)
    _, slots = services.slots.for_doctor(clinic.admin, clinic.doctor.doctor_id, at(0), at(23))
    assert [s.start for s in slots] == [at(9), at(11), at(11, 30)]
    book(services, clinic.other_patient, clinic, at(11))


def test_the_daily_cap_counts_the_doctors_active_appointments_of_the_local_day(
    services: Services, clinic: Clinic
) -> None:
    set_policy(services, clinic, max_per_day=2)
    first = book(services, clinic.patient, clinic, at(10))
    book(services, clinic.other_patient, clinic, at(11))
    with pytest.raises(DailyLimitReached):
        book(services, clinic.patient, clinic, at(11, 30))
    _, slots = services.slots.for_doctor(clinic.patient, clinic.doctor.doctor_id, at(0), at(23))
    assert slots == []
    override = book(services, clinic.admin, clinic, at(11, 30), patient=clinic.patient.patient_id)
    services.appointments.cancel(clinic.patient, first.id)
    services.appointments.cancel(clinic.admin, override.id)
    book(services, clinic.patient, clinic, at(10, 30))


def test_a_booking_breaking_several_rules_hears_of_the_first_one_broken(
    services: Services, clinic: Clinic
) -> None:
    """The calendar (blocked periods, then the grid), then notice and horizon, then the daily
    cap, and only then the overlap the storage refuses when the booking is written."""
    set_policy(services, clinic, max_per_day=1)
    services.calendar.create_exception(clinic.doctor, CreateException(at(9), at(9, 30), "Away"))
    book(services, clinic.patient, clinic, at(10))
    attempts = {
        "blocked and too soon": (at(9), InBlockedPeriod),
        "off the grid, too soon and onto the booking": (at(9, 45), NotASlotStart),
        "too soon": (at(9, 30), TooShortNotice),
        "over the cap and onto the booking": (at(10), DailyLimitReached),
        "over the cap": (at(11), DailyLimitReached),
    }
    outcomes = {
        name: outcome(lambda s=start: book(services, clinic.other_patient, clinic, s))
        for name, (start, _) in attempts.items()
    }
    assert outcomes == {name: refusal for name, (_, refusal) in attempts.items()}


def test_rescheduling_by_a_patient_keeps_to_the_policy(services: Services, clinic: Clinic) -> None:
    booked = book(services, clinic.patient, clinic, at(11))
    with pytest.raises(TooShortNotice):
        services.appointments.update(clinic.patient, booked.id, UpdateAppointment(start=at(9)))
    moved = services.appointments.update(clinic.admin, booked.id, UpdateAppointment(start=at(9)))
    assert moved.start == at(9)


def test_a_cancellation_inside_the_cut_off_is_allowed_but_recorded_as_late(
    services: Services, clinic: Clinic, clock: FixedClock
) -> None:
    services.availability.create(
        clinic.doctor, CreateAvailability(start=at(9, days=2), end=at(12, days=2))
    )
    soon = book(services, clinic.patient, clinic, at(10))
    later = book(services, clinic.patient, clinic, at(10, days=2))
    assert services.appointments.cancel(clinic.patient, soon.id).late_cancellation
    assert not services.appointments.cancel(clinic.patient, later.id).late_cancellation
    assert services.appointments.get(clinic.patient, soon.id)["late_cancellation"]


def test_only_admins_set_a_doctors_policy_and_null_goes_back_to_the_clinics(
    services: Services, clinic: Clinic
) -> None:
    doctor_id = clinic.doctor.doctor_id
    change = UpdatePolicy(min_notice_minutes=0, buffer_minutes=10)
    assert clinic.each_role(
        lambda actor: services.calendar.update_policy(actor, doctor_id, change)
    ) == row("ok", PermissionDenied, PermissionDenied, PermissionDenied, PermissionDenied)
    own, effective = services.calendar.policy_of(clinic.patient, doctor_id)
    assert (own.min_notice_minutes, own.horizon_days, effective.buffer) == (0, None, timedelta(minutes=10))
    assert effective.horizon == CLINIC.horizon
    book(services, clinic.patient, clinic, at(9))  # no notice for this doctor now
    own, effective = services.calendar.update_policy(
        clinic.admin, doctor_id, UpdatePolicy(min_notice_minutes=None)
    )
    assert own.min_notice_minutes is None and effective.min_notice == CLINIC.min_notice
    with pytest.raises(InvalidInput):
        services.calendar.update_policy(clinic.admin, doctor_id, UpdatePolicy(max_per_day=0))
