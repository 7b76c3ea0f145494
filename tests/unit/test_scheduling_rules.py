"""Buffers, blocked periods and policy in the slot engine; idempotency keys; local days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from healthcare.domain.access import Scope
from healthcare.domain.actor import Actor
from healthcare.domain.appointments import (
    RESCHEDULED,
    Appointment,
    Status,
    check_bookable,
)
from healthcare.domain.blocked_periods import AvailabilityException
from healthcare.domain.calendar import local_day
from healthcare.domain.errors import (
    BeyondHorizon,
    DailyLimitReached,
    IdempotencyKeyReused,
    InBlockedPeriod,
    InvalidInput,
    TooShortNotice,
)
from healthcare.domain.idempotency import Claim, fingerprint, require_key
from healthcare.domain.policy import CLINIC_DEFAULTS, BookingPolicy
from healthcare.domain.slots import free_slots
from healthcare.domain.time import Interval
from healthcare.domain.users import Role
from tests.unit.cast import NOW, at

DAY = Interval(at(0), at(0, days=1))
MORNING = Interval(at(9), at(12))


def starts(busy=(), blocked=(), buffer=timedelta(0)) -> list[datetime]:
    slots = free_slots(DAY, [MORNING], list(busy), 30, NOW, blocked=blocked, buffer=buffer)
    return [s.start for s in slots]


def test_a_slot_and_its_buffer_keep_clear_of_the_busy_time_and_its_buffer() -> None:
    busy = [Interval(at(10), at(10, 45))]  # 10:00-10:30 booked, with a 15-minute buffer
    assert starts(busy) == [at(9), at(9, 30), at(11), at(11, 30)]
    assert starts(busy, buffer=timedelta(minutes=15)) == [at(9), at(11), at(11, 30)]


def test_blocked_time_removes_only_the_slots_it_overlaps_not_their_buffers() -> None:
    blocked = [Interval(at(10, 30), at(11))]
    assert starts(blocked=blocked, buffer=timedelta(minutes=15)) == [
        at(9), at(9, 30), at(10), at(11), at(11, 30)
    ]


def test_booking_checks_blocked_periods() -> None:
    # The buffer is the storage's to check with the overlap, when the booking is written:
    # tests/use_cases/test_booking_policy.py.
    slot = Interval(at(9, 30), at(10))
    with pytest.raises(InBlockedPeriod):
        check_bookable(slot, NOW, [MORNING], blocked=[Interval(at(9, 45), at(11))])
    check_bookable(slot, NOW, [MORNING], blocked=[Interval(at(10), at(11))])


def test_a_doctors_own_policy_overrides_only_what_it_sets() -> None:
    clinic = CLINIC_DEFAULTS
    own = BookingPolicy(buffer_minutes=10, max_per_day=3).over(clinic)
    assert (own.buffer, own.max_per_day, own.min_notice) == (
        timedelta(minutes=10), 3, clinic.min_notice
    )
    assert BookingPolicy().over(clinic) == clinic


@pytest.mark.parametrize(
    "bad",
    [
        {"min_notice_minutes": -1},
        {"horizon_days": 0},
        {"buffer_minutes": 481},
        {"max_per_day": True},
        {"late_cancel_hours": 721},
    ],
)
def test_a_nonsensical_override_is_refused(bad: dict) -> None:
    with pytest.raises(InvalidInput):
        BookingPolicy(**bad)


def test_the_policy_says_when_a_patient_may_book() -> None:
    policy = BookingPolicy(max_per_day=2).over(CLINIC_DEFAULTS)
    with pytest.raises(TooShortNotice):
        policy.check_timing(NOW + timedelta(hours=1, minutes=59), NOW)
    policy.check_timing(NOW + timedelta(hours=2), NOW)
    with pytest.raises(BeyondHorizon):
        policy.check_timing(NOW + timedelta(days=90, seconds=1), NOW)
    policy.check_daily_cap(1)
    with pytest.raises(DailyLimitReached):
        policy.check_daily_cap(2)


def test_the_local_day_is_the_doctors_across_a_dst_change() -> None:
    new_york = ZoneInfo("America/New_York")
    day = local_day(datetime(2030, 3, 10, 12, tzinfo=UTC), new_york)  # 23 hours long
    assert (day.start, day.duration) == (datetime(2030, 3, 10, 5, tzinfo=UTC), timedelta(hours=23))


def test_a_cancellation_inside_the_cut_off_is_late() -> None:
    patient = Actor(user_id=1, role=Role.PATIENT, patient_id=1)
    soon = Appointment(1, 1, NOW + timedelta(hours=3), NOW + timedelta(hours=4), NOW, NOW)
    soon.move_to(Status.CANCELLED, patient, NOW, policy=CLINIC_DEFAULTS)
    later = Appointment(1, 1, NOW + timedelta(days=2), NOW + timedelta(days=2, hours=1), NOW, NOW)
    later.move_to(Status.CANCELLED, patient, NOW, policy=CLINIC_DEFAULTS)
    assert (soon.late_cancellation, later.late_cancellation) == (True, False)


def test_the_history_copy_of_a_move_is_a_cancelled_copy_of_the_old_slot() -> None:
    booked = Appointment(1, 2, at(10), at(10, 30), NOW, NOW, Status.CONFIRMED, "Checkup", id=7)
    copy = booked.history_copy(NOW + timedelta(minutes=5))
    assert (copy.id, copy.start, copy.status, copy.cancellation_reason, copy.reason) == (
        None, at(10), Status.CANCELLED, RESCHEDULED, "Checkup"
    )
    assert booked.status is Status.CONFIRMED


@pytest.mark.parametrize("key", ["", " " * 256, "\u00e9", "new\nline"])
def test_an_idempotency_key_is_1_to_255_printable_ascii_characters(key: str) -> None:
    with pytest.raises(InvalidInput):
        require_key(key)
    assert require_key("a" * 255) == "a" * 255


def test_a_fingerprint_compares_instants_not_their_offsets() -> None:
    utc = datetime(2030, 1, 7, 10, tzinfo=UTC)
    elsewhere = utc.astimezone(ZoneInfo("Europe/Berlin"))
    assert fingerprint(doctor=1, start=utc) == fingerprint(start=elsewhere, doctor=1)
    assert fingerprint(doctor=1, start=utc) != fingerprint(doctor=2, start=utc)


def test_a_key_replays_only_its_own_request() -> None:
    record = Claim("user:1", "k", "abc", "appointment").record(42, NOW)
    assert record.replay(Claim("user:1", "k", "abc", "appointment")) == 42
    with pytest.raises(IdempotencyKeyReused):
        record.replay(Claim("user:1", "k", "abd", "appointment"))
    with pytest.raises(IdempotencyKeyReused):  # the same request, to create something else
        record.replay(Claim("user:1", "k", "abc", "hold"))


def test_a_blocked_periods_reason_is_for_the_doctor_and_admins() -> None:
    away = AvailabilityException(3, at(13), at(15), "Personal")
    doctor = Actor(user_id=5, role=Role.DOCTOR, doctor_id=3)
    stranger = Actor(user_id=6, role=Role.DOCTOR, doctor_id=4)
    patient = Actor(user_id=7, role=Role.PATIENT, patient_id=3)
    shown = {
        who: Scope.of(actor).sees_blocked_reason(away.doctor_id)
        for who, actor in [
            ("doctor", doctor), ("clinic", Actor.system()), ("stranger", stranger), ("patient", patient)
        ]
    }
    assert shown == {"doctor": True, "clinic": True, "stranger": False, "patient": False}


def test_an_occurrence_never_exists_before_the_rule_is_valid() -> None:
    from healthcare.domain.weekly_hours import AvailabilityRule

    rule = AvailabilityRule(1, 0, time(9), time(10), valid_from=date(2030, 1, 8))
    assert list(rule.occurrences(DAY, ZoneInfo("UTC"))) == []  # 2030-01-07 is before it
