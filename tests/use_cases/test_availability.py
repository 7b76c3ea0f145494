"""Availability windows: a doctor manages their own, an admin anyone's, everyone reads them."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from healthcare.application.commands import CreateAvailability, UpdateAvailability
from healthcare.application.ports import AvailabilityFilter
from healthcare.domain.appointments import Appointment
from healthcare.domain.errors import (
    AvailabilityInUse,
    InPast,
    InvalidInput,
    InvalidTimeRange,
    NaiveDatetime,
    NotFound,
    OverlappingAvailability,
    PermissionDenied,
)
from tests.use_cases.clinic import OK, WIDE, Clinic, Services, at, ids, outcome, row

DENIED = PermissionDenied


def window_of(services: Services, clinic: Clinic, window_id: int) -> tuple[datetime, datetime]:
    stored = services.availability.get(clinic.patient, window_id)
    return stored["start_time"], stored["end_time"]


def test_a_doctor_opens_a_window_of_their_own(services: Services, clinic: Clinic) -> None:
    created = services.availability.create(
        clinic.doctor, CreateAvailability(start=at(13), end=at(17))
    )
    assert created.doctor_id == clinic.doctor.doctor_id
    assert window_of(services, clinic, created.id) == (at(13), at(17))


def test_an_admin_opens_a_window_for_the_doctor_they_name(
    services: Services, clinic: Clinic
) -> None:
    created = services.availability.create(
        clinic.admin,
        CreateAvailability(start=at(13), end=at(17), doctor_id=clinic.other_doctor.doctor_id),
    )
    assert created.doctor_id == clinic.other_doctor.doctor_id
    with pytest.raises(InvalidInput):
        services.availability.create(clinic.admin, CreateAvailability(start=at(18), end=at(19)))


def test_only_the_doctor_or_an_admin_opens_the_doctors_windows(
    services: Services, clinic: Clinic
) -> None:
    command = CreateAvailability(start=at(13), end=at(17), doctor_id=clinic.doctor.doctor_id)
    refused = ["other_doctor", "patient", "other_patient"]
    outcomes = clinic.each_role(lambda a: services.availability.create(a, command), refused)
    assert outcomes == dict.fromkeys(refused, DENIED)
    listed = services.availability.list(
        clinic.admin, WIDE, AvailabilityFilter(doctor_id=clinic.doctor.doctor_id)
    )
    assert ids(listed) == [clinic.window.id]


def test_a_window_for_an_unknown_doctor_is_not_found(services: Services, clinic: Clinic) -> None:
    missing = clinic.doctor.doctor_id + clinic.other_doctor.doctor_id + 1000
    with pytest.raises(NotFound):
        services.availability.create(
            clinic.admin, CreateAvailability(start=at(13), end=at(17), doctor_id=missing)
        )


def test_an_invalid_window_is_refused(services: Services, clinic: Clinic) -> None:
    windows = {
        "past": (at(7), at(9), InPast),
        "shorter than an appointment": (at(13), at(13, 29), InvalidTimeRange),
        "over 24 h": (at(13), at(13, 1, days=1), InvalidTimeRange),
        "empty": (at(13), at(13), InvalidTimeRange),
        "overlapping the end": (at(11, 59), at(13), OverlappingAvailability),
        "overlapping the start": (at(8), at(9, 1), OverlappingAvailability),
        "naive": (at(13).replace(tzinfo=None), at(14), NaiveDatetime),
    }
    outcomes = {
        name: outcome(
            lambda w=w: services.availability.create(clinic.doctor, CreateAvailability(w[0], w[1]))
        )
        for name, w in windows.items()
    }
    assert outcomes == {name: w[2] for name, w in windows.items()}
    assert services.availability.list(clinic.admin, WIDE).total == 2


def test_touching_windows_and_a_24_hour_window_are_allowed(
    services: Services, clinic: Clinic
) -> None:
    for start, end in [(at(12), at(13)), (at(8, 30), at(9)), (at(13), at(13, days=1))]:
        created = services.availability.create(
            clinic.doctor, CreateAvailability(start=start, end=end)
        )
        assert window_of(services, clinic, created.id) == (start, end)


def test_another_doctors_window_may_overlap(services: Services, clinic: Clinic) -> None:
    assert window_of(services, clinic, clinic.other_window.id) == window_of(
        services, clinic, clinic.window.id
    )


def test_everyone_signed_in_reads_and_lists_windows(services: Services, clinic: Clinic) -> None:
    both = (OK, {clinic.window.id, clinic.other_window.id})
    sight = clinic.sight(
        lambda a: services.availability.get(a, clinic.window.id),
        lambda a: services.availability.list(a, WIDE),
    )
    assert sight == row(both, both, both, both, both)


def test_windows_are_listed_by_doctor_and_by_the_range_they_overlap(
    services: Services, clinic: Clinic
) -> None:
    later = services.availability.create(
        clinic.doctor, CreateAvailability(start=at(9, days=1), end=at(12, days=1))
    )

    def listed(**where: object) -> list[int]:
        return ids(services.availability.list(clinic.patient, WIDE, AvailabilityFilter(**where)))

    assert listed(doctor_id=clinic.doctor.doctor_id) == [clinic.window.id, later.id]
    assert listed(doctor_id=clinic.doctor.doctor_id, start=at(12)) == [later.id]
    assert set(listed(start=at(11, 59), end=at(12, days=1))) == {
        clinic.window.id,
        clinic.other_window.id,
        later.id,
    }
    assert listed(end=at(9)) == []


def test_an_unknown_window_is_not_found(services: Services, clinic: Clinic) -> None:
    missing = clinic.window.id + clinic.other_window.id + 1000
    outcomes = [
        outcome(lambda: services.availability.get(clinic.doctor, missing)),
        outcome(
            lambda: services.availability.update(
                clinic.doctor, missing, UpdateAvailability(end=at(13))
            )
        ),
        outcome(lambda: services.availability.delete(clinic.doctor, missing)),
    ]
    assert outcomes == [NotFound] * 3


@pytest.mark.parametrize("role", ["admin", "doctor"])
def test_the_doctor_or_an_admin_changes_and_deletes_the_doctors_window(
    services: Services, clinic: Clinic, role: str
) -> None:
    actor = clinic.roles[role]
    services.availability.update(actor, clinic.window.id, UpdateAvailability(end=at(13)))
    assert window_of(services, clinic, clinic.window.id) == (at(9), at(13))
    services.availability.delete(actor, clinic.window.id)
    with pytest.raises(NotFound):
        services.availability.get(actor, clinic.window.id)


def test_nobody_else_changes_or_deletes_the_doctors_window(
    services: Services, clinic: Clinic
) -> None:
    refused = ["other_doctor", "patient", "other_patient"]
    change = UpdateAvailability(end=at(13))
    updates = clinic.each_role(
        lambda a: services.availability.update(a, clinic.window.id, change), refused
    )
    deletes = clinic.each_role(lambda a: services.availability.delete(a, clinic.window.id), refused)
    assert updates == deletes == dict.fromkeys(refused, DENIED)
    assert window_of(services, clinic, clinic.window.id) == (at(9), at(12))


def test_a_window_change_obeys_the_window_rules(services: Services, clinic: Clinic) -> None:
    changes = {
        "start in the past": (UpdateAvailability(start=at(7)), InPast),
        "shorter than an appointment": (UpdateAvailability(end=at(9, 15)), InvalidTimeRange),
        "end before start": (UpdateAvailability(start=at(12)), InvalidTimeRange),
        "over 24 h": (UpdateAvailability(end=at(9, 1, days=1)), InvalidTimeRange),
    }
    outcomes = {
        name: outcome(
            lambda c=c: services.availability.update(clinic.doctor, clinic.window.id, c[0])
        )
        for name, c in changes.items()
    }
    assert outcomes == {name: c[1] for name, c in changes.items()}
    assert window_of(services, clinic, clinic.window.id) == (at(9), at(12))


def test_a_window_cannot_grow_into_the_doctors_next_one(services: Services, clinic: Clinic) -> None:
    services.availability.create(clinic.doctor, CreateAvailability(start=at(13), end=at(15)))
    with pytest.raises(OverlappingAvailability):
        services.availability.update(
            clinic.doctor, clinic.window.id, UpdateAvailability(end=at(13, 30))
        )
    services.availability.update(clinic.doctor, clinic.window.id, UpdateAvailability(end=at(13)))
    assert window_of(services, clinic, clinic.window.id) == (at(9), at(13))


def test_a_window_under_way_may_still_move_its_end(
    services: Services, clinic: Clinic, clock
) -> None:
    clock.advance(timedelta(hours=2))  # 10:00, inside the 09:00-12:00 window
    services.availability.update(clinic.doctor, clinic.window.id, UpdateAvailability(end=at(14)))
    assert window_of(services, clinic, clinic.window.id) == (at(9), at(14))


def test_a_window_change_that_strands_an_active_appointment_is_refused(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    changes = [
        UpdateAvailability(end=at(10, 15)),
        UpdateAvailability(start=at(10, 15)),
        UpdateAvailability(start=at(13), end=at(15)),
    ]
    outcomes = [
        outcome(lambda c=c: services.availability.update(clinic.doctor, clinic.window.id, c))
        for c in changes
    ]
    assert outcomes == [AvailabilityInUse] * 3
    assert window_of(services, clinic, clinic.window.id) == (at(9), at(12))


def test_a_window_may_shrink_to_the_edge_of_its_appointment(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    services.availability.update(
        clinic.doctor, clinic.window.id, UpdateAvailability(start=at(10), end=at(10, 30))
    )
    assert window_of(services, clinic, clinic.window.id) == (at(10), at(10, 30))


@pytest.mark.parametrize("confirm", [False, True], ids=["pending", "confirmed"])
def test_a_window_holding_an_active_appointment_is_not_deleted(
    services: Services, clinic: Clinic, booked: Appointment, confirm: bool
) -> None:
    if confirm:
        services.appointments.confirm(clinic.doctor, booked.id)
    with pytest.raises(AvailabilityInUse):
        services.availability.delete(clinic.admin, clinic.window.id)
    assert window_of(services, clinic, clinic.window.id) == (at(9), at(12))


def test_once_the_appointment_is_cancelled_its_window_may_shrink_or_go(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    services.appointments.cancel(clinic.patient, booked.id)
    services.availability.update(
        clinic.doctor, clinic.window.id, UpdateAvailability(end=at(10, 15))
    )
    services.availability.delete(clinic.doctor, clinic.window.id)
    assert ids(services.availability.list(clinic.doctor, WIDE)) == [clinic.other_window.id]


def test_another_doctors_appointment_does_not_hold_a_window(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    services.availability.delete(clinic.other_doctor, clinic.other_window.id)
    with pytest.raises(NotFound):
        services.availability.get(clinic.admin, clinic.other_window.id)
