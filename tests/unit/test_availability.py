"""Availability windows: valid on their own, never overlapping, never stranding a booking."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from healthcare.domain.availability import (
    ensure_no_overlap,
    ensure_still_covered,
    validate_window,
)
from healthcare.domain.errors import (
    AvailabilityInUse,
    InPast,
    InvalidTimeRange,
    NaiveDatetime,
    OverlappingAvailability,
)
from healthcare.domain.time import Interval
from tests.factories import AvailabilityFactory
from tests.unit.cast import NOW, at

THIRTY = 30


def window(start: datetime, length: timedelta) -> Interval:
    return Interval(start, start + length)


@pytest.mark.parametrize(
    ("length", "refused"),
    [
        (timedelta(minutes=29), InvalidTimeRange),  # shorter than one appointment
        (timedelta(minutes=30), None),  # exactly one appointment
        (timedelta(hours=24), None),  # exactly a day
        (timedelta(hours=24, minutes=1), InvalidTimeRange),  # more than a day
    ],
    ids=["one-appointment-minus-a-minute", "one-appointment", "24h", "24h-plus-a-minute"],
)
def test_a_window_holds_at_least_one_appointment_and_lasts_at_most_a_day(
    length: timedelta, refused: type[Exception] | None
) -> None:
    candidate = window(at(9, days=1), length)
    if refused is None:
        validate_window(candidate, THIRTY, NOW)
    else:
        with pytest.raises(refused):
            validate_window(candidate, THIRTY, NOW)


def test_the_minimum_length_follows_the_doctors_appointment_length() -> None:
    validate_window(window(at(9), timedelta(minutes=15)), 15, NOW)
    with pytest.raises(InvalidTimeRange):
        validate_window(window(at(9), timedelta(minutes=15)), 20, NOW)


def test_a_window_starting_in_the_past_is_refused() -> None:
    with pytest.raises(InPast):
        validate_window(window(NOW - timedelta(minutes=1), timedelta(hours=2)), THIRTY, NOW)


def test_a_window_starting_right_now_is_allowed() -> None:
    validate_window(window(NOW, timedelta(hours=2)), THIRTY, NOW)


def test_without_a_new_start_a_window_under_way_may_still_change_its_end() -> None:
    validate_window(window(NOW - timedelta(hours=1), timedelta(hours=3)), THIRTY, None)


def test_an_availability_must_end_after_it_starts_and_carry_offsets() -> None:
    with pytest.raises(InvalidTimeRange):
        AvailabilityFactory(start=at(10), end=at(9))
    with pytest.raises(NaiveDatetime):
        AvailabilityFactory(start=at(9).replace(tzinfo=None), end=at(10))
    assert AvailabilityFactory(start=at(9), end=at(10)).interval == Interval(at(9), at(10))


EXISTING = AvailabilityFactory(doctor_id=1, start=at(9), end=at(12), id=1)


@pytest.mark.parametrize(
    "candidate",
    [Interval(at(7), at(9)), Interval(at(12), at(14))],
    ids=["touching-before", "touching-after"],
)
def test_touching_windows_do_not_overlap(candidate: Interval) -> None:
    ensure_no_overlap(candidate, [EXISTING])


@pytest.mark.parametrize(
    "candidate",
    [
        Interval(at(7), at(9, 1)),
        Interval(at(11, 59), at(14)),
        Interval(at(10), at(11)),
        Interval(at(8), at(13)),
    ],
    ids=["one-minute-at-the-start", "one-minute-at-the-end", "inside", "around"],
)
def test_a_window_overlapping_another_of_the_doctor_is_refused(candidate: Interval) -> None:
    with pytest.raises(OverlappingAvailability):
        ensure_no_overlap(candidate, [EXISTING])


def test_a_doctor_with_no_other_windows_has_nothing_to_overlap() -> None:
    ensure_no_overlap(Interval(at(9), at(12)), [])


@pytest.mark.parametrize(
    "appointments",
    [
        [],
        [Interval(at(9), at(9, 30))],
        [Interval(at(11, 30), at(12)), Interval(at(13), at(13, 30))],
    ],
    ids=["none", "at-the-start", "one-in-each-window"],
)
def test_a_change_that_keeps_every_appointment_inside_a_window_is_allowed(
    appointments: list[Interval],
) -> None:
    ensure_still_covered([Interval(at(9), at(12)), Interval(at(13), at(14))], appointments)


@pytest.mark.parametrize(
    ("windows", "appointment"),
    [
        ([], Interval(at(9), at(9, 30))),  # the only window is deleted
        ([Interval(at(9), at(11))], Interval(at(11), at(11, 30))),  # shrunk in front of it
        ([Interval(at(9), at(11, 15))], Interval(at(11), at(11, 30))),  # cut through it
        ([Interval(at(9), at(11, 15)), Interval(at(11, 15), at(12))], Interval(at(11), at(11, 30))),
    ],
    ids=["deleted", "shrunk-before", "cut-through", "split-across-touching-windows"],
)
def test_a_change_that_strands_an_active_appointment_is_refused(
    windows: list[Interval], appointment: Interval
) -> None:
    with pytest.raises(AvailabilityInUse):
        ensure_still_covered(windows, [appointment])
