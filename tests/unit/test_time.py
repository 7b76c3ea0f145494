"""Time values: aware instants in UTC and half-open intervals."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthcare.domain.errors import InvalidInput, InvalidTimeRange, NaiveDatetime
from healthcare.domain.time import Interval, require_aware, zone
from tests.unit.cast import NOW, at

NAIVE = datetime(2030, 1, 7, 9, 0)


def test_a_naive_datetime_is_refused_and_names_its_field() -> None:
    with pytest.raises(NaiveDatetime) as refused:
        require_aware(NAIVE, "start_time")
    assert refused.value.errors == {"start_time": ["Datetime must carry a UTC offset."]}


def test_an_aware_datetime_is_returned_in_utc_as_the_same_instant() -> None:
    berlin_morning = datetime(2030, 1, 7, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    utc = require_aware(berlin_morning)
    assert utc == at(8)
    assert utc.utcoffset() == timedelta(0)


@pytest.mark.parametrize("field", ["start", "end"])
def test_an_interval_refuses_a_naive_bound(field: str) -> None:
    bounds = {"start": at(9), "end": at(10)}
    bounds[field] = bounds[field].replace(tzinfo=None)
    with pytest.raises(NaiveDatetime):
        Interval(**bounds)


@pytest.mark.parametrize("end", [at(9), at(8, 59)], ids=["empty", "reversed"])
def test_an_interval_must_end_after_it_starts(end: datetime) -> None:
    with pytest.raises(InvalidTimeRange):
        Interval(at(9), end)


def test_an_interval_is_stored_in_utc() -> None:
    plus_five = timezone(timedelta(hours=5))
    interval = Interval(
        datetime(2030, 1, 7, 14, tzinfo=plus_five), datetime(2030, 1, 7, 15, tzinfo=plus_five)
    )
    assert (interval.start, interval.end) == (at(9), at(10))
    assert interval.start.tzinfo is not None and interval.start.utcoffset() == timedelta(0)
    assert interval.duration == timedelta(hours=1)


@pytest.mark.parametrize(
    ("other", "overlaps"),
    [
        (Interval(at(8), at(9)), False),  # touches the start
        (Interval(at(10), at(11)), False),  # touches the end
        (Interval(at(8), at(9, 1)), True),  # one minute in at the start
        (Interval(at(9, 59), at(11)), True),  # one minute in at the end
        (Interval(at(9, 15), at(9, 45)), True),  # inside
        (Interval(at(8), at(11)), True),  # around
    ],
)
def test_intervals_overlap_only_when_they_share_time(other: Interval, overlaps: bool) -> None:
    assert Interval(at(9), at(10)).overlaps(other) is overlaps


@pytest.mark.parametrize(
    ("other", "contained"),
    [
        (Interval(at(9), at(10)), True),  # itself
        (Interval(at(9, 30), at(10)), True),  # ends exactly at the end
        (Interval(at(9, 30), at(10, 1)), False),  # one minute past the end
        (Interval(at(8, 59), at(9, 30)), False),  # one minute before the start
    ],
)
def test_an_interval_contains_what_lies_within_its_bounds(other: Interval, contained: bool) -> None:
    assert Interval(at(9), at(10)).contains(other) is contained


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "America/New_York"])
def test_an_iana_zone_name_is_accepted(name: str) -> None:
    assert zone(name).key == name


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "../../etc/passwd", "", "utc+2"])
def test_anything_but_an_iana_zone_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput):
        zone(name)


# -- properties ------------------------------------------------------------------------------

minutes = st.integers(min_value=0, max_value=24 * 60)


@st.composite
def intervals(draw: st.DrawFn) -> Interval:
    start = draw(minutes)
    length = draw(st.integers(min_value=1, max_value=6 * 60))
    return Interval(NOW + timedelta(minutes=start), NOW + timedelta(minutes=start + length))


@given(intervals(), intervals())
def test_overlap_is_symmetric_and_means_sharing_an_instant(a: Interval, b: Interval) -> None:
    assert a.overlaps(b) == b.overlaps(a)
    shares_time = max(a.start, b.start) < min(a.end, b.end)
    assert a.overlaps(b) == shares_time


@given(intervals(), intervals())
def test_containment_is_consistent_with_overlap(a: Interval, b: Interval) -> None:
    assert a.contains(a) and a.overlaps(a)
    if a.contains(b):
        assert a.overlaps(b)
        assert b.duration <= a.duration
    assert (a.contains(b) and b.contains(a)) == (a == b)
