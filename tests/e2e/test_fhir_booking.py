"""Booking and cancelling through FHIR over HTTP, on SQLite and PostgreSQL: the REST booking's
use case with its rules, idempotency keys and races; a cancel by JSON Patch; and every malformed
or unsupported body refused as an OperationOutcome before it reaches a use case."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier
from typing import Any

import pytest

from healthcare.adapters.clock import FixedClock
from tests.e2e.conftest import FIRST_SLOT, Caller, Clinic, expect
from tests.support.fhir import BASE, diagnostics, expect_fhir

JSON_PATCH = "application/json-patch+json"
CANCEL = [{"op": "replace", "path": "/status", "value": "cancelled"}]


def appointment(practitioner: int, start: str, **elements: Any) -> dict[str, Any]:
    """An Appointment a FHIR client books with: the doctor, the start, proposed."""
    participants = [{"actor": {"reference": f"Practitioner/{practitioner}"}, "status": "accepted"}]
    if "patient" in elements:
        patient = elements.pop("patient")
        participants.append({"actor": {"reference": f"Patient/{patient}"}, "status": "accepted"})
    return {
        "resourceType": "Appointment",
        "status": "proposed",
        "start": start,
        "participant": participants,
        **elements,
    }


def book(caller: Caller, body: Any, **headers: str) -> Any:
    return caller.post(f"{BASE}/Appointment", body, headers=headers)


def patch(caller: Caller, appointment_id: int, operations: Any, media_type: str = JSON_PATCH) -> Any:
    return caller.request(
        "PATCH",
        f"{BASE}/Appointment/{appointment_id}",
        json=operations,
        headers={"Content-Type": media_type},
    )


def stored_appointments(clinic: Clinic) -> list[dict[str, Any]]:
    return expect(clinic.admin.get("/api/appointments/?history=true&page_size=100"), 200)  # type: ignore[no-any-return]


# -- booking ----------------------------------------------------------------------------------


def test_a_patient_books_through_fhir_what_the_rest_api_then_shows(clinic: Clinic) -> None:
    body = appointment(
        clinic.doctor.doctor_id,
        "2030-01-08T11:00:00+01:00",  # 10:00 UTC
        end="2030-01-08T10:30:00Z",
        reasonCode=[{"text": "Chest pain"}],
    )
    response = book(clinic.patient, body)
    booked = expect_fhir(response, 201, "Appointment")
    assert response.headers["Location"].endswith(f"{BASE}/Appointment/{booked['id']}")
    assert (booked["status"], booked["start"], booked["end"]) == (
        "proposed",
        "2030-01-08T10:00:00Z",
        "2030-01-08T10:30:00Z",
    )
    assert booked["reasonCode"] == [{"text": "Chest pain"}]
    assert f"Patient/{clinic.patient.patient_id}" in str(booked["participant"])
    rest = expect(clinic.patient.get(f"/api/appointments/{booked['id']}/"), 200)
    assert (rest["status"], rest["reason"], rest["patient"]) == (
        "pending",
        "Chest pain",
        clinic.patient.patient_id,
    )
    expect_fhir(clinic.patient.get(f"{BASE}/Appointment/{booked['id']}"), 200, "Appointment")


def test_an_admin_books_for_the_patient_named_and_a_patient_only_for_themself(
    clinic: Clinic,
) -> None:
    for_olive = appointment(
        clinic.doctor.doctor_id, "2030-01-08T10:00:00Z", patient=clinic.other_patient.patient_id
    )
    booked = expect_fhir(book(clinic.admin, for_olive), 201)
    assert f"Patient/{clinic.other_patient.patient_id}" in str(booked["participant"])
    refused = appointment(
        clinic.doctor.doctor_id, "2030-01-08T10:30:00Z", patient=clinic.other_patient.patient_id
    )
    assert expect_fhir(book(clinic.patient, refused), 403)["issue"][0]["code"] == "forbidden"
    expect_fhir(book(clinic.doctor, refused), 403)  # doctors do not book
    without_patient = appointment(clinic.doctor.doctor_id, "2030-01-08T10:30:00Z")
    expect_fhir(book(clinic.admin, without_patient), 422)  # rule 4: the admin names them


@pytest.mark.parametrize(
    ("start", "elements", "status", "detail"),
    [
        (FIRST_SLOT, {}, 409, ""),  # Pat's own slot is taken
        ("2030-01-08T14:00:00Z", {}, 422, "availability"),
        ("2030-01-06T09:00:00Z", {}, 422, "future"),
        ("2030-01-08T10:00:00Z", {"end": "2030-01-08T10:45:00Z"}, 422, "Appointment.end"),
        ("2030-01-08T10:00:00Z", {"status": "booked"}, 422, "status"),
        ("2030-01-08T10:00:00Z", {"status": "waitlist"}, 422, "Appointment.status"),
        ("3030-01-08T10:00:00Z", {}, 422, "Appointment.start"),
    ],
)
def test_a_booking_a_rule_refuses_answers_the_rest_status_as_an_operation_outcome(
    clinic: Clinic, start: str, elements: dict[str, Any], status: int, detail: str
) -> None:
    body = appointment(clinic.doctor.doctor_id, start, **elements)
    outcome = expect_fhir(book(clinic.other_patient, body), status)
    assert detail in diagnostics(outcome)
    assert len(stored_appointments(clinic)) == 1


@pytest.mark.parametrize(
    ("body", "media_type", "status", "detail"),
    [
        ("{not json", "application/fhir+json", 400, "not JSON"),
        ([], "application/fhir+json", 400, "FHIR Appointment"),
        ({"resourceType": "Patient"}, "application/fhir+json", 400, "FHIR Appointment"),
        ({"resourceType": "Appointment", "status": "proposed", "start": "2030-01-08T10:00:00",
          "participant": []}, "application/json", 400, "Appointment.start"),
        ({"resourceType": "Appointment", "status": "proposed", "participant": [],
          "colour": "red"}, "application/fhir+json", 400, "Appointment.colour"),
        ({"resourceType": "Appointment", "status": "proposed", "start": "2030-01-08T10:00:00Z",
          "participant": [{"actor": {"reference": "Practitioner/1"}, "status": "accepted"}],
          "comment": "Bring the X-rays"}, "application/fhir+json", 422, "Appointment.comment"),
        ({"resourceType": "Appointment", "status": "proposed", "start": "2030-01-08T10:00:00Z",
          "participant": [{"actor": {"reference": "Location/1"}, "status": "accepted"}]},
         "application/fhir+json", 422, "Appointment.participant"),
        ({"resourceType": "Appointment", "status": "proposed", "start": "2030-01-08T10:00:00Z",
          "participant": [{"actor": {"reference": "Practitioner/1"}, "status": "accepted"}],
          "reasonCode": [{"coding": [{"code": "x"}]}]}, "application/fhir+json", 422,
         "Appointment.reasonCode"),
        ({"resourceType": "Appointment"}, "text/plain", 415, ""),
    ],
)
def test_a_malformed_or_unsupported_appointment_is_refused_before_any_use_case(
    clinic: Clinic, body: Any, media_type: str, status: int, detail: str
) -> None:
    data = body if isinstance(body, str) else None
    response = clinic.patient.request(
        "POST",
        f"{BASE}/Appointment",
        data=data,
        json=None if data is not None else body,
        headers={"Content-Type": media_type},
    )
    assert detail in diagnostics(expect_fhir(response, status))
    assert len(stored_appointments(clinic)) == 1


# -- idempotency: one key space with the REST booking ---------------------------------------------


def test_a_fhir_booking_retried_with_its_key_books_once(clinic: Clinic) -> None:
    body = appointment(clinic.doctor.doctor_id, "2030-01-08T10:00:00Z")
    first = expect_fhir(book(clinic.patient, body, **{"Idempotency-Key": "fhir-1"}), 201)
    again = expect_fhir(book(clinic.patient, body, **{"Idempotency-Key": "fhir-1"}), 201)
    assert again["id"] == first["id"]
    other = appointment(clinic.doctor.doctor_id, "2030-01-08T10:30:00Z")
    expect_fhir(book(clinic.patient, other, **{"Idempotency-Key": "fhir-1"}), 422)
    assert len(stored_appointments(clinic)) == 2


def test_the_same_booking_under_one_key_is_one_booking_through_either_interface(
    clinic: Clinic,
) -> None:
    key = {"Idempotency-Key": "both-ways"}
    rest = expect(
        clinic.patient.post(
            "/api/appointments/",
            {"doctor": clinic.doctor.doctor_id, "datetime": "2030-01-08T10:00:00Z"},
            headers=key,
        ),
        201,
    )
    body = appointment(clinic.doctor.doctor_id, "2030-01-08T10:00:00Z", end="2030-01-08T10:30:00Z")
    assert expect_fhir(book(clinic.patient, body, **key), 201)["id"] == str(rest["id"])
    elsewhere = appointment(clinic.doctor.doctor_id, "2030-01-08T11:00:00Z")
    expect_fhir(book(clinic.patient, elsewhere, **key), 422)  # another request: refused
    assert len(stored_appointments(clinic)) == 2


# -- the race: FHIR and REST for one slot --------------------------------------------------------


def test_a_fhir_and_a_rest_booking_racing_for_one_slot_book_it_once(clinic: Clinic) -> None:
    """Pat books through FHIR and Olive through REST, at the same instant, three slots over:
    each slot goes to exactly one of them, the other hears 409."""
    for start in ("2030-01-08T10:00:00Z", "2030-01-08T10:30:00Z", "2030-01-08T11:00:00Z"):
        together = Barrier(2)

        def by_fhir() -> int:
            body = appointment(clinic.doctor.doctor_id, start)
            together.wait(timeout=30)
            return book(clinic.patient, body).status_code  # type: ignore[no-any-return]

        def by_rest() -> int:
            body = {"doctor": clinic.doctor.doctor_id, "datetime": start}
            together.wait(timeout=30)
            return clinic.other_patient.post("/api/appointments/", body).status_code

        with ThreadPoolExecutor(2) as pool:
            racing = [pool.submit(by_fhir), pool.submit(by_rest)]
            statuses = sorted(future.result() for future in racing)
        assert statuses == [201, 409], (start, statuses)
        holders = [
            a for a in stored_appointments(clinic) if a["datetime"] == start and a["status"] == "pending"
        ]
        assert len(holders) == 1, holders


# -- cancelling by JSON Patch -------------------------------------------------------------------


def test_a_patient_cancels_their_appointment_with_a_json_patch(clinic: Clinic) -> None:
    cancelled = expect_fhir(patch(clinic.patient, clinic.appointment_id, CANCEL), 200)
    assert cancelled["status"] == "cancelled"
    rest = expect(clinic.patient.get(f"/api/appointments/{clinic.appointment_id}/"), 200)
    assert rest["status"] == "cancelled"
    # Cancelling again changes nothing and is refused as the REST cancel is.
    expect_fhir(patch(clinic.patient, clinic.appointment_id, CANCEL), 200)
    expect(clinic.patient.post(f"/api/appointments/{clinic.appointment_id}/cancel/"), 409)


def test_a_doctor_cancels_and_outsiders_find_no_appointment_to_patch(clinic: Clinic) -> None:
    for outsider in (clinic.other_patient, clinic.other_doctor):
        expect_fhir(patch(outsider, clinic.appointment_id, CANCEL), 404)
    assert expect_fhir(patch(clinic.doctor, clinic.appointment_id, CANCEL), 200)["status"] == (
        "cancelled"
    )


def test_a_patch_that_changes_nothing_answers_the_appointment_as_it_is(clinic: Clinic) -> None:
    same = [{"op": "test", "path": "/status", "value": "proposed"}]
    assert expect_fhir(patch(clinic.patient, clinic.appointment_id, same), 200)["status"] == (
        "proposed"
    )
    rest = expect(clinic.patient.get(f"/api/appointments/{clinic.appointment_id}/"), 200)
    assert rest["status"] == "pending"


@pytest.mark.parametrize(
    ("operations", "media_type", "status"),
    [
        ([{"op": "replace", "path": "/start", "value": "2030-01-08T10:00:00Z"}], JSON_PATCH, 422),
        ([{"op": "replace", "path": "/status", "value": "booked"}], JSON_PATCH, 422),
        ([{"op": "replace", "path": "/status", "value": "nonsense"}], JSON_PATCH, 422),
        (CANCEL + [{"op": "add", "path": "/comment", "value": "x"}], JSON_PATCH, 422),
        ([{"op": "remove", "path": "/participant"}] + CANCEL, JSON_PATCH, 422),
        ([{"op": "test", "path": "/status", "value": "booked"}] + CANCEL, JSON_PATCH, 409),
        ([{"op": "remove", "path": "/comment"}], JSON_PATCH, 409),
        ([{"op": "jump", "path": "/status"}], JSON_PATCH, 400),
        ([{"op": "replace", "path": "status", "value": "cancelled"}], JSON_PATCH, 400),
        ({"op": "replace", "path": "/status", "value": "cancelled"}, JSON_PATCH, 400),
        ([1, 2], JSON_PATCH, 400),
        ({"resourceType": "Parameters"}, "application/fhir+json", 415),
    ],
)
def test_a_patch_other_than_cancelling_is_refused_and_changes_nothing(
    clinic: Clinic, operations: Any, media_type: str, status: int
) -> None:
    expect_fhir(patch(clinic.patient, clinic.appointment_id, operations, media_type), status)
    rest = expect(clinic.patient.get(f"/api/appointments/{clinic.appointment_id}/"), 200)
    assert rest["status"] == "pending"


def test_a_patient_cannot_cancel_once_the_appointment_has_started(
    clinic: Clinic, clock: FixedClock
) -> None:
    expect(clinic.doctor.post(f"/api/appointments/{clinic.appointment_id}/confirm/"), 200)
    clock.advance(timedelta(hours=25, minutes=30))  # 09:30 on the day: under way
    outcome = expect_fhir(patch(clinic.patient, clinic.appointment_id, CANCEL), 409)
    assert outcome["issue"][0]["code"] == "conflict"
    assert expect_fhir(patch(clinic.doctor, clinic.appointment_id, CANCEL), 200)["status"] == (
        "cancelled"
    )
