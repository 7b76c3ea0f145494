"""Holds over HTTP (SPEC section 8), for every role."""

from __future__ import annotations

from datetime import timedelta

from healthcare.adapters.clock import FixedClock
from tests.e2e.conftest import Clinic, expect

SLOT = "2030-01-08T10:00:00Z"


def hold(caller, clinic: Clinic, when: str = SLOT, **extra):
    return caller.post(
        "/api/holds/", {"doctor": clinic.doctor.doctor_id, "datetime": when, **extra}
    )


def test_a_patient_holds_a_slot_then_books_it(clinic: Clinic, clock: FixedClock) -> None:
    held = expect(hold(clinic.other_patient, clinic), 201)
    assert held == {
        "id": held["id"],
        "doctor": clinic.doctor.doctor_id,
        "patient": clinic.other_patient.patient_id,
        "start": SLOT,
        "end": "2030-01-08T10:30:00Z",
        "expires_at": "2030-01-07T08:10:00Z",
    }
    assert expect(clinic.other_patient.get("/api/holds/"), 200) == [held]
    assert expect(clinic.other_patient.get("/api/appointments/"), 200) == []
    day = "start=2030-01-08T00:00:00Z&end=2030-01-09T00:00:00Z"
    slots = expect(clinic.patient.get(f"/api/doctors/{clinic.doctor.doctor_id}/slots/?{day}"), 200)
    assert SLOT not in [s["start"] for s in slots]
    expect(
        clinic.patient.post(
            "/api/appointments/", {"doctor": clinic.doctor.doctor_id, "datetime": SLOT}
        ),
        409,
    )
    clock.advance(timedelta(minutes=5))
    headers = {"Idempotency-Key": "book-hold-1"}
    path = f"/api/holds/{held['id']}/book/"
    booked = expect(clinic.other_patient.post(path, {"reason": "Checkup"}, headers=headers), 201)
    assert (booked["datetime"], booked["status"], booked["reason"]) == (SLOT, "pending", "Checkup")
    again = expect(clinic.other_patient.post(path, {"reason": "Checkup"}, headers=headers), 201)
    assert again == booked
    expect(clinic.other_patient.post(path, {}), 404)  # used up
    assert expect(clinic.other_patient.get("/api/holds/"), 200) == []


def test_each_role_sees_and_acts_on_only_its_own_holds(clinic: Clinic) -> None:
    held = expect(hold(clinic.other_patient, clinic), 201)
    for stranger in (clinic.patient, clinic.doctor, clinic.other_doctor):
        assert expect(stranger.get("/api/holds/"), 200) == []
        expect(stranger.post(f"/api/holds/{held['id']}/book/", {}), 404)
        expect(stranger.delete(f"/api/holds/{held['id']}/"), 404)
        expect(stranger.get(f"/api/holds/{held['id']}/"), 404)
    expect(hold(clinic.doctor, clinic, "2030-01-08T11:00:00Z"), 403)
    expect(
        hold(
            clinic.patient, clinic, "2030-01-08T11:00:00Z", patient=clinic.other_patient.patient_id
        ),
        403,
    )
    expect(clinic.anonymous.get("/api/holds/"), 401)
    assert [h["id"] for h in expect(clinic.admin.get("/api/holds/"), 200)] == [held["id"]]
    expect(hold(clinic.admin, clinic, "2030-01-08T11:00:00Z"), 422)  # names no patient
    for_pat = expect(
        hold(clinic.admin, clinic, "2030-01-08T11:00:00Z", patient=clinic.patient.patient_id), 201
    )
    expect(clinic.admin.delete(f"/api/holds/{for_pat['id']}/"), 204)
    expect(clinic.other_patient.delete(f"/api/holds/{held['id']}/"), 204)
    assert expect(clinic.admin.get("/api/holds/"), 200) == []


def test_holds_refused_answer_in_the_error_shape(clinic: Clinic, clock: FixedClock) -> None:
    off_grid = expect(hold(clinic.other_patient, clinic, "2030-01-08T10:10:00Z"), 422)
    assert off_grid["errors"]["nearest"] == ["2030-01-08T10:00:00Z", "2030-01-08T10:30:00Z"]
    expect(hold(clinic.other_patient, clinic, "2030-01-08T09:00:00Z"), 409)  # Pat's booking
    held = expect(hold(clinic.other_patient, clinic), 201)
    expect(hold(clinic.other_patient, clinic, "2030-01-08T11:00:00Z"), 201)
    too_many = expect(hold(clinic.other_patient, clinic, "2030-01-08T11:30:00Z"), 409)
    assert set(too_many) == {"code", "status", "message"}
    clock.advance(timedelta(minutes=10))
    expect(clinic.other_patient.post(f"/api/holds/{held['id']}/book/", {}), 409)  # expired
