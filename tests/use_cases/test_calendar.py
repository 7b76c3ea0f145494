"""Weekly hours and blocked periods: combined with one-off windows in booking and slot search."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from healthcare.adapters.clock import FixedClock
from healthcare.application.commands import (
    BookAppointment,
    CreateAvailability,
    CreateException,
    CreateRule,
    UpdateDoctor,
    UpdateRule,
)
from healthcare.application.ports import ExceptionFilter, RuleFilter
from healthcare.domain.actor import Actor
from healthcare.domain.appointments import ACTIVE
from healthcare.domain.errors import (
    AvailabilityInUse,
    InBlockedPeriod,
    InPast,
    InvalidInput,
    NotFound,
    OutsideAvailability,
    OverlappingAvailability,
    PermissionDenied,
    WeeklyHoursNeedAChoice,
)
from tests.use_cases.clinic import WIDE, Clinic, Services, at, row

MONDAY, TUESDAY = 0, 1
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def weekly(
    services: Services,
    doctor: Actor,
    weekday: int = TUESDAY,
    start: time = time(9),
    end: time = time(12),
    **validity: date | None,
):
    return services.calendar.create_rule(
        doctor, CreateRule(weekday=weekday, start_time=start, end_time=end, **validity)
    )


def free(services: Services, actor: Actor, doctor: Actor, start: datetime, end: datetime):
    return [s.start for s in services.slots.for_doctor(actor, doctor.doctor_id, start, end)[1]]


def book(services: Services, patient: Actor, doctor: Actor, start: datetime):
    return services.appointments.book(patient, BookAppointment(doctor.doctor_id, start))


TUESDAY_8TH = (at(0, days=1), at(0, days=2))  # 2030-01-08, the day after the test clock's


# -- weekly hours ----------------------------------------------------------------------------


def test_weekly_hours_open_slots_and_booking_every_week(services: Services, clinic: Clinic) -> None:
    weekly(services, clinic.doctor)  # Tuesdays 09:00-12:00 UTC

    assert free(services, clinic.patient, clinic.doctor, *TUESDAY_8TH) == [
        at(9, days=1) + timedelta(minutes=30 * i) for i in range(6)
    ]
    next_week = book(services, clinic.patient, clinic.doctor, at(11, 30, days=8))
    assert next_week.end == at(12, days=8)
    with pytest.raises(OutsideAvailability):
        book(services, clinic.patient, clinic.doctor, at(11, 45, days=8))  # past 12:00


def test_weekly_hours_in_new_york_stay_local_across_both_dst_changes(
    services: Services, clinic: Clinic, clock: FixedClock
) -> None:
    services.doctors.update(
        clinic.admin, clinic.doctor.doctor_id, UpdateDoctor(timezone="America/New_York")
    )
    weekly(services, clinic.doctor, MONDAY, time(9), time(17))

    def first_slots(start: datetime, end: datetime) -> list[datetime]:
        slots = free(services, clinic.patient, clinic.doctor, start, end)
        return sorted({min(s for s in slots if s.date() == day) for day in {s.date() for s in slots}})

    clock.at = utc(2030, 3, 1, 12)
    # 2030-03-10: EST (-5) to EDT (-4); 09:00 local is 14:00 UTC before and 13:00 after.
    assert first_slots(utc(2030, 3, 4), utc(2030, 3, 19)) == [
        utc(2030, 3, 4, 14), utc(2030, 3, 11, 13), utc(2030, 3, 18, 13)
    ]
    clock.at = utc(2030, 10, 20, 12)
    # 2030-11-03: EDT back to EST; 09:00 local is 13:00 UTC before and 14:00 after.
    assert first_slots(utc(2030, 10, 28), utc(2030, 11, 12)) == [
        utc(2030, 10, 28, 13), utc(2030, 11, 4, 14), utc(2030, 11, 11, 14)
    ]
    booked = book(services, clinic.patient, clinic.doctor, utc(2030, 11, 4, 14))
    assert booked.start.astimezone(NEW_YORK).time() == time(9)
    with pytest.raises(OutsideAvailability):  # 08:00 EST: before the doctor's hours
        book(services, clinic.other_patient, clinic.doctor, utc(2030, 11, 4, 13))
    with pytest.raises(OutsideAvailability):  # 17:00 EST: after them
        book(services, clinic.other_patient, clinic.doctor, utc(2030, 11, 4, 22))


def test_overlapping_weekly_hours_of_one_doctor_are_refused(
    services: Services, clinic: Clinic
) -> None:
    weekly(services, clinic.doctor, start=time(9), end=time(12))
    with pytest.raises(OverlappingAvailability):
        weekly(services, clinic.doctor, start=time(11), end=time(13))
    weekly(services, clinic.doctor, start=time(12), end=time(13))  # touching
    weekly(services, clinic.other_doctor, start=time(9), end=time(12))  # another doctor
    weekly(  # the same hours, but only in a later, separate period
        services,
        clinic.doctor,
        weekday=MONDAY,
        valid_from=date(2030, 2, 1),
        valid_until=date(2030, 2, 28),
    )
    with pytest.raises(OverlappingAvailability):
        weekly(services, clinic.doctor, weekday=MONDAY, valid_from=date(2030, 2, 20))


def test_a_window_overlapping_weekly_hours_is_allowed_and_adds_its_extra_time(
    services: Services, clinic: Clinic
) -> None:
    weekly(services, clinic.doctor)  # Tuesdays 09:00-12:00
    services.availability.create(
        clinic.doctor, CreateAvailability(start=at(11, days=1), end=at(13, days=1))
    )
    slots = free(services, clinic.patient, clinic.doctor, *TUESDAY_8TH)
    assert slots[-4:] == [at(11, days=1), at(11, 30, days=1), at(12, days=1), at(12, 30, days=1)]
    # One appointment fits in one window or one occurrence of the hours, not across both (off
    # both grids, so the front desk's booking).
    services.appointments.book(
        clinic.admin,
        BookAppointment(clinic.doctor.doctor_id, at(11, 45, days=1), patient_id=clinic.patient.patient_id),
    )


def test_a_doctor_manages_only_their_own_weekly_hours(services: Services, clinic: Clinic) -> None:
    mine = weekly(services, clinic.doctor)
    hours = iter(range(13, 23))

    def create(actor: Actor) -> object:
        hour = next(hours)  # each role's try at other hours, so only the role decides
        command = CreateRule(MONDAY, time(hour), time(hour + 1), doctor_id=clinic.doctor.doctor_id)
        return services.calendar.create_rule(actor, command)

    assert clinic.each_role(create) == row(
        "ok", "ok", PermissionDenied, PermissionDenied, PermissionDenied
    )
    change = UpdateRule(end_time=time(11))
    assert clinic.each_role(
        lambda actor: services.calendar.update_rule(actor, mine.id, change),
        ["other_doctor", "patient"],
    ) == {"other_doctor": PermissionDenied, "patient": PermissionDenied}
    everyone = clinic.each_role(lambda actor: services.calendar.get_rule(actor, mine.id))
    assert set(everyone.values()) == {"ok"}
    listed = services.calendar.list_rules(
        clinic.patient, WIDE, RuleFilter(doctor_id=clinic.doctor.doctor_id)
    )
    assert [r["weekday"] for r in listed.items] == [MONDAY, MONDAY, TUESDAY]
    services.calendar.delete_rule(clinic.admin, mine.id)
    with pytest.raises(NotFound):
        services.calendar.get_rule(clinic.doctor, mine.id)


def test_weekly_hours_holding_a_booking_cannot_be_deleted_or_shrunk_around_it(
    services: Services, clinic: Clinic
) -> None:
    hours = weekly(services, clinic.doctor)
    book(services, clinic.patient, clinic.doctor, at(11, days=8))
    with pytest.raises(AvailabilityInUse):
        services.calendar.delete_rule(clinic.doctor, hours.id)
    with pytest.raises(AvailabilityInUse):
        services.calendar.update_rule(clinic.doctor, hours.id, UpdateRule(end_time=time(11)))
    with pytest.raises(AvailabilityInUse):
        services.calendar.update_rule(
            clinic.doctor, hours.id, UpdateRule(valid_until=date(2030, 1, 14))
        )
    services.calendar.update_rule(clinic.doctor, hours.id, UpdateRule(start_time=time(8)))
    services.availability.create(
        clinic.doctor, CreateAvailability(start=at(10, days=8), end=at(12, days=8))
    )
    services.calendar.delete_rule(clinic.doctor, hours.id)  # the window holds it now


def test_a_window_may_go_when_weekly_hours_still_hold_its_booking(
    services: Services, clinic: Clinic
) -> None:
    weekly(services, clinic.doctor, weekday=MONDAY)  # today, 09:00-12:00, like the window
    booked = book(services, clinic.patient, clinic.doctor, at(10))
    services.availability.delete(clinic.doctor, clinic.window.id)
    assert services.appointments.get(clinic.patient, booked.id)["status"] in ACTIVE


# -- blocked periods -------------------------------------------------------------------------


def test_a_blocked_period_removes_slots_and_refuses_bookings_inside_it(
    services: Services, clinic: Clinic
) -> None:
    weekly(services, clinic.doctor)
    services.calendar.create_exception(
        clinic.doctor, CreateException(at(10, days=1), at(11, days=1), "Dentist")
    )
    assert free(services, clinic.patient, clinic.doctor, *TUESDAY_8TH) == [
        at(9, days=1), at(9, 30, days=1), at(11, days=1), at(11, 30, days=1)
    ]
    with pytest.raises(InBlockedPeriod):
        book(services, clinic.patient, clinic.doctor, at(10, 30, days=1))
    with pytest.raises(InBlockedPeriod):  # overlapping its start is inside too
        book(services, clinic.patient, clinic.doctor, at(9, 45, days=1))
    book(services, clinic.patient, clinic.doctor, at(11, days=1))  # touching its end


def test_a_holiday_over_a_booking_is_refused_until_the_booking_is_cancelled(
    services: Services, clinic: Clinic
) -> None:
    booked = book(services, clinic.patient, clinic.doctor, at(10))
    holiday = CreateException(at(0), at(0, days=3), "Holiday")
    with pytest.raises(AvailabilityInUse):
        services.calendar.create_exception(clinic.doctor, holiday)
    services.appointments.cancel(clinic.patient, booked.id)
    services.calendar.create_exception(clinic.doctor, holiday)
    assert free(services, clinic.patient, clinic.doctor, at(0), at(0, days=1)) == []


def test_a_blocked_period_in_the_past_is_refused(services: Services, clinic: Clinic) -> None:
    with pytest.raises(InPast):
        services.calendar.create_exception(clinic.doctor, CreateException(at(1), at(2)))


def test_everyone_sees_when_a_doctor_is_away_but_only_the_doctor_and_admins_see_why(
    services: Services, clinic: Clinic
) -> None:
    away = services.calendar.create_exception(
        clinic.admin,
        CreateException(at(13), at(15), "Personal", doctor_id=clinic.doctor.doctor_id),
    )

    def reason(actor: Actor) -> object:
        (listed,) = services.calendar.list_exceptions(
            actor, WIDE, ExceptionFilter(doctor_id=clinic.doctor.doctor_id)
        ).items
        read = services.calendar.get_exception(actor, away.id)
        assert listed["reason"] == read["reason"]
        assert (read["start_time"], read["end_time"]) == (away.start, away.end)
        return read["reason"]

    assert {name: reason(actor) for name, actor in clinic.roles.items()} == row(
        "Personal", "Personal", None, None, None
    )
    assert clinic.each_role(
        lambda actor: services.calendar.delete_exception(actor, away.id),
        ["other_doctor", "patient", "doctor"],
    ) == {"other_doctor": PermissionDenied, "patient": PermissionDenied, "doctor": "ok"}


# -- a new time zone while weekly hours exist (issue 16, item 4) --------------------------------


def change_zone(services: Services, clinic: Clinic, **choice: str):
    command = UpdateDoctor(timezone="Europe/Berlin", **choice)
    return services.doctors.update(clinic.admin, clinic.doctor.doctor_id, command)


def test_a_new_time_zone_is_refused_while_weekly_hours_exist_unless_told_how(
    services: Services, clinic: Clinic
) -> None:
    weekly(services, clinic.doctor)
    with pytest.raises(WeeklyHoursNeedAChoice):
        change_zone(services, clinic)
    with pytest.raises(InvalidInput):
        change_zone(services, clinic, weekly_hours="shift_with_utc")
    assert change_zone(services, clinic, weekly_hours="keep_local_times").timezone == "Europe/Berlin"
    # The hours kept their local times: Tuesday 09:00-12:00 in Berlin is 08:00-11:00 UTC.
    assert free(services, clinic.patient, clinic.doctor, *TUESDAY_8TH)[0] == at(8, days=1)


def test_keeping_local_times_is_refused_when_it_would_strand_a_booking(
    services: Services, clinic: Clinic
) -> None:
    weekly(services, clinic.doctor)
    book(services, clinic.patient, clinic.doctor, at(11, 30, days=1))  # 11:00-12:00 UTC after
    with pytest.raises(AvailabilityInUse):
        change_zone(services, clinic, weekly_hours="keep_local_times")


def test_without_weekly_hours_the_time_zone_simply_changes(
    services: Services, clinic: Clinic
) -> None:
    assert change_zone(services, clinic).timezone == "Europe/Berlin"
