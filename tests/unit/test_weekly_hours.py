"""Weekly hours in the doctor's time zone, blocked periods and the booking policy."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthcare.domain.appointments import check_bookable
from healthcare.domain.blocked_periods import AvailabilityException
from healthcare.domain.calendar import Calendar
from healthcare.domain.errors import (
    DomainError,
    InvalidInput,
    InvalidTimeRange,
    OverlappingAvailability,
)
from healthcare.domain.policy import CLINIC_DEFAULTS
from healthcare.domain.slots import free_slots
from healthcare.domain.time import Interval
from healthcare.domain.weekly_hours import (
    AvailabilityRule,
    ensure_rule_fits,
    local_instant,
)

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY, SUNDAY = 0, 6


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def rule(weekday=MONDAY, start=time(9), end=time(17), valid_from=date(2030, 1, 1), until=None):
    return AvailabilityRule(
        doctor_id=1, weekday=weekday, start_time=start, end_time=end,
        valid_from=valid_from, valid_until=until,
    )


@pytest.mark.parametrize(
    ("month_range", "expected_utc_hours"),
    [
        # 2030-03-10 is the US spring-forward Sunday: EST (-5) before, EDT (-4) after.
        (((2030, 3, 1), (2030, 3, 20)), [(14, 22), (13, 21), (13, 21)]),
        # 2030-11-03 is the US fall-back Sunday: EDT (-4) before, EST (-5) after.
        (((2030, 10, 25), (2030, 11, 12)), [(13, 21), (14, 22), (14, 22)]),
    ],
)
def test_weekly_hours_in_new_york_stay_nine_to_five_local_across_dst(
    month_range, expected_utc_hours
):
    within = Interval(utc(*month_range[0]), utc(*month_range[1]))

    windows = list(rule().occurrences(within, NEW_YORK))

    assert [(w.start.hour, w.end.hour) for w in windows] == expected_utc_hours
    for window in windows:
        assert window.start.astimezone(NEW_YORK).time() == time(9)
        assert window.end.astimezone(NEW_YORK).time() == time(17)


def test_berlin_hours_stay_local_on_both_sides_of_the_march_change():
    within = Interval(utc(2030, 3, 20), utc(2030, 4, 6))  # EU change: 2030-03-31
    starts = [w.start for w in rule().occurrences(within, BERLIN)]
    assert [s.hour for s in starts] == [8, 7]  # 09:00 CET = 08:00 UTC, 09:00 CEST = 07:00 UTC


def test_a_rule_of_nine_to_five_never_yields_a_slot_at_eight_or_at_five_local():
    within = Interval(utc(2030, 3, 1), utc(2030, 3, 31))
    calendar = Calendar(tz=NEW_YORK, rules=[rule(weekday=d) for d in range(7)])

    slots = list(free_slots(within, calendar.open_intervals(within), [], 30, utc(2030, 1, 1)))

    local_hours = {s.start.astimezone(NEW_YORK).hour for s in slots}
    assert local_hours == set(range(9, 17))
    assert all(s.end.astimezone(NEW_YORK).time() <= time(17) for s in slots)


def test_a_wall_time_in_the_spring_gap_moves_forward_and_an_ambiguous_one_is_the_first():
    gap = local_instant(date(2030, 3, 10), time(2, 30), NEW_YORK)
    overlap = local_instant(date(2030, 11, 3), time(1, 30), NEW_YORK)
    assert gap.astimezone(NEW_YORK).time() == time(3, 30)
    assert overlap == utc(2030, 11, 3, 5, 30)  # 01:30 EDT, the first of the two


def test_rules_apply_only_within_their_validity():
    within = Interval(utc(2030, 1, 1), utc(2030, 2, 1))
    limited = rule(valid_from=date(2030, 1, 10), until=date(2030, 1, 21))
    days = [w.start.date() for w in limited.occurrences(within, ZoneInfo("UTC"))]
    assert days == [date(2030, 1, 14), date(2030, 1, 21)]


@pytest.mark.parametrize(
    ("other", "overlaps"),
    [
        (rule(start=time(16), end=time(18)), True),
        (rule(start=time(17), end=time(18)), False),  # touching
        (rule(weekday=1), False),  # another weekday
        (rule(valid_from=date(2031, 1, 1)), True),  # open-ended validity reaches it
    ],
)
def test_overlapping_rules_of_one_doctor_are_refused(other, overlaps):
    existing = rule()
    existing.id = 1
    if overlaps:
        with pytest.raises(OverlappingAvailability):
            ensure_rule_fits(other, [existing])
    else:
        ensure_rule_fits(other, [existing])


def test_a_rule_that_ends_before_it_starts_or_on_a_bad_weekday_is_invalid():
    with pytest.raises(InvalidTimeRange):
        rule(start=time(17), end=time(9))
    with pytest.raises(InvalidInput):
        rule(weekday=7)
    with pytest.raises(InvalidTimeRange):
        rule(valid_from=date(2030, 2, 1), until=date(2030, 1, 1))


def bookable(calendar: Calendar, slot: Interval) -> bool:
    """Whether the booking rules find ``slot`` open in ``calendar`` (nothing else booked)."""
    try:
        check_bookable(
            slot, utc(2030, 1, 1), calendar.open_intervals(slot), blocked=calendar.blocked
        )
    except DomainError:
        return False
    return True


def test_a_blocked_period_closes_the_slots_it_covers():
    day = Interval(utc(2030, 1, 7), utc(2030, 1, 8))  # a Monday
    holiday = AvailabilityException(1, utc(2030, 1, 7, 12), utc(2030, 1, 7, 14), "Training")
    calendar = Calendar(tz=ZoneInfo("UTC"), rules=[rule()], blocked=[holiday.interval])

    assert bookable(calendar, Interval(utc(2030, 1, 7, 9), utc(2030, 1, 7, 9, 30)))
    assert not bookable(calendar, Interval(utc(2030, 1, 7, 13), utc(2030, 1, 7, 13, 30)))
    assert not bookable(calendar, Interval(utc(2030, 1, 7, 11, 45), utc(2030, 1, 7, 12, 15)))
    assert calendar.open_intervals(day) == [Interval(utc(2030, 1, 7, 9), utc(2030, 1, 7, 17))]


def test_one_off_windows_add_time_to_weekly_hours():
    extra = Interval(utc(2030, 1, 12, 10), utc(2030, 1, 12, 12))  # a Saturday
    calendar = Calendar(tz=ZoneInfo("UTC"), windows=[extra], rules=[rule()])
    assert bookable(calendar, Interval(utc(2030, 1, 12, 10), utc(2030, 1, 12, 10, 30)))
    assert not bookable(calendar, Interval(utc(2030, 1, 13, 10), utc(2030, 1, 13, 10, 30)))


def test_the_booking_policy_defaults_are_the_clinics():
    policy = CLINIC_DEFAULTS
    now = utc(2030, 1, 7, 8)
    assert policy.earliest_start(now) == utc(2030, 1, 7, 10)
    assert policy.latest_start(now) == now + timedelta(days=90)
    assert policy.is_late_cancellation(utc(2030, 1, 8, 7), now)
    assert not policy.is_late_cancellation(utc(2030, 1, 8, 8), now)


@given(
    weekday=st.integers(0, 6),
    start_hour=st.integers(0, 22),
    hours=st.integers(1, 8),
    zone_name=st.sampled_from(["America/New_York", "Europe/Berlin", "Australia/Sydney", "UTC"]),
    offset_days=st.integers(0, 400),
)
def test_every_occurrence_starts_at_the_rules_local_time_unless_it_falls_in_a_gap(
    weekday, start_hour, hours, zone_name, offset_days
):
    tz = ZoneInfo(zone_name)
    end_hour = min(start_hour + hours, 23)
    weekly = rule(weekday=weekday, start=time(start_hour), end=time(end_hour))
    begin = utc(2030, 1, 1) + timedelta(days=offset_days)
    windows = list(weekly.occurrences(Interval(begin, begin + timedelta(days=21)), tz))
    assert len(windows) >= 2
    for window in windows:
        local = window.start.astimezone(tz)
        assert local.weekday() == weekday
        wall = datetime.combine(local.date(), time(start_hour))
        exists = wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall
        if exists:
            assert local.time() == time(start_hour)
        else:  # a DST gap: shifted forward by the gap, never backward
            assert local.time() > time(start_hour)
        assert abs(window.duration - timedelta(hours=end_hour - start_hour)) <= timedelta(hours=1)
