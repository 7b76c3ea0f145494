"""Booking rules 1-5 of SPEC section 3, as the domain states them."""

from __future__ import annotations

from datetime import datetime

import pytest

from healthcare.domain.actor import Actor
from healthcare.domain.appointments import (
    check_bookable,
    require_initial_status,
    slot_for,
    who_is_booked_for,
)
from healthcare.domain.errors import (
    InPast,
    InvalidInput,
    NaiveDatetime,
    OutsideAvailability,
    PermissionDenied,
)
from healthcare.domain.time import Interval
from healthcare.domain.users import Role
from tests.unit.cast import ADMIN, DOCTOR, NOW, PATIENT, at

WINDOWS = [Interval(at(9), at(12)), Interval(at(13), at(17))]


def book(start: datetime, *, now: datetime = NOW) -> None:
    check_bookable(slot_for(start, 30), now, WINDOWS)


# -- rule 1: in the future ----------------------------------------------------------------------


def test_an_appointment_starting_in_the_past_is_refused() -> None:
    with pytest.raises(InPast):
        book(at(9), now=at(9, 1))


def test_an_appointment_starting_exactly_now_is_refused() -> None:
    with pytest.raises(InPast):
        book(at(9), now=at(9))


def test_an_appointment_starting_a_minute_from_now_is_bookable() -> None:
    book(at(9), now=at(8, 59))


# -- rule 2: inside one window ------------------------------------------------------------------


def test_the_slot_lasts_the_doctors_appointment_length() -> None:
    assert slot_for(at(9), 45) == Interval(at(9), at(9, 45))


def test_a_slot_refuses_a_naive_start() -> None:
    with pytest.raises(NaiveDatetime):
        slot_for(at(9).replace(tzinfo=None), 30)


@pytest.mark.parametrize("start", [at(9), at(11, 30), at(13), at(16, 30)])
def test_an_appointment_inside_a_window_is_bookable_even_ending_at_its_end(start: datetime) -> None:
    book(start)


@pytest.mark.parametrize(
    "start",
    [at(8, 59), at(11, 31), at(12), at(12, 45), at(16, 31), at(9, days=1)],
    ids=[
        "a-minute-early",
        "a-minute-past-the-end",
        "between-windows",
        "spans-two-windows",
        "a-minute-past-the-last",
        "another-day",
    ],
)
def test_an_appointment_not_inside_one_window_is_refused(start: datetime) -> None:
    with pytest.raises(OutsideAvailability):
        book(start)


def test_an_appointment_spanning_two_touching_windows_is_refused() -> None:
    with pytest.raises(OutsideAvailability):
        check_bookable(
            slot_for(at(9, 45), 30),
            NOW,
            [Interval(at(9), at(10)), Interval(at(10), at(11))],
        )


def test_a_doctor_without_windows_is_never_bookable() -> None:
    with pytest.raises(OutsideAvailability):
        check_bookable(slot_for(at(9), 30), NOW, [])


# -- rule 3: no double booking ------------------------------------------------------------------
# The storage's guarantee, checked when the booking is written: tests/use_cases/test_booking.py.


# -- rule 4: who it is for ----------------------------------------------------------------------


@pytest.mark.parametrize("requested", [None, PATIENT.patient_id])
def test_a_patient_books_for_themself_whether_or_not_they_name_themself(
    requested: int | None,
) -> None:
    assert who_is_booked_for(PATIENT, requested) == PATIENT.patient_id


def test_a_patient_naming_anyone_else_is_refused() -> None:
    with pytest.raises(PermissionDenied):
        who_is_booked_for(PATIENT, PATIENT.patient_id + 1)


def test_a_patient_account_without_a_profile_cannot_book() -> None:
    with pytest.raises(PermissionDenied):
        who_is_booked_for(Actor(user_id=9, role=Role.PATIENT), None)


def test_an_admin_books_for_the_patient_they_name() -> None:
    assert who_is_booked_for(ADMIN, 77) == 77


def test_an_admin_must_name_the_patient() -> None:
    with pytest.raises(InvalidInput):
        who_is_booked_for(ADMIN, None)


@pytest.mark.parametrize("requested", [None, PATIENT.patient_id])
def test_a_doctor_does_not_book(requested: int | None) -> None:
    with pytest.raises(PermissionDenied):
        who_is_booked_for(DOCTOR, requested)


# -- rule 5: a new appointment is pending -------------------------------------------------------


@pytest.mark.parametrize("status", [None, "pending"])
def test_a_new_appointment_may_say_pending_or_nothing(status: str | None) -> None:
    require_initial_status(status)


@pytest.mark.parametrize(
    "status", ["confirmed", "completed", "cancelled", "no_show", "PENDING", ""]
)
def test_a_new_appointment_in_any_other_status_is_refused(status: str) -> None:
    with pytest.raises(InvalidInput):
        require_initial_status(status)
