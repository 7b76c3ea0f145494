"""Free-slot search: one pass over sorted windows and sorted busy intervals."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from healthcare.domain.errors import InvalidInput
from healthcare.domain.time import Interval

MAX_SEARCH = timedelta(days=31)


def search_range(start: datetime, end: datetime) -> Interval:
    """The range a slot search covers: ordered, aware, and at most 31 days."""
    interval = Interval(start, end)
    if interval.duration > MAX_SEARCH:
        raise InvalidInput(
            "A slot search covers at most 31 days.", {"end": ["At most 31 days after start."]}
        )
    return interval


def free_slots(
    within: Interval,
    windows: Iterable[Interval],
    busy: Iterable[Interval],
    appointment_minutes: int,
    not_before: datetime,
) -> Iterator[Interval]:
    """Slots aligned to each window's start, inside ``within``, starting after ``not_before``,
    overlapping nothing in ``busy``. Windows and busy intervals may come in any order."""
    length = timedelta(minutes=appointment_minutes)
    busy_sorted = sorted(busy)
    for window in sorted(windows):
        # Slots only move forward within a window; a later window may start before the last
        # slot of an earlier one when windows overlap, so the scan restarts for each window.
        cursor = 0  # busy intervals before this index end before the current slot
        start = window.start
        while start + length <= window.end:
            slot = Interval(start, start + length)
            start += length
            if slot.start < within.start or slot.end > within.end or slot.start <= not_before:
                continue
            while cursor < len(busy_sorted) and busy_sorted[cursor].end <= slot.start:
                cursor += 1
            if any(b.overlaps(slot) for b in _upcoming(busy_sorted, cursor, slot.end)):
                continue
            yield slot


def _upcoming(busy: list[Interval], cursor: int, until: datetime) -> Iterator[Interval]:
    for interval in busy[cursor:]:
        if interval.start >= until:
            return
        yield interval
