"""Weekly hours, blocked periods, the booking policy, slots and idempotent booking over HTTP."""

from __future__ import annotations

import json

from tests.e2e.conftest import Clinic, expect

WEDNESDAY = 2
WEDNESDAY_9TH = "start=2030-01-09T00:00:00Z&end=2030-01-10T00:00:00Z"


def _hours(clinic: Clinic, **body: object) -> dict:
    return expect(  # type: ignore[no-any-return]
        clinic.doctor.post(
            "/api/availability-rules/",
            {"weekday": WEDNESDAY, "start_time": "09:00", "end_time": "11:00", **body},
        ),
        201,
    )


def _starts(clinic: Clinic, caller_name: str = "other_patient") -> list[str]:
    caller = clinic.caller(caller_name)
    slots = expect(caller.get(f"/api/doctors/{clinic.doctor.doctor_id}/slots/?{WEDNESDAY_9TH}"), 200)
    return [s["start"] for s in slots]


def test_search_book_a_returned_slot_and_it_is_gone_from_the_next_search(clinic: Clinic) -> None:
    rule = _hours(clinic)
    assert (rule["doctor"], rule["weekday"], rule["start_time"], rule["end_time"]) == (
        clinic.doctor.doctor_id, WEDNESDAY, "09:00:00", "11:00:00"
    )
    assert rule["valid_from"] == "2030-01-07" and rule["valid_until"] is None
    starts = _starts(clinic)
    assert starts == [f"2030-01-09T{t}:00Z" for t in ("09:00", "09:30", "10:00", "10:30")]

    booked = expect(
        clinic.other_patient.post(
            "/api/appointments/", {"doctor": clinic.doctor.doctor_id, "datetime": starts[1]}
        ),
        201,
    )
    assert booked["datetime"] == starts[1] and booked["late_cancellation"] is False
    assert _starts(clinic) == [starts[0], starts[2], starts[3]]

    across = clinic.patient.get(f"/api/slots/?specialization=Cardiology&{WEDNESDAY_9TH}")
    listed = expect(across, 200)
    assert [s["start"] for s in listed] == [starts[0], starts[2], starts[3]]
    assert listed[0]["timezone"] == "UTC" and listed[0]["local_start"] == "2030-01-09T09:00:00+00:00"
    assert json.loads(across.headers["X-Pagination"])["total"] == 3
    expect(clinic.patient.get("/api/slots/?start=2030-01-01T00:00:00Z&end=2030-03-01T00:00:00Z"), 422)


def test_a_retry_with_the_same_idempotency_key_books_once(clinic: Clinic) -> None:
    body = {"doctor": clinic.doctor.doctor_id, "datetime": "2030-01-08T10:00:00Z"}
    key = {"Idempotency-Key": "7f0c2f7e-booking-1"}
    first = expect(clinic.other_patient.post("/api/appointments/", body, headers=key), 201)
    again = expect(clinic.other_patient.post("/api/appointments/", body, headers=key), 201)
    assert again == first
    mine = expect(clinic.other_patient.get("/api/appointments/"), 200)
    assert [a["id"] for a in mine] == [first["id"]]

    other_body = {**body, "datetime": "2030-01-08T11:00:00Z"}
    reused = expect(clinic.other_patient.post("/api/appointments/", other_body, headers=key), 422)
    assert "Idempotency-Key" in reused["errors"]
    expect(
        clinic.other_patient.post("/api/appointments/", other_body, headers={"Idempotency-Key": "k" * 256}),
        422,
    )


def test_policy_refusals_say_why(clinic: Clinic) -> None:
    expect(
        clinic.doctor.post(
            "/api/availabilities/",
            {"start_time": "2030-01-07T09:00:00Z", "end_time": "2030-01-07T12:00:00Z"},
        ),
        201,
    )
    soon = {"doctor": clinic.doctor.doctor_id, "datetime": "2030-01-07T09:30:00Z"}
    refused = expect(clinic.other_patient.post("/api/appointments/", soon), 422)
    assert "notice" in refused["message"] and "2030-01-07T10:00:00Z" in refused["message"]
    assert "datetime" in refused["errors"]
    walk_in = {**soon, "patient": clinic.other_patient.patient_id}
    expect(clinic.admin.post("/api/appointments/", walk_in), 201)  # the front desk overrides

    path = f"/api/doctors/{clinic.doctor.doctor_id}/policy/"
    assert expect(clinic.patient.get(path), 200) == {
        "doctor": clinic.doctor.doctor_id,
        "min_notice_minutes": 120,
        "horizon_days": 90,
        "buffer_minutes": 0,
        "max_per_day": None,
        "late_cancel_hours": 24,
        "overrides": {
            "min_notice_minutes": None,
            "horizon_days": None,
            "buffer_minutes": None,
            "max_per_day": None,
        },
    }
    expect(clinic.doctor.patch(path, {"max_per_day": 1}), 403)
    expect(clinic.admin.patch(path, {"max_per_day": 0}), 422)
    capped = expect(clinic.admin.patch(path, {"max_per_day": 1}), 200)
    assert capped["max_per_day"] == 1 and capped["overrides"]["max_per_day"] == 1
    full = expect(
        clinic.patient.post(
            "/api/appointments/", {"doctor": clinic.doctor.doctor_id, "datetime": "2030-01-08T10:00:00Z"}
        ),
        409,
    )
    assert "no more appointments" in full["message"]


def test_weekly_hours_are_managed_by_their_doctor_and_keep_their_bookings(clinic: Clinic) -> None:
    rule = _hours(clinic)
    path = f"/api/availability-rules/{rule['id']}/"
    overlapping = {"weekday": WEDNESDAY, "start_time": "10:00", "end_time": "12:00"}
    expect(clinic.doctor.post("/api/availability-rules/", overlapping), 409)
    expect(clinic.patient.post("/api/availability-rules/", overlapping), 403)
    expect(clinic.other_doctor.patch(path, {"end_time": "10:00"}), 403)
    expect(clinic.doctor.post("/api/availability-rules/", {**overlapping, "weekday": 7}), 422)
    assert expect(clinic.patient.get(f"/api/availability-rules/?doctor={clinic.doctor.doctor_id}"), 200) == [rule]

    expect(
        clinic.patient.post(
            "/api/appointments/", {"doctor": clinic.doctor.doctor_id, "datetime": "2030-01-09T10:30:00Z"}
        ),
        201,
    )
    expect(clinic.doctor.patch(path, {"end_time": "10:30"}), 409)
    expect(clinic.doctor.delete(path), 409)
    assert expect(clinic.doctor.patch(path, {"start_time": "08:00"}), 200)["start_time"] == "08:00:00"


def test_blocked_periods_hide_their_reason_from_patients_and_refuse_booked_time(
    clinic: Clinic,
) -> None:
    period = {"start_time": "2030-01-08T10:00:00Z", "end_time": "2030-01-08T12:00:00Z"}
    created = expect(
        clinic.doctor.post("/api/availability-exceptions/", {**period, "reason": "Surgery"}), 201
    )
    path = f"/api/availability-exceptions/{created['id']}/"
    assert expect(clinic.admin.get(path), 200)["reason"] == "Surgery"
    assert expect(clinic.patient.get(path), 200)["reason"] is None
    assert [p["reason"] for p in expect(clinic.other_doctor.get("/api/availability-exceptions/"), 200)] == [None]
    blocked = {"doctor": clinic.doctor.doctor_id, "datetime": "2030-01-08T10:30:00Z"}
    expect(clinic.other_patient.post("/api/appointments/", blocked), 422)
    over_booking = {"start_time": "2030-01-08T08:00:00Z", "end_time": "2030-01-08T10:00:00Z"}
    expect(clinic.doctor.post("/api/availability-exceptions/", over_booking), 409)
    expect(clinic.other_doctor.delete(path), 403)
    expect(clinic.doctor.delete(path), 204)
    expect(clinic.other_patient.post("/api/appointments/", blocked), 201)


def test_a_reschedule_keeps_the_id_and_links_the_history_of_the_old_slot(clinic: Clinic) -> None:
    path = f"/api/appointments/{clinic.appointment_id}/"
    moved = expect(clinic.patient.patch(path, {"datetime": "2030-01-08T11:00:00Z"}), 200)
    assert (moved["id"], moved["status"], moved["datetime"]) == (
        clinic.appointment_id, "pending", "2030-01-08T11:00:00Z"
    )
    history = expect(clinic.patient.get(f"/api/appointments/{moved['rescheduled_from']}/"), 200)
    assert (history["datetime"], history["status"], history["cancellation_reason"]) == (
        "2030-01-08T09:00:00Z", "cancelled", "rescheduled"
    )
    assert [a["id"] for a in expect(clinic.patient.get("/api/appointments/"), 200)] == [moved["id"]]
    with_history = expect(clinic.patient.get("/api/appointments/?history=true"), 200)
    assert {a["id"] for a in with_history} == {moved["id"], history["id"]}
    late = expect(clinic.patient.post(f"{path}cancel/"), 200)  # 27 h ahead: not late
    assert late["late_cancellation"] is False


def test_the_new_resources_are_in_the_openapi_document(clinic: Clinic) -> None:
    paths = expect(clinic.client.get("/api/openapi.json"), 200)["paths"]
    for path in (
        "/api/availability-rules/",
        "/api/availability-exceptions/{period_id}/",
        "/api/slots/",
        "/api/doctors/{doctor_id}/policy/",
    ):
        assert path in paths, path
    post = paths["/api/appointments/"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
