"""Over HTTP: every creating POST a client would retry takes an Idempotency-Key, and a retry
under it answers 201 with what the first request created."""

from __future__ import annotations

from tests.e2e.conftest import PASSWORD, Clinic, expect


def test_a_sign_up_retried_with_its_key_answers_the_same_account(clinic: Clinic) -> None:
    body = {"email": "retry@example.test", "password": PASSWORD, "name": "Ray Tray"}
    key = {"Idempotency-Key": "3f7b7c1e-sign-up"}
    first = expect(clinic.anonymous.post("/api/auth/register/", body, headers=key), 201)
    again = expect(clinic.anonymous.post("/api/auth/register/", body, headers=key), 201)
    assert again == first
    expect(clinic.anonymous.post("/api/auth/register/", body), 409)  # without a key: taken


def test_a_record_retried_with_its_key_is_written_once(clinic: Clinic) -> None:
    expect(clinic.doctor.post(f"/api/appointments/{clinic.appointment_id}/confirm/"), 200)
    body = {"appointment": clinic.appointment_id, "diagnosis": "Sprain"}
    key = {"Idempotency-Key": "record-1"}
    first = expect(clinic.doctor.post("/api/medical-records/", body, headers=key), 201)
    again = expect(clinic.doctor.post("/api/medical-records/", body, headers=key), 201)
    assert again["id"] == first["id"]
    listed = expect(clinic.admin.get("/api/medical-records/"), 200)
    assert [record["id"] for record in listed] == [first["id"]]
    other = {"appointment": clinic.appointment_id, "diagnosis": "Fracture"}
    expect(clinic.doctor.post("/api/medical-records/", other, headers=key), 422)
