"""SPEC section 4, row by row, in both directions: who may, and what the others hear.

A resource the caller may not see is 404; one they can see but may not change is 403.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import PASSWORD, Clinic, create_user, expect

SIGNED_IN = ["admin", "doctor", "other_doctor", "patient", "other_patient"]
#: Pat's appointment and record: Pat, Pat's doctor and admins see them; the others hear 404.
SEES_PATS_CARE = [
    ("admin", 200),
    ("doctor", 200),
    ("patient", 200),
    ("other_doctor", 404),
    ("other_patient", 404),
]


def _record(clinic: Clinic) -> dict:
    return expect(
        clinic.doctor.post(
            "/api/medical-records/",
            {"appointment": clinic.appointment_id, "diagnosis": "Healthy", "treatment": "Rest"},
        ),
        201,
    )


# -- doctors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", SIGNED_IN)
def test_any_signed_in_user_lists_and_reads_doctors(clinic: Clinic, role: str) -> None:
    caller = clinic.caller(role)
    doctors = expect(caller.get("/api/doctors/"), 200)
    assert {d["name"] for d in doctors} == {"Dr. Adams", "Dr. Baker"}
    doctor = expect(caller.get(f"/api/doctors/{clinic.doctor.doctor_id}/"), 200)
    assert doctor["user"] == clinic.doctor.user_id


def test_nobody_unsigned_reads_doctors(clinic: Clinic) -> None:
    expect(clinic.anonymous.get("/api/doctors/"), 401)
    expect(clinic.anonymous.get(f"/api/doctors/{clinic.doctor.doctor_id}/"), 401)


def test_an_admin_creates_updates_and_deletes_a_doctor(clinic: Clinic) -> None:
    user = create_user(clinic.admin, "cole@clinic.test", "doctor")
    created = expect(
        clinic.admin.post(
            "/api/doctors/",
            {
                "user": user["id"],
                "name": "Dr. Cole",
                "specialization": "Neurology",
                "appointment_minutes": 20,
                "timezone": "Europe/Berlin",
            },
        ),
        201,
    )
    assert created["appointment_minutes"] == 20 and created["timezone"] == "Europe/Berlin"
    path = f"/api/doctors/{created['id']}/"
    assert (
        expect(clinic.admin.patch(path, {"specialization": "Pediatrics"}), 200)["specialization"]
        == "Pediatrics"
    )
    assert clinic.admin.delete(path).status_code == 204
    expect(clinic.admin.get(path), 404)


@pytest.mark.parametrize("role", ["doctor", "patient"])
def test_only_admins_create_update_or_delete_doctors(clinic: Clinic, role: str) -> None:
    caller = clinic.caller(role)
    path = f"/api/doctors/{clinic.other_doctor.doctor_id}/"
    expect(
        caller.post(
            "/api/doctors/", {"user": caller.user_id, "name": "Dr. Me", "specialization": "X"}
        ),
        403,
    )
    expect(caller.patch(path, {"name": "Renamed"}), 403)
    expect(caller.delete(path), 403)
    assert expect(clinic.admin.get(path), 200)["name"] == "Dr. Baker"


# -- availabilities --------------------------------------------------------------------------


@pytest.mark.parametrize("role", SIGNED_IN)
def test_any_signed_in_user_lists_and_reads_availability(clinic: Clinic, role: str) -> None:
    caller = clinic.caller(role)
    windows = expect(caller.get("/api/availabilities/"), 200)
    assert [w["id"] for w in windows] == [clinic.window_id]
    window = expect(caller.get(f"/api/availabilities/{clinic.window_id}/"), 200)
    assert window == {
        "id": clinic.window_id,
        "doctor": clinic.doctor.doctor_id,
        "start_time": "2030-01-08T09:00:00Z",
        "end_time": "2030-01-08T12:00:00Z",
    }


def test_a_doctor_manages_their_own_availability(clinic: Clinic) -> None:
    created = expect(
        clinic.other_doctor.post(
            "/api/availabilities/",
            {"start_time": "2030-01-09T09:00:00+01:00", "end_time": "2030-01-09T12:00:00+01:00"},
        ),
        201,
    )
    assert created["doctor"] == clinic.other_doctor.doctor_id
    assert created["start_time"] == "2030-01-09T08:00:00Z"  # answered in UTC
    path = f"/api/availabilities/{created['id']}/"
    changed = expect(clinic.other_doctor.patch(path, {"end_time": "2030-01-09T13:00:00Z"}), 200)
    assert changed["end_time"] == "2030-01-09T13:00:00Z"
    assert clinic.other_doctor.delete(path).status_code == 204


def test_a_doctor_cannot_manage_another_doctors_availability(clinic: Clinic) -> None:
    path = f"/api/availabilities/{clinic.window_id}/"
    expect(
        clinic.other_doctor.post(
            "/api/availabilities/",
            {
                "doctor": clinic.doctor.doctor_id,
                "start_time": "2030-01-09T09:00:00Z",
                "end_time": "2030-01-09T12:00:00Z",
            },
        ),
        403,
    )
    expect(clinic.other_doctor.patch(path, {"end_time": "2030-01-08T13:00:00Z"}), 403)
    expect(clinic.other_doctor.delete(path), 403)


def test_an_admin_manages_any_doctors_availability(clinic: Clinic) -> None:
    created = expect(
        clinic.admin.post(
            "/api/availabilities/",
            {
                "doctor": clinic.other_doctor.doctor_id,
                "start_time": "2030-01-09T09:00:00Z",
                "end_time": "2030-01-09T12:00:00Z",
            },
        ),
        201,
    )
    path = f"/api/availabilities/{created['id']}/"
    expect(clinic.admin.patch(path, {"start_time": "2030-01-09T08:00:00Z"}), 200)
    assert clinic.admin.delete(path).status_code == 204


def test_a_patient_cannot_manage_availability(clinic: Clinic) -> None:
    path = f"/api/availabilities/{clinic.window_id}/"
    window = {
        "doctor": clinic.doctor.doctor_id,
        "start_time": "2030-01-09T09:00:00Z",
        "end_time": "2030-01-09T12:00:00Z",
    }
    expect(clinic.patient.post("/api/availabilities/", window), 403)
    expect(clinic.patient.patch(path, {"end_time": "2030-01-08T13:00:00Z"}), 403)
    expect(clinic.patient.delete(path), 403)


# -- patients --------------------------------------------------------------------------------


def test_an_admin_lists_and_reads_every_patient(clinic: Clinic) -> None:
    patients = expect(clinic.admin.get("/api/patients/"), 200)
    assert {p["name"] for p in patients} == {"Pat Lee", "Olive Ng"}
    expect(clinic.admin.get(f"/api/patients/{clinic.other_patient.patient_id}/"), 200)


def test_a_doctor_sees_only_their_patients(clinic: Clinic) -> None:
    assert [p["id"] for p in expect(clinic.doctor.get("/api/patients/"), 200)] == [
        clinic.patient.patient_id
    ]
    expect(clinic.doctor.get(f"/api/patients/{clinic.patient.patient_id}/"), 200)
    expect(clinic.doctor.get(f"/api/patients/{clinic.other_patient.patient_id}/"), 404)
    assert expect(clinic.other_doctor.get("/api/patients/"), 200) == []
    expect(clinic.other_doctor.get(f"/api/patients/{clinic.patient.patient_id}/"), 404)


def test_a_patient_sees_only_themself(clinic: Clinic) -> None:
    mine = expect(clinic.patient.get("/api/patients/"), 200)
    assert [p["id"] for p in mine] == [clinic.patient.patient_id]
    me = expect(clinic.patient.get(f"/api/patients/{clinic.patient.patient_id}/"), 200)
    assert me["email"] == "pat@example.test" and me["user"] == clinic.patient.user_id
    expect(clinic.patient.get(f"/api/patients/{clinic.other_patient.patient_id}/"), 404)


def test_an_admin_creates_a_patient_profile_and_others_cannot(clinic: Clinic) -> None:
    user = create_user(clinic.admin, "quinn@example.test", "patient")
    body = {
        "user": user["id"],
        "name": "Quinn",
        "email": "quinn@example.test",
        "insurance_id": "INS-1",
        "date_of_birth": "1990-05-01",
    }
    expect(clinic.doctor.post("/api/patients/", body), 403)
    expect(clinic.patient.post("/api/patients/", body), 403)
    created = expect(clinic.admin.post("/api/patients/", body), 201)
    assert created["date_of_birth"] == "1990-05-01" and created["insurance_id"] == "INS-1"
    expect(clinic.admin.post("/api/patients/", body), 409)  # one profile per user


def test_a_patient_changes_only_their_own_contact_fields(clinic: Clinic) -> None:
    own = f"/api/patients/{clinic.patient.patient_id}/"
    changed = expect(clinic.patient.patch(own, {"phone": "+1 555 0199", "name": "Pat L."}), 200)
    assert changed["phone"] == "+1 555 0199" and changed["name"] == "Pat L."
    expect(clinic.patient.patch(own, {"insurance_id": "FORGED"}), 403)
    expect(
        clinic.patient.patch(f"/api/patients/{clinic.other_patient.patient_id}/", {"phone": "1"}),
        404,
    )


def test_an_admin_updates_any_patient_and_doctors_do_not(clinic: Clinic) -> None:
    path = f"/api/patients/{clinic.patient.patient_id}/"
    assert (
        expect(clinic.admin.patch(path, {"insurance_id": "INS-9"}), 200)["insurance_id"] == "INS-9"
    )
    expect(clinic.doctor.patch(path, {"phone": "1"}), 403)  # sees the patient, may not edit
    expect(clinic.other_doctor.patch(path, {"phone": "1"}), 404)  # does not see them


# -- appointments ----------------------------------------------------------------------------


def test_everyone_lists_only_their_own_appointments(clinic: Clinic) -> None:
    ids = [clinic.appointment_id]
    assert [a["id"] for a in expect(clinic.admin.get("/api/appointments/"), 200)] == ids
    assert [a["id"] for a in expect(clinic.doctor.get("/api/appointments/"), 200)] == ids
    assert [a["id"] for a in expect(clinic.patient.get("/api/appointments/"), 200)] == ids
    assert expect(clinic.other_doctor.get("/api/appointments/"), 200) == []
    assert expect(clinic.other_patient.get("/api/appointments/"), 200) == []
    # Asking for someone else's does not widen the view.
    assert (
        expect(
            clinic.other_patient.get(f"/api/appointments/?patient={clinic.patient.patient_id}"), 200
        )
        == []
    )


@pytest.mark.parametrize("role,status", SEES_PATS_CARE)
def test_an_appointment_is_visible_only_to_its_people_and_admins(
    clinic: Clinic, role: str, status: int
) -> None:
    expect(clinic.caller(role).get(f"/api/appointments/{clinic.appointment_id}/"), status)


def test_a_patient_books_only_for_themself(clinic: Clinic) -> None:
    slot = {"doctor": clinic.doctor.doctor_id, "datetime": "2030-01-08T10:00:00Z"}
    expect(
        clinic.other_patient.post(
            "/api/appointments/", {**slot, "patient": clinic.patient.patient_id}
        ),
        403,
    )
    booked = expect(
        clinic.other_patient.post(
            "/api/appointments/", {**slot, "patient": clinic.other_patient.patient_id}
        ),
        201,
    )
    assert booked["patient"] == clinic.other_patient.patient_id


def test_an_admin_books_for_any_patient_and_doctors_do_not_book(clinic: Clinic) -> None:
    slot = {"doctor": clinic.doctor.doctor_id, "datetime": "2030-01-08T10:00:00Z"}
    expect(
        clinic.doctor.post("/api/appointments/", {**slot, "patient": clinic.patient.patient_id}),
        403,
    )
    booked = expect(
        clinic.admin.post(
            "/api/appointments/", {**slot, "patient": clinic.other_patient.patient_id}
        ),
        201,
    )
    assert booked["status"] == "pending"


def test_only_the_doctor_or_an_admin_confirms(clinic: Clinic) -> None:
    path = f"/api/appointments/{clinic.appointment_id}/confirm/"
    expect(clinic.patient.post(path), 403)
    expect(clinic.other_doctor.post(path), 404)
    expect(clinic.other_patient.post(path), 404)
    assert expect(clinic.doctor.post(path), 200)["status"] == "confirmed"
    expect(clinic.admin.post(path), 409)  # already confirmed


# -- medical records -------------------------------------------------------------------------


def test_only_the_appointments_doctor_writes_its_record(clinic: Clinic) -> None:
    body = {"appointment": clinic.appointment_id, "diagnosis": "Flu"}
    expect(clinic.patient.post("/api/medical-records/", body), 403)
    expect(clinic.admin.post("/api/medical-records/", body), 403)
    expect(clinic.other_doctor.post("/api/medical-records/", body), 404)
    record = expect(clinic.doctor.post("/api/medical-records/", body), 201)
    assert (record["patient"], record["doctor"]) == (
        clinic.patient.patient_id,
        clinic.doctor.doctor_id,
    )
    expect(clinic.doctor.post("/api/medical-records/", body), 409)  # one per appointment


@pytest.mark.parametrize("role,status", SEES_PATS_CARE)
def test_a_record_is_read_by_its_patient_their_doctors_and_admins(
    clinic: Clinic, role: str, status: int
) -> None:
    record = _record(clinic)
    expect(clinic.caller(role).get(f"/api/medical-records/{record['id']}/"), status)
    listed = expect(clinic.caller(role).get("/api/medical-records/"), 200)
    assert [r["id"] for r in listed] == ([record["id"]] if status == 200 else [])


def test_only_the_author_updates_a_record(clinic: Clinic) -> None:
    path = f"/api/medical-records/{_record(clinic)['id']}/"
    expect(clinic.admin.patch(path, {"notes": "x"}), 403)
    expect(clinic.patient.patch(path, {"notes": "x"}), 403)
    expect(clinic.other_doctor.patch(path, {"notes": "x"}), 404)
    assert expect(clinic.doctor.patch(path, {"notes": "Follow up"}), 200)["notes"] == "Follow up"


# -- users and audit events ------------------------------------------------------------------


def test_an_admin_manages_users(clinic: Clinic) -> None:
    users = expect(clinic.admin.get("/api/users/"), 200)
    assert len(users) == 5
    assert {u["role"] for u in expect(clinic.admin.get("/api/users/?role=doctor"), 200)} == {
        "doctor"
    }
    created = expect(
        clinic.admin.post(
            "/api/users/", {"email": "Ada@Clinic.test", "password": PASSWORD, "role": "admin"}
        ),
        201,
    )
    assert set(created) == {"id", "email", "role", "is_active", "created_at"}
    assert (created["email"], created["role"], created["is_active"]) == (
        "ada@clinic.test",
        "admin",
        True,
    )
    expect(clinic.admin.get(f"/api/users/{created['id']}/"), 200)
    changed = expect(clinic.admin.patch(f"/api/users/{created['id']}/", {"is_active": False}), 200)
    assert changed["is_active"] is False


@pytest.mark.parametrize("role", ["doctor", "patient"])
def test_only_admins_touch_users(clinic: Clinic, role: str) -> None:
    caller = clinic.caller(role)
    expect(caller.get("/api/users/"), 403)
    expect(
        caller.post("/api/users/", {"email": "x@y.test", "password": PASSWORD, "role": "admin"}),
        403,
    )
    expect(caller.get(f"/api/users/{caller.user_id}/"), 403)
    expect(caller.patch(f"/api/users/{caller.user_id}/", {"is_active": True}), 403)


def test_only_admins_read_the_audit_trail(clinic: Clinic) -> None:
    _record(clinic)
    expect(clinic.doctor.get("/api/audit-events/"), 403)
    expect(clinic.patient.get("/api/audit-events/"), 403)
    events = expect(
        clinic.admin.get("/api/audit-events/?resource=medical_record&action=create"), 200
    )
    assert len(events) == 1
    assert events[0]["actor"] == clinic.doctor.user_id
    assert events[0]["patient"] == clinic.patient.patient_id
    assert set(events[0]) == {
        "id",
        "at",
        "actor",
        "action",
        "resource",
        "resource_id",
        "patient",
        "outcome",
    }
