"""Section 8's grid: bookings start where the slot search offers, on whole minutes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthcare.domain.errors import NotASlotStart, NotWholeMinutes
from healthcare.domain.slots import (
    free_slots,
    require_slot_start,
    require_whole_minutes,
)
from healthcare.domain.time import Interval
from tests.unit.cast import NOW, at

#: 09:00-10:45 (three and a half half-hours: the last half hour is no slot) and 13:10-14:10.
WINDOWS = [Interval(at(9), at(10, 45)), Interval(at(13, 10), at(14, 10))]


def nearest(start, windows=WINDOWS) -> list[str]:
    with pytest.raises(NotASlotStart) as refused:
        require_slot_start(start, windows, 30)
    return refused.value.errors["nearest"]


def test_a_windows_start_plus_whole_appointments_is_a_slot_start() -> None:
    for start in (at(9), at(9, 30), at(10), at(13, 10), at(13, 40)):
        require_slot_start(start, WINDOWS, 30)


def test_a_start_between_slot_starts_names_the_two_around_it() -> None:
    assert nearest(at(9, 7)) == ["2030-01-07T09:00:00Z", "2030-01-07T09:30:00Z"]


def test_a_start_whose_slot_would_not_fit_names_the_last_slot_start() -> None:
    assert nearest(at(10, 30), WINDOWS[:1]) == ["2030-01-07T10:00:00Z"]


def test_each_window_has_its_own_grid() -> None:
    assert nearest(at(13, 30)) == ["2030-01-07T13:10:00Z", "2030-01-07T13:40:00Z"]


def test_seconds_and_fractions_are_refused_for_everyone() -> None:
    require_whole_minutes(at(9, 1))
    for odd in (at(9).replace(second=1), at(9).replace(microsecond=1)):
        with pytest.raises(NotWholeMinutes):
            require_whole_minutes(odd)


@given(
    minutes=st.sampled_from([15, 20, 30, 45, 60]),
    offset=st.integers(0, 8 * 60),
    length=st.integers(30, 8 * 60),
)
def test_the_grid_is_exactly_the_starts_the_slot_search_walks(
    minutes: int, offset: int, length: int
) -> None:
    window = Interval(at(8) + timedelta(minutes=offset), at(8) + timedelta(minutes=offset + length))
    searched = {s.start for s in free_slots(window, [window], [], minutes, NOW - timedelta(days=1))}
    for step in range(0, length + 1, 5):
        start = window.start + timedelta(minutes=step)
        try:
            require_slot_start(start, [window], minutes)
            on_grid = True
        except NotASlotStart:
            on_grid = False
        assert on_grid == (start in searched)
