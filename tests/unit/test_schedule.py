"""The free-slot engine: aligned slots inside the windows, minus the busy time."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthcare.domain.errors import InvalidInput, InvalidTimeRange, NaiveDatetime
from healthcare.domain.slots import free_slots, search_range
from healthcare.domain.time import Interval
from tests.unit.cast import NOW, at

DAY = Interval(at(0), at(0, days=1))


def starts(
    windows: list[Interval],
    busy: list[Interval] = [],  # noqa: B006 - never mutated
    minutes: int = 30,
    within: Interval = DAY,
    not_before: datetime = NOW,
) -> list[datetime]:
    return [slot.start for slot in free_slots(within, windows, busy, minutes, not_before)]


def test_slots_are_aligned_to_the_window_start_and_a_partial_last_slot_is_dropped() -> None:
    assert starts([Interval(at(9, 10), at(10, 50))]) == [at(9, 10), at(9, 40), at(10, 10)]


def test_each_slot_lasts_one_appointment() -> None:
    slots = list(free_slots(DAY, [Interval(at(9), at(10))], [], 20, NOW))
    assert [(s.start, s.end) for s in slots] == [
        (at(9), at(9, 20)),
        (at(9, 20), at(9, 40)),
        (at(9, 40), at(10)),
    ]


def test_busy_time_removes_every_slot_it_touches_inside_but_not_the_neighbours() -> None:
    busy = [Interval(at(9, 15), at(9, 45)), Interval(at(11), at(11, 30))]
    assert starts([Interval(at(9), at(12))], busy) == [at(10), at(10, 30), at(11, 30)]


def test_slots_start_strictly_after_not_before() -> None:
    assert starts([Interval(at(9), at(11))], not_before=at(9, 30)) == [at(10), at(10, 30)]


def test_slots_lie_inside_the_searched_range() -> None:
    assert starts([Interval(at(9), at(12))], within=Interval(at(9, 45), at(11, 30))) == [
        at(10),
        at(10, 30),
        at(11),
    ]


def test_windows_in_any_order_give_slots_in_time_order() -> None:
    windows = [Interval(at(14), at(15)), Interval(at(9), at(10))]
    busy = [Interval(at(14), at(14, 30)), Interval(at(9, 30), at(10))]
    assert starts(windows, busy) == [at(9), at(14, 30)]


def test_a_long_busy_interval_hides_the_short_ones_it_covers() -> None:
    busy = [Interval(at(9), at(11)), Interval(at(9, 30), at(10))]
    assert starts([Interval(at(9), at(12))], busy) == [at(11), at(11, 30)]


@pytest.mark.parametrize("days", [1, 31])
def test_a_search_covers_up_to_31_days(days: int) -> None:
    assert search_range(at(0), at(0, days=days)).duration == timedelta(days=days)


def test_a_search_longer_than_31_days_is_refused() -> None:
    with pytest.raises(InvalidInput):
        search_range(at(0), at(0, days=31) + timedelta(minutes=1))


def test_a_search_must_end_after_it_starts_and_carry_offsets() -> None:
    with pytest.raises(InvalidTimeRange):
        search_range(at(10), at(9))
    with pytest.raises(NaiveDatetime):
        search_range(at(9).replace(tzinfo=None), at(10))


# -- properties ------------------------------------------------------------------------------

GRID = 5  # minutes


def quarter(n: int) -> datetime:
    return NOW + timedelta(minutes=GRID * n)


@st.composite
def schedules(draw: st.DrawFn, overlapping_windows: bool = False):
    """Windows (disjoint like a doctor's, unless asked), busy intervals, a range and a length."""
    cuts = sorted(draw(st.sets(st.integers(0, 300), min_size=0, max_size=10)))
    if overlapping_windows:
        windows = [
            Interval(quarter(a), quarter(a + b))
            for a, b in draw(
                st.lists(st.tuples(st.integers(0, 300), st.integers(1, 60)), max_size=5)
            )
        ]
    else:
        pairs = list(zip(cuts[::2], cuts[1::2], strict=False))
        windows = [Interval(quarter(a), quarter(b)) for a, b in pairs]
    busy = [
        Interval(quarter(a), quarter(a + b))
        for a, b in draw(st.lists(st.tuples(st.integers(0, 300), st.integers(1, 30)), max_size=8))
    ]
    low = draw(st.integers(0, 300))
    within = Interval(quarter(low), quarter(low + draw(st.integers(1, 300))))
    not_before = quarter(draw(st.integers(-10, 300)))
    minutes = GRID * draw(st.integers(1, 12))
    return within, windows, busy, minutes, not_before


def expected_slots(within, windows, busy, minutes, not_before) -> list[Interval]:
    """Brute force: every aligned slot of every window that satisfies each rule on its own."""
    length = timedelta(minutes=minutes)
    found = []
    for window in windows:
        start = window.start
        while start + length <= window.end:
            slot = Interval(start, start + length)
            if (
                within.contains(slot)
                and slot.start > not_before
                and not any(slot.overlaps(b) for b in busy)
            ):
                found.append(slot)
            start += length
    return sorted(found)


@given(schedules())
def test_free_slots_are_exactly_the_aligned_free_slots_inside_the_windows(schedule) -> None:
    within, windows, busy, minutes, not_before = schedule
    slots = list(free_slots(*schedule))
    assert slots == expected_slots(*schedule)
    for earlier, later in pairwise(slots):
        assert not earlier.overlaps(later)
    for slot in slots:
        assert any(w.contains(slot) for w in windows)
        assert within.contains(slot) and slot.start > not_before
        assert not any(slot.overlaps(b) for b in busy)
        assert slot.duration == timedelta(minutes=minutes)


@given(schedules(overlapping_windows=True))
def test_no_free_slot_is_busy_even_when_windows_overlap(schedule) -> None:
    _, _, busy, _, _ = schedule
    for slot in free_slots(*schedule):
        assert not any(slot.overlaps(b) for b in busy)
