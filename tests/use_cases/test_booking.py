"""Booking (rules 1-5), reading and listing appointments, and rescheduling."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from healthcare.application.commands import (
    BookAppointment,
    CreateAvailability,
    UpdateAppointment,
    UpdateDoctor,
)
from healthcare.application.ports import AppointmentFilter, PageRequest
from healthcare.domain.appointments import ACTIVE, Appointment, Status
from healthcare.domain.errors import (
    InPast,
    InvalidInput,
    NaiveDatetime,
    NotASlotStart,
    NotFound,
    NotWholeMinutes,
    OutsideAvailability,
    PatientDoubleBooked,
    PermissionDenied,
    SlotUnavailable,
    TransitionNotAllowed,
)
from tests.use_cases.clinic import (
    OK,
    WIDE,
    Clinic,
    Services,
    at,
    ids,
    outcome,
    reschedule,
    row,
)


def book(
    services: Services,
    clinic: Clinic,
    start: datetime,
    *,
    by: str = "patient",
    doctor: str = "doctor",
    **fields,
) -> Appointment:
    return services.appointments.book(
        clinic.roles[by],
        BookAppointment(doctor_id=clinic.roles[doctor].doctor_id, start=start, **fields),
    )


def active_count(services: Services, clinic: Clinic) -> int:
    return sum(a["status"] in ACTIVE for a in services.appointments.list(clinic.admin, WIDE).items)


# -- booking ------------------------------------------------------------------------------------


def test_a_patient_books_a_pending_appointment_for_themself(
    services: Services, clinic: Clinic, clock
) -> None:
    booked = book(services, clinic, at(10), reason="Chest pain", status="pending")
    stored = services.appointments.get(clinic.patient, booked.id)
    assert (stored["patient"], stored["doctor"]) == (
        clinic.patient.patient_id,
        clinic.doctor.doctor_id,
    )
    assert (stored["datetime"], stored["end"], stored["status"]) == (
        at(10),
        at(10, 30),
        Status.PENDING,
    )
    assert (stored["reason"], stored["created_at"], stored["updated_at"]) == (
        "Chest pain",
        clock.now(),
        clock.now(),
    )


def test_the_appointment_lasts_the_doctors_appointment_length(
    services: Services, clinic: Clinic
) -> None:
    services.doctors.update(
        clinic.admin, clinic.doctor.doctor_id, UpdateDoctor(appointment_minutes=45)
    )
    assert book(services, clinic, at(11, 15)).end == at(12)
    with pytest.raises(OutsideAvailability):
        book(services, clinic, at(11, 16), by="other_patient")


def test_a_stated_end_must_be_the_doctors_length_after_the_start(
    services: Services, clinic: Clinic
) -> None:
    with pytest.raises(InvalidInput) as refused:
        book(services, clinic, at(10), end=at(10, 45))
    assert "end" in refused.value.errors and "30 minutes" in refused.value.message
    assert active_count(services, clinic) == 0
    assert book(services, clinic, at(10), end=at(10, 30)).end == at(10, 30)


def test_a_patient_may_name_themself(services: Services, clinic: Clinic) -> None:
    assert (
        book(services, clinic, at(10), patient_id=clinic.patient.patient_id).patient_id
        == clinic.patient.patient_id
    )


def test_a_patient_naming_another_patient_is_refused(services: Services, clinic: Clinic) -> None:
    with pytest.raises(PermissionDenied):
        book(services, clinic, at(10), patient_id=clinic.other_patient.patient_id)
    assert active_count(services, clinic) == 0


def test_an_admin_books_for_any_patient_they_name(services: Services, clinic: Clinic) -> None:
    booked = book(services, clinic, at(10), by="admin", patient_id=clinic.other_patient.patient_id)
    assert (
        services.appointments.get(clinic.other_patient, booked.id)["patient"]
        == clinic.other_patient.patient_id
    )
    with pytest.raises(InvalidInput):
        book(services, clinic, at(11), by="admin")
    with pytest.raises(NotFound):
        book(
            services,
            clinic,
            at(11),
            by="admin",
            patient_id=clinic.patient.patient_id + clinic.other_patient.patient_id + 1000,
        )


def test_a_doctor_does_not_book(services: Services, clinic: Clinic) -> None:
    attempt = BookAppointment(
        doctor_id=clinic.doctor.doctor_id, start=at(10), patient_id=clinic.patient.patient_id
    )
    doctors = ["doctor", "other_doctor"]
    assert clinic.each_role(
        lambda a: services.appointments.book(a, attempt), doctors
    ) == dict.fromkeys(doctors, PermissionDenied)


def test_a_new_appointment_in_a_status_other_than_pending_is_refused(
    services: Services, clinic: Clinic
) -> None:
    statuses = ["confirmed", "completed", "cancelled", "no_show", "bogus"]
    outcomes = {
        status: outcome(lambda s=status: book(services, clinic, at(10), status=s))
        for status in statuses
    }
    assert outcomes == dict.fromkeys(statuses, InvalidInput)
    assert active_count(services, clinic) == 0


def test_a_booking_outside_the_future_availability_is_refused(
    services: Services, clinic: Clinic
) -> None:
    starts = {
        "exactly now": (at(8), InPast),
        "in the past": (at(7, 30), InPast),
        "before the window": (at(8, 30), OutsideAvailability),
        "ending a minute past the window": (at(11, 31), OutsideAvailability),
        "after the window": (at(12), OutsideAvailability),
        "another day": (at(10, days=1), OutsideAvailability),
        "naive": (at(10).replace(tzinfo=None), NaiveDatetime),
    }
    outcomes = {
        name: outcome(lambda s=s: book(services, clinic, s[0])) for name, s in starts.items()
    }
    assert outcomes == {name: s[1] for name, s in starts.items()}
    assert active_count(services, clinic) == 0


def test_a_booking_at_the_edges_of_a_window_is_accepted(services: Services, clinic: Clinic) -> None:
    assert book(services, clinic, at(9)).start == at(9)
    assert book(services, clinic, at(11, 30)).end == at(12)  # ends exactly at the window's end


def test_a_booking_with_an_unknown_doctor_is_not_found(services: Services, clinic: Clinic) -> None:
    missing = clinic.doctor.doctor_id + clinic.other_doctor.doctor_id + 1000
    with pytest.raises(NotFound):
        services.appointments.book(clinic.patient, BookAppointment(doctor_id=missing, start=at(10)))


#: Against the 10:00-10:30 booking: the same slot, half of it, a minute of it at either end.
OVERLAPPING = [at(10), at(9, 45), at(10, 15), at(9, 31), at(10, 29)]


@pytest.mark.parametrize(
    ("other", "refusal"),
    [
        ({"patient": "other_patient", "doctor": "doctor"}, SlotUnavailable),
        ({"patient": "patient", "doctor": "other_doctor"}, PatientDoubleBooked),
    ],
    ids=["the-doctor-with-another-patient", "the-patient-with-another-doctor"],
)
def test_nobody_is_double_booked(
    services: Services, clinic: Clinic, booked: Appointment, other: dict, refusal: type[Exception]
) -> None:
    """Off the grid too: the front desk books there, and the storage still refuses overlaps."""
    patient_id = clinic.roles[other["patient"]].patient_id
    outcomes = [
        outcome(
            lambda s=s: book(
                services, clinic, s, by="admin", doctor=other["doctor"], patient_id=patient_id
            )
        )
        for s in OVERLAPPING
    ]
    assert outcomes == [refusal] * len(OVERLAPPING)
    assert active_count(services, clinic) == 1


# -- section 8: the grid ----------------------------------------------------------------------


def test_a_patient_books_only_a_slot_start_and_hears_the_nearest_ones(
    services: Services, clinic: Clinic
) -> None:
    with pytest.raises(NotASlotStart) as refused:
        book(services, clinic, at(10, 7))
    assert refused.value.errors["nearest"] == ["2030-01-07T10:00:00Z", "2030-01-07T10:30:00Z"]
    assert book(services, clinic, at(10, 30)).start == at(10, 30)


def test_the_front_desk_books_off_the_grid_on_whole_minutes(
    services: Services, clinic: Clinic
) -> None:
    patient_id = clinic.patient.patient_id
    assert book(services, clinic, at(10, 7), by="admin", patient_id=patient_id).start == at(10, 7)
    for by in ("admin", "patient"):
        with pytest.raises(NotWholeMinutes):
            book(
                services,
                clinic,
                at(11).replace(second=13, microsecond=123456),
                by=by,
                patient_id=patient_id,
            )


def test_touching_appointments_are_all_booked(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    for start in (at(9, 30), at(10, 30)):
        book(services, clinic, start, by="other_patient", doctor="doctor")
        book(services, clinic, start, by="patient", doctor="other_doctor")
    assert active_count(services, clinic) == 5


def test_the_doctors_conflict_is_reported_before_the_patients(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    with pytest.raises(SlotUnavailable):
        book(services, clinic, at(10))  # the same patient, doctor and time again
    assert active_count(services, clinic) == 1


def test_appointments_on_other_days_do_not_hold_the_slot(
    services: Services, clinic: Clinic
) -> None:
    for days in (1, 2):
        services.availability.create(
            clinic.doctor, CreateAvailability(start=at(9, days=days), end=at(12, days=days))
        )
    book(services, clinic, at(9))
    book(services, clinic, at(9, days=2))
    assert book(services, clinic, at(9, days=1)).start == at(9, days=1)
    assert active_count(services, clinic) == 3


@pytest.mark.parametrize("end_state", ["cancel", "reschedule"])
def test_a_freed_slot_can_be_booked_again(
    services: Services, clinic: Clinic, booked: Appointment, end_state: str
) -> None:
    if end_state == "cancel":
        services.appointments.cancel(clinic.patient, booked.id)
    else:
        reschedule(services, clinic.patient, booked.id, at(11))
    assert book(services, clinic, at(10), by="other_patient").start == at(10)


# -- reading and listing --------------------------------------------------------------------


def test_an_appointment_is_seen_by_admins_its_doctor_and_its_patient_only(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    sight = clinic.sight(
        lambda a: services.appointments.get(a, booked.id),
        lambda a: services.appointments.list(a, WIDE),
    )
    seen, unseen = (OK, {booked.id}), (NotFound, set())
    assert sight == row(seen, seen, unseen, seen, unseen)


def test_an_unknown_appointment_is_not_found(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    with pytest.raises(NotFound):
        services.appointments.get(clinic.admin, booked.id + 1000)


@pytest.fixture
def week(services: Services, clinic: Clinic, booked: Appointment) -> dict[str, Appointment]:
    """Four appointments: the booked one, one per other pair, and a cancelled one."""
    other = book(services, clinic, at(10), by="other_patient", doctor="other_doctor")
    cross = book(services, clinic, at(11), by="other_patient", doctor="doctor")
    gone = book(services, clinic, at(11), by="patient", doctor="other_doctor")
    services.appointments.cancel(clinic.patient, gone.id)
    return {"booked": booked, "other": other, "cross": cross, "gone": gone}


#: (who lists, with which filter) -> the appointments of ``week`` they get.
LISTS = [
    ("admin", {}, {"booked", "other", "cross", "gone"}),
    ("admin", {"status": Status.CANCELLED}, {"gone"}),
    ("admin", {"doctor": "other_doctor"}, {"other", "gone"}),
    ("admin", {"patient": "other_patient", "start": at(10, 30)}, {"cross"}),
    ("admin", {"start": at(10), "end": at(11)}, {"booked", "other"}),
    ("doctor", {}, {"booked", "cross"}),
    ("doctor", {"patient": "other_patient"}, {"cross"}),
    ("doctor", {"doctor": "other_doctor"}, set()),
    ("patient", {}, {"booked", "gone"}),
    ("patient", {"status": Status.PENDING}, {"booked"}),
    ("patient", {"patient": "other_patient"}, set()),
    ("patient", {"doctor": "other_doctor"}, {"gone"}),
    ("other_patient", {"patient": "patient", "doctor": "doctor"}, set()),
]


def test_lists_show_only_ones_own_appointments_whatever_the_filter(
    services: Services, clinic: Clinic, week: dict[str, Appointment]
) -> None:
    names = {a.id: name for name, a in week.items()}

    def listed(role: str, where: dict) -> tuple[set[str], int]:
        where = dict(where)
        doctor, patient = where.pop("doctor", None), where.pop("patient", None)
        filter_ = AppointmentFilter(
            doctor_id=clinic.roles[doctor].doctor_id if doctor else None,
            patient_id=clinic.roles[patient].patient_id if patient else None,
            **where,
        )
        page = services.appointments.list(clinic.roles[role], WIDE, filter_)
        return {names[a] for a in ids(page)}, page.total

    found = [(role, where, *listed(role, where)) for role, where, _ in LISTS]
    assert found == [(role, where, expected, len(expected)) for role, where, expected in LISTS]


def test_lists_are_paginated_in_time_order(
    services: Services, clinic: Clinic, week: dict[str, Appointment]
) -> None:
    first = services.appointments.list(clinic.admin, PageRequest(page=1, page_size=3))
    second = services.appointments.list(clinic.admin, PageRequest(page=2, page_size=3))
    assert (first.total, len(first.items), len(second.items)) == (4, 3, 1)
    starts = [a["datetime"] for a in first.items + second.items]
    assert starts == sorted(starts)


# -- rescheduling ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["patient", "admin"])
@pytest.mark.parametrize("confirmed", [False, True], ids=["pending", "confirmed"])
def test_its_patient_or_an_admin_reschedules_and_it_returns_to_pending(
    services: Services, clinic: Clinic, booked: Appointment, clock, role: str, confirmed: bool
) -> None:
    if confirmed:
        services.appointments.confirm(clinic.doctor, booked.id)
    clock.advance(timedelta(minutes=5))
    reschedule(services, clinic.roles[role], booked.id, at(11))
    stored = services.appointments.get(clinic.patient, booked.id)
    assert (stored["datetime"], stored["end"], stored["status"]) == (
        at(11),
        at(11, 30),
        Status.PENDING,
    )
    assert stored["updated_at"] == clock.now() != stored["created_at"]


def test_nobody_else_reschedules(services: Services, clinic: Clinic, booked: Appointment) -> None:
    refused = ["doctor", "other_doctor", "other_patient"]
    outcomes = clinic.each_role(
        lambda a: reschedule(services, a, booked.id, at(11)), refused
    )
    assert outcomes == {
        "doctor": PermissionDenied,
        "other_doctor": NotFound,
        "other_patient": NotFound,
    }
    assert services.appointments.get(clinic.admin, booked.id)["datetime"] == at(10)


def test_a_cancelled_appointment_is_not_rescheduled(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    services.appointments.cancel(clinic.patient, booked.id)
    with pytest.raises(TransitionNotAllowed):
        reschedule(services, clinic.patient, booked.id, at(11))


def test_a_reschedule_may_overlap_the_appointments_own_old_time(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    for start in (at(10, 15), at(9, 45)):  # later, then earlier, each overlapping where it was
        assert reschedule(services, clinic.admin, booked.id, start).start == start  # off the grid


def test_a_reschedule_is_checked_like_a_booking(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    book(services, clinic, at(11), by="other_patient")
    starts = {
        "onto the doctor's other appointment": (at(11), SlotUnavailable),
        "overlapping it, off the grid": (at(10, 45), NotASlotStart),
        "into the past": (at(7), InPast),
        "to right now": (at(8), InPast),
        "out of the window": (at(11, 45), OutsideAvailability),
        "naive": (at(11).replace(tzinfo=None), NaiveDatetime),
    }
    outcomes = {
        name: outcome(lambda s=s: reschedule(services, clinic.patient, booked.id, s[0]))
        for name, s in starts.items()
    }
    assert outcomes == {name: s[1] for name, s in starts.items()}
    assert services.appointments.get(clinic.patient, booked.id)["datetime"] == at(10)


def test_a_reschedule_onto_the_patients_other_appointment_is_refused(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    book(services, clinic, at(11), doctor="other_doctor")
    with pytest.raises(PatientDoubleBooked):
        reschedule(services, clinic.patient, booked.id, at(11))


# -- partial updates ------------------------------------------------------------------------


def test_its_patient_or_an_admin_edits_the_reason(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    refused = ["doctor", "other_doctor", "other_patient"]
    edit = UpdateAppointment(reason="Follow-up")
    outcomes = clinic.each_role(lambda a: services.appointments.update(a, booked.id, edit), refused)
    assert outcomes == {
        "doctor": PermissionDenied,
        "other_doctor": NotFound,
        "other_patient": NotFound,
    }
    assert services.appointments.get(clinic.admin, booked.id)["reason"] == "Checkup"
    for role, reason in [("patient", "Follow-up"), ("admin", "Follow-up, fasting")]:
        services.appointments.update(
            clinic.roles[role], booked.id, UpdateAppointment(reason=reason)
        )
        assert services.appointments.get(clinic.doctor, booked.id)["reason"] == reason


def test_a_status_in_an_update_runs_that_lifecycle_action(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    services.appointments.update(clinic.doctor, booked.id, UpdateAppointment(status="confirmed"))
    assert services.appointments.get(clinic.patient, booked.id)["status"] == Status.CONFIRMED
    services.appointments.update(
        clinic.patient,
        booked.id,
        UpdateAppointment(status="cancelled", cancellation_reason="Feeling better"),
    )
    stored = services.appointments.get(clinic.patient, booked.id)
    assert (stored["status"], stored["cancellation_reason"]) == (
        Status.CANCELLED,
        "Feeling better",
    )


def test_an_update_that_moves_and_edits_does_both(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    services.appointments.update(
        clinic.patient, booked.id, UpdateAppointment(start=at(11), reason="Moved")
    )
    stored = services.appointments.get(clinic.patient, booked.id)
    assert (stored["datetime"], stored["reason"], stored["status"]) == (
        at(11),
        "Moved",
        Status.PENDING,
    )


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        (UpdateAppointment(status="pending", start=at(11)), None),  # pending stays pending
        (UpdateAppointment(status="bogus"), InvalidInput),
        (UpdateAppointment(cancellation_reason="why not"), InvalidInput),
        (UpdateAppointment(status="completed"), TransitionNotAllowed),  # not confirmed, not started
    ],
    ids=[
        "pending-with-a-move",
        "unknown-status",
        "reason-without-cancelling",
        "complete-a-pending-one",
    ],
)
def test_an_update_refuses_what_the_lifecycle_refuses(
    services: Services,
    clinic: Clinic,
    booked: Appointment,
    change: UpdateAppointment,
    refusal: type[Exception] | None,
) -> None:
    if refusal is None:
        services.appointments.update(clinic.admin, booked.id, change)
        assert services.appointments.get(clinic.admin, booked.id)["datetime"] == at(11)
    else:
        with pytest.raises(refusal):
            services.appointments.update(clinic.admin, booked.id, change)
        stored = services.appointments.get(clinic.admin, booked.id)
        assert (stored["status"], stored["datetime"], stored["cancellation_reason"]) == (
            Status.PENDING,
            at(10),
            None,
        )


def test_going_back_to_pending_is_only_by_rescheduling(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    services.appointments.confirm(clinic.doctor, booked.id)
    with pytest.raises(PermissionDenied):
        services.appointments.update(clinic.admin, booked.id, UpdateAppointment(status="pending"))
    assert services.appointments.get(clinic.admin, booked.id)["status"] == Status.CONFIRMED
