"""Mass assignment (OWASP API3): fields a client must not set are refused, never applied.

Every operation with a JSON body in the OpenAPI document is sent each privileged field it does
not declare (``role``, ``status``, ``id``, ``created_at``, ...): the answer is 422 naming that
field, and nothing was stored. Fields an operation does declare but that grant power (``patient``
on a booking, ``doctor`` on a window, ``status``) are rules, tried with a valid body below.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Clinic, expect
from tests.security.surface import document, operations

PRIVILEGED = {
    "role": "admin",
    "status": "confirmed",
    "patient": 1,
    "doctor": 2,
    "user": 1,
    "id": 4242,
    "created_at": "2020-01-01T00:00:00Z",
    "updated_at": "2020-01-01T00:00:00Z",
    "is_active": True,
    "password_hash": "x",
    "author": 2,
}
#: Who tries: the first of these the operation lets past its role check.
ATTEMPTS = ("admin", "doctor", "patient", "anonymous")


def _writes() -> list[tuple[str, str, set[str]]]:
    """(METHOD, path, declared fields) for every operation with a JSON body."""
    found = []
    components = document()["components"]["schemas"]
    for method, path in operations():
        body = document()["paths"][path][method.lower()].get("requestBody")
        if not body:
            continue
        schema = body["content"]["application/json"]["schema"]
        if "$ref" in schema:
            schema = components[schema["$ref"].rsplit("/", 1)[1]]
        found.append((method, path, set(schema.get("properties", {}))))
    return found


def _fill(path: str, clinic: Clinic) -> str:
    return "/".join(
        str(clinic.appointment_id) if part.startswith("{") else part for part in path.split("/")
    )


def _state(clinic: Clinic) -> dict[str, Any]:
    paths = ("/api/users/", "/api/doctors/", "/api/patients/", "/api/appointments/")
    return {path: expect(clinic.admin.get(f"{path}?page_size=100"), 200) for path in paths}


@pytest.mark.parametrize(
    "method,path,declared", _writes(), ids=[f"{m} {p}" for m, p, _ in _writes()]
)
def test_undeclared_privileged_fields_are_refused_by_every_write(
    clinic: Clinic, method: str, path: str, declared: set[str]
) -> None:
    before = _state(clinic)
    for name, value in PRIVILEGED.items():
        if name in declared:
            continue
        for actor in ATTEMPTS:
            response = clinic.caller(actor).request(method, _fill(path, clinic), json={name: value})
            if response.status_code not in (401, 403):
                break
        if response.status_code in (401, 403):
            continue  # nobody here may call it at all
        body = expect(response, 422)
        assert name in body["errors"], (method, path, name, body)
    assert _state(clinic) == before


def test_a_booking_with_extra_fields_creates_nothing(clinic: Clinic) -> None:
    slot = {"doctor": clinic.doctor.doctor_id, "datetime": "2030-01-08T10:00:00Z"}
    for name in ("id", "created_at", "end", "cancellation_reason", "updated_at"):
        expect(
            clinic.other_patient.post(
                "/api/appointments/", {**slot, name: PRIVILEGED.get(name, "x")}
            ),
            422,
        )
    for status in ("confirmed", "completed", "no_show", "cancelled"):
        expect(
            clinic.other_patient.post("/api/appointments/", {**slot, "status": status}),
            422,
        )
    expect(
        clinic.other_patient.post(
            "/api/appointments/", {**slot, "patient": clinic.patient.patient_id}
        ),
        403,
    )
    assert expect(clinic.other_patient.get("/api/appointments/"), 200) == []
    booked = expect(
        clinic.other_patient.post("/api/appointments/", {**slot, "status": "pending"}),
        201,
    )
    assert booked["status"] == "pending" and booked["patient"] == clinic.other_patient.patient_id


def test_a_patient_cannot_move_their_appointment_to_another_patient_or_doctor(
    clinic: Clinic,
) -> None:
    path = f"/api/appointments/{clinic.appointment_id}/"
    before = expect(clinic.admin.get(path), 200)
    for extra in (
        {"patient": clinic.other_patient.patient_id},
        {"doctor": clinic.other_doctor.doctor_id},
    ):
        expect(clinic.patient.patch(path, extra), 422)
    expect(clinic.patient.patch(path, {"status": "confirmed"}), 403)
    assert expect(clinic.admin.get(path), 200) == before


def test_self_service_profile_edits_cannot_reach_other_fields(clinic: Clinic) -> None:
    own = f"/api/patients/{clinic.patient.patient_id}/"
    before = expect(clinic.admin.get(own), 200)
    for extra in ({"user": clinic.admin.user_id}, {"id": 99}, {"role": "admin"}):
        expect(clinic.patient.patch(own, {"phone": "+1 555 0111", **extra}), 422)
    expect(clinic.patient.patch(own, {"phone": "+1 555 0111", "insurance_id": "X"}), 403)
    assert expect(clinic.admin.get(own), 200) == before
    me = expect(clinic.patient.get("/api/auth/me/"), 200)
    assert me["user"]["role"] == "patient"


def test_a_doctor_cannot_write_a_record_as_another_doctor_or_for_another_patient(
    clinic: Clinic,
) -> None:
    body = {"appointment": clinic.appointment_id, "diagnosis": "Flu"}
    expect(
        clinic.doctor.post(
            "/api/medical-records/", {**body, "doctor": clinic.other_doctor.doctor_id}
        ),
        422,
    )
    expect(
        clinic.doctor.post(
            "/api/medical-records/",
            {**body, "patient": clinic.other_patient.patient_id},
        ),
        422,
    )
    assert expect(clinic.admin.get("/api/medical-records/"), 200) == []
    record = expect(
        clinic.doctor.post("/api/medical-records/", {**body, "patient": clinic.patient.patient_id}),
        201,
    )
    assert record["doctor"] == clinic.doctor.doctor_id
    path = f"/api/medical-records/{record['id']}/"
    for extra in (
        {"doctor": clinic.other_doctor.doctor_id},
        {"patient": 2},
        {"appointment": 2},
    ):
        expect(clinic.doctor.patch(path, {"notes": "x", **extra}), 422)
    assert expect(clinic.admin.get(path), 200) == record
