"""Idempotent booking, reschedule history, and free slots across doctors."""

from __future__ import annotations

import pytest

from healthcare.application.commands import BookAppointment, UpdateAppointment
from healthcare.application.ports import AppointmentFilter
from healthcare.domain.appointments import RESCHEDULED, Status
from healthcare.domain.errors import IdempotencyKeyReused, InvalidInput, SlotUnavailable
from tests.use_cases.clinic import WIDE, Clinic, Services, at, reschedule


def command(clinic: Clinic, hour: int, minute: int = 0, reason: str = "") -> BookAppointment:
    return BookAppointment(doctor_id=clinic.doctor.doctor_id, start=at(hour, minute), reason=reason)


def listed(services: Services, clinic: Clinic, **where: object) -> list:
    return services.appointments.list(clinic.admin, WIDE, AppointmentFilter(**where)).items


# -- idempotency -----------------------------------------------------------------------------


def test_a_retry_with_the_same_key_returns_the_first_booking_and_books_nothing_new(
    services: Services, clinic: Clinic
) -> None:
    first = services.appointments.book(clinic.patient, command(clinic, 10), "retry-1")
    again = services.appointments.book(clinic.patient, command(clinic, 10), "retry-1")
    assert again.id == first.id
    assert [a["id"] for a in listed(services, clinic)] == [first.id]


def test_the_same_key_with_another_request_is_refused(services: Services, clinic: Clinic) -> None:
    services.appointments.book(clinic.patient, command(clinic, 10), "k")
    with pytest.raises(IdempotencyKeyReused):
        services.appointments.book(clinic.patient, command(clinic, 11), "k")
    with pytest.raises(IdempotencyKeyReused):
        services.appointments.book(clinic.patient, command(clinic, 10, reason="Other"), "k")
    assert len(listed(services, clinic)) == 1


def test_keys_belong_to_their_user(services: Services, clinic: Clinic) -> None:
    mine = services.appointments.book(clinic.patient, command(clinic, 10), "same")
    theirs = services.appointments.book(clinic.other_patient, command(clinic, 11), "same")
    assert mine.id != theirs.id


def test_a_naming_of_oneself_is_the_same_request_as_leaving_the_patient_out(
    services: Services, clinic: Clinic
) -> None:
    first = services.appointments.book(clinic.patient, command(clinic, 10), "k")
    explicit = BookAppointment(clinic.doctor.doctor_id, at(10), patient_id=clinic.patient.patient_id)
    assert services.appointments.book(clinic.patient, explicit, "k").id == first.id


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\there"])
def test_a_key_that_is_not_1_to_255_printable_ascii_characters_is_refused(
    services: Services, clinic: Clinic, key: str
) -> None:
    with pytest.raises(InvalidInput):
        services.appointments.book(clinic.patient, command(clinic, 10), key)
    assert listed(services, clinic) == []


def test_a_refused_booking_stores_no_key(services: Services, clinic: Clinic) -> None:
    with pytest.raises(InvalidInput):  # outside the window
        services.appointments.book(clinic.patient, command(clinic, 13), "k")
    assert services.appointments.book(clinic.patient, command(clinic, 10), "k").is_active


# -- reschedule history ----------------------------------------------------------------------


def test_a_reschedule_moves_the_appointment_and_keeps_the_old_slot_as_history(
    services: Services, clinic: Clinic
) -> None:
    booked = services.appointments.book(clinic.patient, command(clinic, 10, reason="Checkup"))
    services.appointments.confirm(clinic.doctor, booked.id)

    moved = reschedule(services, clinic.patient, booked.id, at(11))

    assert (moved.id, moved.start, moved.status) == (booked.id, at(11), Status.PENDING)
    history = services.appointments.get(clinic.patient, moved.rescheduled_from)
    assert (
        history["datetime"], history["status"], history["cancellation_reason"], history["reason"]
    ) == (at(10), Status.CANCELLED, RESCHEDULED, "Checkup")
    assert not history["late_cancellation"]
    assert [a["id"] for a in listed(services, clinic)] == [moved.id]
    assert {a["id"] for a in listed(services, clinic, include_history=True)} == {
        moved.id,
        history["id"],
    }
    # The old slot is free again, the new one taken.
    services.appointments.book(clinic.other_patient, command(clinic, 10))
    with pytest.raises(SlotUnavailable):
        services.appointments.book(clinic.other_patient, command(clinic, 11))


def test_moving_twice_chains_the_history(services: Services, clinic: Clinic) -> None:
    booked = services.appointments.book(clinic.patient, command(clinic, 10))
    once = reschedule(services, clinic.patient, booked.id, at(11))
    twice = reschedule(services, clinic.patient, booked.id, at(9))
    previous = services.appointments.get(clinic.admin, twice.rescheduled_from)
    assert previous["datetime"] == at(11)
    assert previous["rescheduled_from"] == once.rescheduled_from


def test_a_refused_reschedule_leaves_no_history_behind(services: Services, clinic: Clinic) -> None:
    booked = services.appointments.book(clinic.patient, command(clinic, 10))
    services.appointments.book(clinic.other_patient, command(clinic, 11))
    with pytest.raises(SlotUnavailable):
        services.appointments.update(clinic.patient, booked.id, UpdateAppointment(start=at(11)))
    assert len(listed(services, clinic, include_history=True)) == 2
    assert services.appointments.get(clinic.patient, booked.id)["rescheduled_from"] is None


# -- slots across doctors --------------------------------------------------------------------


def test_slots_across_doctors_come_in_time_order_and_filter_by_specialization(
    services: Services, clinic: Clinic
) -> None:
    services.appointments.book(clinic.patient, command(clinic, 9))
    page = services.slots.across(clinic.admin, WIDE, at(0), at(23))
    pairs = [(s.interval.start, s.doctor.id) for s in page.items]
    assert pairs == sorted(pairs) and page.total == 11
    assert pairs[:2] == [(at(9), clinic.other_doctor.doctor_id), (at(9, 30), clinic.doctor.doctor_id)]
    # A patient is offered only what they can book: not a second appointment at 09:00.
    mine = services.slots.across(clinic.patient, WIDE, at(0), at(23))
    assert mine.total == 10 and all(s.interval.start != at(9) for s in mine.items)
    cardiology = services.slots.across(clinic.patient, WIDE, at(0), at(23), "cardiology")
    assert {s.doctor.id for s in cardiology.items} == {clinic.doctor.doctor_id}
