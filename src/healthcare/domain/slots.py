"""Free-slot search: one pass over sorted windows and sorted busy intervals."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from healthcare.domain.errors import InvalidInput, NotASlotStart, NotWholeMinutes
from healthcare.domain.time import Interval, wire_text

MAX_SEARCH = timedelta(days=31)


def search_range(start: datetime, end: datetime) -> Interval:
    """The range a slot search covers: ordered, aware, and at most 31 days."""
    interval = Interval(start, end)
    if interval.duration > MAX_SEARCH:
        raise InvalidInput(
            "A slot search covers at most 31 days.", {"end": ["At most 31 days after start."]}
        )
    return interval


def require_whole_minutes(start: datetime) -> None:
    """Every booking (an admin's too) starts on a whole minute."""
    if start.second or start.microsecond:
        raise NotWholeMinutes()


def require_slot_start(
    start: datetime, windows: Iterable[Interval], appointment_minutes: int
) -> None:
    """Section 8's grid: ``start`` is a window's start plus a whole number of appointments, the
    slot fitting in that window: exactly the starts ``free_slots`` walks. Otherwise
    ``NotASlotStart`` names the nearest grid starts (busy or not)."""
    length = timedelta(minutes=appointment_minutes)
    nearest: set[datetime] = set()
    for window in windows:
        last = (window.duration - length) // length  # the index of the last slot that fits
        if last < 0:
            continue
        offset = start - window.start
        if offset >= timedelta(0) and offset % length == timedelta(0) and offset // length <= last:
            return
        below = min(max(offset // length, 0), last)
        nearest.update(window.start + k * length for k in {below, min(below + 1, last)})
    closest = sorted(sorted(nearest, key=lambda s: abs(s - start))[:2])
    raise NotASlotStart([wire_text(s) for s in closest])


def free_slots(
    within: Interval,
    windows: Iterable[Interval],
    busy: Iterable[Interval],
    appointment_minutes: int,
    not_before: datetime,
    *,
    blocked: Iterable[Interval] = (),
    buffer: timedelta = timedelta(0),
) -> Iterator[Interval]:
    """Slots aligned to each window's start, inside ``within``, starting after ``not_before``.

    A slot and the ``buffer`` after it overlap nothing in ``busy`` (the doctor's appointments
    with their own buffers); the slot itself overlaps nothing in ``blocked`` (blocked periods,
    the patient's other appointments). Every list may come in any order.
    """
    length = timedelta(minutes=appointment_minutes)
    busy_sorted, blocked_sorted = _Sorted(busy), _Sorted(blocked)
    for window in sorted(windows):
        # Slots only move forward within a window; a later window may start before the last
        # slot of an earlier one when windows overlap, so the scans restart for each window,
        # each from the first interval that could reach into it.
        busy_scan, blocked_scan = busy_sorted.scan(window.start), blocked_sorted.scan(window.start)
        start = window.start
        while start + length <= window.end:
            slot = Interval(start, start + length)
            start += length
            if slot.start < within.start or slot.end > within.end or slot.start <= not_before:
                continue
            if busy_scan.hits(slot.start, slot.end + buffer) or blocked_scan.hits(
                slot.start, slot.end
            ):
                continue
            yield slot


class _Sorted:
    """Intervals sorted by start, with the longest duration among them."""

    def __init__(self, intervals: Iterable[Interval]) -> None:
        self.intervals = sorted(intervals)
        self.starts = [interval.start for interval in self.intervals]
        self.longest = max((i.duration for i in self.intervals), default=timedelta(0))

    def scan(self, start: datetime) -> _Scan:
        """A scan for queries starting at or after ``start``. An interval that starts more than
        the longest duration before ``start`` ends before it: the scan begins after those."""
        return _Scan(self.intervals, bisect_left(self.starts, start - self.longest))


class _Scan:
    """A forward-only look-up in intervals sorted by start, for queries that move forward."""

    def __init__(self, intervals: list[Interval], cursor: int) -> None:
        self.intervals = intervals
        self.cursor = cursor  # intervals before this index end before the current query

    def hits(self, start: datetime, end: datetime) -> bool:
        intervals = self.intervals
        while self.cursor < len(intervals) and intervals[self.cursor].end <= start:
            self.cursor += 1
        for index in range(self.cursor, len(intervals)):  # no slice: no copy per query
            if intervals[index].start >= end:
                return False
            if intervals[index].end > start:
                return True
        return False
