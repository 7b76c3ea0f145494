"""Booking and the lifecycle over HTTP: seed payloads, slots, filters, and each status code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

from healthcare.adapters.clock import FixedClock
from tests.e2e.conftest import (
    FIRST_SLOT,
    PASSWORD,
    Caller,
    Clinic,
    create_admin,
    expect,
    sign_in,
)


def test_the_seed_payloads_are_accepted_as_they_are(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    """SPEC section 5's examples, byte for byte, on a clinic whose first user is a doctor."""
    clock.at = datetime(2025, 4, 1, 8, 0, tzinfo=UTC)
    accounts = app.container.account_service()  # type: ignore[attr-defined]
    from healthcare.application.commands import CreateUser
    from healthcare.domain.actor import Actor

    doctor_user = accounts.create_user(
        Actor.system(), CreateUser(email="smith@clinic.test", password=PASSWORD, role="doctor")
    )
    assert doctor_user.user.id == 1
    create_admin(app)
    admin = Caller(client, sign_in(client, "admin@clinic.test")["access"])
    doctor = expect(
        admin.post(
            "/api/doctors/", {"user": 1, "name": "Dr. Smith", "specialization": "Cardiology"}
        ),
        201,
    )
    assert doctor == {
        "id": 1,
        "user": 1,
        "name": "Dr. Smith",
        "specialization": "Cardiology",
        "appointment_minutes": 30,
        "timezone": "UTC",
    }
    expect(
        client.post(
            "/api/auth/register/",
            json={"email": "pat@example.test", "password": PASSWORD, "name": "Pat"},
        ),
        201,
    )
    expect(
        admin.post(
            "/api/availabilities/",
            {"doctor": 1, "start_time": "2025-04-03T09:00:00Z", "end_time": "2025-04-03T17:00:00Z"},
        ),
        201,
    )
    appointment = expect(
        admin.post(
            "/api/appointments/",
            {"patient": 1, "doctor": 1, "datetime": "2025-04-03T10:30:00Z", "status": "pending"},
        ),
        201,
    )
    assert appointment["datetime"] == "2025-04-03T10:30:00Z"
    assert appointment["end"] == "2025-04-03T11:00:00Z"
    assert (appointment["patient"], appointment["doctor"], appointment["status"]) == (
        1,
        1,
        "pending",
    )


def test_a_new_appointment_is_only_ever_pending(clinic: Clinic) -> None:
    body = {"doctor": clinic.doctor.doctor_id, "datetime": "2030-01-08T10:00:00Z"}
    errors = expect(
        clinic.other_patient.post("/api/appointments/", {**body, "status": "confirmed"}), 422
    )
    assert "status" in errors["errors"]
    for forbidden in (
        {"id": 99},
        {"created_at": "2030-01-01T00:00:00Z"},
        {"end": "2030-01-08T12:00:00Z"},
    ):
        expect(clinic.other_patient.post("/api/appointments/", {**body, **forbidden}), 422)


def test_booking_rules_answer_422_or_409(clinic: Clinic) -> None:
    book = lambda caller, when: caller.post(  # noqa: E731
        "/api/appointments/", {"doctor": clinic.doctor.doctor_id, "datetime": when}
    )
    past = expect(book(clinic.other_patient, "2030-01-07T07:00:00Z"), 422)
    assert "datetime" in past["errors"]
    expect(book(clinic.other_patient, "2030-01-08T13:00:00Z"), 422)  # outside availability
    naive = expect(book(clinic.other_patient, "2030-01-08T10:00:00"), 422)
    assert "datetime" in str(naive["errors"])
    expect(book(clinic.other_patient, FIRST_SLOT), 409)  # the doctor is taken
    off_grid = expect(book(clinic.other_patient, "2030-01-08T09:15:00Z"), 422)  # section 8
    assert off_grid["errors"]["nearest"] == ["2030-01-08T09:00:00Z", "2030-01-08T09:30:00Z"]
    front_desk = {"patient": clinic.other_patient.patient_id, "doctor": clinic.doctor.doctor_id}
    overlapping = {**front_desk, "datetime": "2030-01-08T09:15:00Z"}
    expect(clinic.admin.post("/api/appointments/", overlapping), 409)  # off the grid, overlapping
    expect(
        clinic.other_patient.post(
            "/api/appointments/", {"doctor": 999, "datetime": "2030-01-08T10:00:00Z"}
        ),
        404,
    )


def test_the_lifecycle_runs_through_its_endpoints(clinic: Clinic, clock: FixedClock) -> None:
    base = f"/api/appointments/{clinic.appointment_id}"
    expect(clinic.doctor.post(f"{base}/complete/"), 409)  # still pending
    assert expect(clinic.doctor.post(f"{base}/confirm/"), 200)["status"] == "confirmed"
    expect(clinic.doctor.post(f"{base}/no-show/"), 409)  # has not started
    clock.advance(timedelta(days=1, hours=1, minutes=10))  # 2030-01-08 09:10, under way
    expect(
        clinic.patient.post(f"{base}/cancel/", {"reason": "late"}), 409
    )  # too late for the patient
    expect(clinic.patient.post(f"{base}/complete/"), 403)
    assert expect(clinic.doctor.post(f"{base}/complete/"), 200)["status"] == "completed"
    expect(clinic.doctor.post(f"{base}/cancel/"), 409)  # final


def test_no_show_and_cancel_with_a_reason(clinic: Clinic, clock: FixedClock) -> None:
    base = f"/api/appointments/{clinic.appointment_id}"
    other = expect(
        clinic.other_patient.post(
            "/api/appointments/",
            {"doctor": clinic.doctor.doctor_id, "datetime": "2030-01-08T10:00:00Z"},
        ),
        201,
    )
    cancelled = expect(
        clinic.other_patient.post(
            f"/api/appointments/{other['id']}/cancel/", {"reason": "Feeling better"}
        ),
        200,
    )
    assert (cancelled["status"], cancelled["cancellation_reason"]) == (
        "cancelled",
        "Feeling better",
    )
    expect(clinic.admin.post(f"{base}/confirm"), 200)
    clock.advance(timedelta(days=2))
    assert expect(clinic.admin.post(f"{base}/no-show"), 200)["status"] == "no_show"


def test_cancel_takes_no_body_at_all(clinic: Clinic) -> None:
    path = f"/api/appointments/{clinic.appointment_id}/cancel/"
    cancelled = expect(clinic.patient.post(path), 200)
    assert cancelled["status"] == "cancelled" and cancelled["cancellation_reason"] is None


def test_patch_reschedules_edits_the_reason_and_runs_a_status(clinic: Clinic) -> None:
    path = f"/api/appointments/{clinic.appointment_id}/"
    expect(clinic.doctor.post(f"{path}confirm/"), 200)
    moved = expect(
        clinic.patient.patch(path, {"datetime": "2030-01-08T11:00:00+00:00", "reason": "Check-up"}),
        200,
    )
    assert (moved["datetime"], moved["end"], moved["status"], moved["reason"]) == (
        "2030-01-08T11:00:00Z",
        "2030-01-08T11:30:00Z",
        "pending",
        "Check-up",
    )
    expect(
        clinic.patient.patch(path, {"datetime": "2030-01-08T11:45:00Z"}), 422
    )  # past the window end
    expect(
        clinic.doctor.patch(path, {"datetime": "2030-01-08T10:00:00Z"}), 403
    )  # doctors do not move it
    expect(clinic.patient.patch(path, {"status": "confirmed"}), 403)
    assert expect(clinic.doctor.patch(path, {"status": "confirmed"}), 200)["status"] == "confirmed"
    cancelled = expect(
        clinic.doctor.patch(path, {"status": "cancelled", "cancellation_reason": "Doctor ill"}), 200
    )
    assert cancelled["cancellation_reason"] == "Doctor ill"
    expect(clinic.patient.patch(path, {"datetime": "2030-01-08T10:00:00Z"}), 409)  # final
    expect(clinic.admin.patch(path, {"status": "sleeping"}), 422)


def test_appointment_lists_filter(clinic: Clinic) -> None:
    expect(
        clinic.other_patient.post(
            "/api/appointments/",
            {"doctor": clinic.doctor.doctor_id, "datetime": "2030-01-08T11:00:00Z"},
        ),
        201,
    )
    expect(clinic.doctor.post(f"/api/appointments/{clinic.appointment_id}/confirm/"), 200)

    def get(query: str) -> list[int]:
        return [a["id"] for a in expect(clinic.admin.get(f"/api/appointments/?{query}"), 200)]

    assert len(get("")) == 2
    assert get("status=confirmed") == [clinic.appointment_id]
    assert len(get(f"doctor={clinic.doctor.doctor_id}")) == 2
    assert get(f"doctor={clinic.other_doctor.doctor_id}") == []
    assert get(f"patient={clinic.patient.patient_id}") == [clinic.appointment_id]
    assert len(get("start=2030-01-08T10:00:00Z")) == 1
    assert get("end=2030-01-08T10:00:00%2B00:00") == [clinic.appointment_id]
    expect(clinic.admin.get("/api/appointments/?start=2030-01-08T10:00:00"), 422)  # naive
    expect(clinic.admin.get("/api/appointments/?status=nope"), 422)


def test_free_slots_are_listed_in_utc_and_the_doctors_time(clinic: Clinic) -> None:
    expect(
        clinic.admin.patch(
            f"/api/doctors/{clinic.doctor.doctor_id}/", {"timezone": "America/New_York"}
        ),
        200,
    )
    slots = expect(
        clinic.patient.get(
            f"/api/doctors/{clinic.doctor.doctor_id}/slots/"
            "?start=2030-01-08T00:00:00Z&end=2030-01-09T00:00:00Z"
        ),
        200,
    )
    assert [s["start"] for s in slots] == [
        "2030-01-08T09:30:00Z",
        "2030-01-08T10:00:00Z",
        "2030-01-08T10:30:00Z",
        "2030-01-08T11:00:00Z",
        "2030-01-08T11:30:00Z",
    ]  # 09:00 is booked
    assert slots[0] == {
        "doctor": clinic.doctor.doctor_id,
        "start": "2030-01-08T09:30:00Z",
        "end": "2030-01-08T10:00:00Z",
        "local_start": "2030-01-08T04:30:00-05:00",
        "local_end": "2030-01-08T05:00:00-05:00",
        "timezone": "America/New_York",
    }
    doctor = f"/api/doctors/{clinic.doctor.doctor_id}/slots/"
    expect(clinic.patient.get(f"{doctor}?start=2030-01-08T00:00:00Z"), 422)
    expect(clinic.patient.get(f"{doctor}?start=2030-01-08T00:00:00Z&end=2030-03-08T00:00:00Z"), 422)
    expect(clinic.patient.get(f"{doctor}?start=2030-01-09T00:00:00Z&end=2030-01-08T00:00:00Z"), 422)
    expect(
        clinic.patient.get(
            "/api/doctors/999/slots/?start=2030-01-08T00:00:00Z&end=2030-01-09T00:00:00Z"
        ),
        404,
    )


def test_availability_conflicts_and_rules(clinic: Clinic) -> None:
    window = {"start_time": "2030-01-08T11:00:00Z", "end_time": "2030-01-08T14:00:00Z"}
    expect(clinic.doctor.post("/api/availabilities/", window), 409)  # overlaps
    touching = {"start_time": "2030-01-08T12:00:00Z", "end_time": "2030-01-08T14:00:00Z"}
    expect(clinic.doctor.post("/api/availabilities/", touching), 201)
    expect(
        clinic.doctor.post(
            "/api/availabilities/",
            {"start_time": "2030-01-09T10:00:00Z", "end_time": "2030-01-09T09:00:00Z"},
        ),
        422,
    )
    expect(
        clinic.doctor.post(
            "/api/availabilities/",
            {"start_time": "2030-01-06T10:00:00Z", "end_time": "2030-01-06T12:00:00Z"},
        ),
        422,
    )
    path = f"/api/availabilities/{clinic.window_id}/"
    expect(clinic.doctor.delete(path), 409)  # would strand the booking
    expect(clinic.doctor.patch(path, {"start_time": "2030-01-08T10:00:00Z"}), 409)
    listed = expect(
        clinic.patient.get(
            f"/api/availabilities/?doctor={clinic.doctor.doctor_id}&start=2030-01-08T12:00:00Z"
        ),
        200,
    )
    assert [w["start_time"] for w in listed] == ["2030-01-08T12:00:00Z"]


def test_doctor_rules_answer_422_409_and_404(clinic: Clinic) -> None:
    path = f"/api/doctors/{clinic.doctor.doctor_id}/"
    expect(clinic.admin.patch(path, {"timezone": "Mars/Olympus"}), 422)
    expect(clinic.admin.patch(path, {"appointment_minutes": 10**30}), 422)
    expect(clinic.admin.patch(path, {"appointment_minutes": 2}), 422)
    expect(clinic.admin.delete(path), 409)  # has appointments
    expect(
        clinic.admin.post(
            "/api/doctors/", {"user": clinic.doctor.user_id, "name": "Again", "specialization": "X"}
        ),
        409,
    )
    expect(
        clinic.admin.post(
            "/api/doctors/", {"user": clinic.patient.user_id, "name": "Not", "specialization": "X"}
        ),
        422,
    )
    assert [
        d["name"]
        for d in expect(clinic.patient.get("/api/doctors/?specialization=dermatology"), 200)
    ] == ["Dr. Baker"]
    expect(clinic.admin.get("/api/doctors/424242/"), 404)
    expect(clinic.admin.delete("/api/doctors/424242/"), 404)


def test_records_filter_and_refuse_a_cancelled_appointment(clinic: Clinic) -> None:
    expect(
        clinic.doctor.post(
            "/api/medical-records/", {"appointment": clinic.appointment_id, "diagnosis": "Flu"}
        ),
        201,
    )
    got = lambda q: expect(clinic.admin.get(f"/api/medical-records/?{q}"), 200)  # noqa: E731
    assert len(got(f"patient={clinic.patient.patient_id}")) == 1
    assert got(f"patient={clinic.other_patient.patient_id}") == []
    assert len(got(f"doctor={clinic.doctor.doctor_id}&appointment={clinic.appointment_id}")) == 1
    other = expect(
        clinic.other_patient.post(
            "/api/appointments/",
            {"doctor": clinic.doctor.doctor_id, "datetime": "2030-01-08T10:00:00Z"},
        ),
        201,
    )
    expect(clinic.other_patient.post(f"/api/appointments/{other['id']}/cancel/"), 200)
    expect(
        clinic.doctor.post("/api/medical-records/", {"appointment": other["id"], "diagnosis": "X"}),
        409,
    )
    expect(
        clinic.doctor.post(
            "/api/medical-records/",
            {
                "appointment": clinic.appointment_id,
                "patient": clinic.other_patient.patient_id,
                "diagnosis": "X",
            },
        ),
        422,
    )
    expect(clinic.doctor.get("/api/medical-records/999/"), 404)


def test_users_conflict_and_validation(clinic: Clinic) -> None:
    body = {"email": "pat@example.test", "password": PASSWORD, "role": "patient"}
    expect(clinic.admin.post("/api/users/", body), 409)
    expect(
        clinic.admin.post("/api/users/", {**body, "email": "x@example.test", "role": "superuser"}),
        422,
    )
    expect(clinic.admin.post("/api/users/", {**body, "email": "not-an-email"}), 422)
    expect(clinic.admin.patch(f"/api/users/{clinic.admin.user_id}/", {"is_active": False}), 422)
    expect(clinic.admin.patch(f"/api/users/{clinic.patient.user_id}/", {"is_active": "no"}), 422)
    expect(clinic.admin.patch(f"/api/users/{clinic.patient.user_id}/", {"role": "admin"}), 422)
    expect(clinic.admin.get("/api/users/31337/"), 404)


def test_rescheduling_ignores_the_appointment_being_moved(clinic: Clinic) -> None:
    """SPEC 3: a reschedule is checked like a new booking, ignoring itself."""
    path = f"/api/appointments/{clinic.appointment_id}/"
    moved = expect(clinic.admin.patch(path, {"datetime": "2030-01-08T09:15:00Z"}), 200)
    assert (moved["datetime"], moved["end"]) == ("2030-01-08T09:15:00Z", "2030-01-08T09:45:00Z")


def test_a_new_time_zone_says_what_becomes_of_weekly_hours(clinic: Clinic) -> None:
    """Issue 16 item 4: refused (409, naming weekly_hours) unless the PATCH says how."""
    hours = {"weekday": 2, "start_time": "09:00", "end_time": "12:00"}
    expect(clinic.doctor.post("/api/availability-rules/", hours), 201)
    path = f"/api/doctors/{clinic.doctor.doctor_id}/"
    refused = expect(clinic.admin.patch(path, {"timezone": "Europe/Berlin"}), 409)
    assert list(refused["errors"]) == ["weekly_hours"]
    expect(clinic.admin.patch(path, {"timezone": "Europe/Berlin", "weekly_hours": "later"}), 422)
    body = {"timezone": "Europe/Berlin", "weekly_hours": "keep_local_times"}
    assert expect(clinic.admin.patch(path, body), 200)["timezone"] == "Europe/Berlin"
    new_doctor = {"user": 1, "name": "X", "specialization": "Y", "weekly_hours": "keep_local_times"}
    expect(clinic.admin.post("/api/doctors/", new_doctor), 422)  # a PATCH field only
