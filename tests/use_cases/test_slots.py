"""Free slots: what a patient can actually book with a doctor."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from healthcare.application.commands import BookAppointment
from healthcare.domain.appointments import Appointment
from healthcare.domain.errors import InvalidInput, NaiveDatetime, NotFound
from tests.use_cases.clinic import Clinic, Services, at

MORNING = [at(9), at(9, 30), at(10), at(10, 30), at(11), at(11, 30)]


TODAY = (at(0), at(0, days=1))


def free(
    services: Services, clinic: Clinic, start: datetime = TODAY[0], end: datetime = TODAY[1]
) -> list[datetime]:
    doctor, slots = services.slots.for_doctor(clinic.patient, clinic.doctor.doctor_id, start, end)
    assert doctor.id == clinic.doctor.doctor_id
    return [slot.start for slot in slots]


def test_every_aligned_slot_of_the_window_is_free_at_first(
    services: Services, clinic: Clinic
) -> None:
    assert free(services, clinic) == MORNING


def test_a_booked_slot_is_not_offered_until_it_is_cancelled(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    assert free(services, clinic) == [s for s in MORNING if s != at(10)]
    services.appointments.cancel(clinic.patient, booked.id)
    assert free(services, clinic) == MORNING


def test_another_doctors_bookings_do_not_take_this_doctors_slots(
    services: Services, clinic: Clinic
) -> None:
    services.appointments.book(
        clinic.other_patient, BookAppointment(doctor_id=clinic.other_doctor.doctor_id, start=at(9))
    )
    assert free(services, clinic) == MORNING


def test_only_slots_starting_after_now_are_offered(
    services: Services, clinic: Clinic, clock
) -> None:
    clock.advance(timedelta(hours=2))  # 10:00
    assert free(services, clinic) == [at(10, 30), at(11), at(11, 30)]


def test_every_offered_slot_can_be_booked(services: Services, clinic: Clinic) -> None:
    for start in free(services, clinic, at(10), at(11)):
        services.appointments.book(
            clinic.patient, BookAppointment(doctor_id=clinic.doctor.doctor_id, start=start)
        )
    assert free(services, clinic) == [at(9), at(9, 30), at(11), at(11, 30)]


def test_the_search_range_clips_the_slots(services: Services, clinic: Clinic) -> None:
    assert free(services, clinic, at(9, 15), at(10, 45)) == [at(9, 30), at(10)]


@pytest.mark.parametrize(
    ("start", "end", "refusal"),
    [
        (at(0), at(0, days=31) + timedelta(minutes=1), InvalidInput),
        (at(10), at(9), InvalidInput),
        (at(0).replace(tzinfo=None), at(12), NaiveDatetime),
    ],
    ids=["over-31-days", "reversed", "naive"],
)
def test_a_bad_search_range_is_refused(
    services: Services, clinic: Clinic, start: datetime, end: datetime, refusal: type[Exception]
) -> None:
    with pytest.raises(refusal):
        free(services, clinic, start, end)


def test_the_slots_of_an_unknown_doctor_are_not_found(services: Services, clinic: Clinic) -> None:
    missing = clinic.doctor.doctor_id + clinic.other_doctor.doctor_id + 1000
    with pytest.raises(NotFound):
        services.slots.for_doctor(clinic.patient, missing, at(0), at(0, days=1))
