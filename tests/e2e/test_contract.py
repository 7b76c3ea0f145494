"""The API does what its OpenAPI document says, answer by answer.

Every request in this module goes through ``ContractClient``: each answer, error or not, is
validated against the live document (status documented, body valid against its schema with
``required`` and ``additionalProperties: false``, ``X-Pagination`` as documented). The tour
drives the clinic through every documented operation, sending the document's own request
examples, so an answer the document does not describe, an example the server refuses, or an
operation nobody calls fails here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from healthcare.adapters.clock import FixedClock
from tests.e2e.conftest import PASSWORD, Caller, Clinic, expect
from tests.support.contract import ContractClient


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """The clinic and every test here talk through the contract-checking client."""
    app.test_client_class = ContractClient
    return app.test_client()


def _checked(clinic: Clinic) -> ContractClient:
    assert isinstance(clinic.client, ContractClient)
    return clinic.client


# -- item 5: an empty change is refused and writes nothing ----------------------------------


def _items_with_a_change(clinic: Clinic) -> dict[str, tuple[Caller, str]]:
    """For each PATCH of the document, who may change what (one existing object each)."""
    rule = expect(
        clinic.doctor.post(
            "/api/availability-rules/", {"weekday": 2, "start_time": "09:00", "end_time": "12:00"}
        ),
        201,
    )
    record = expect(
        clinic.doctor.post(
            "/api/medical-records/",
            {"appointment": clinic.appointment_id, "diagnosis": "Hypertension"},
        ),
        201,
    )
    hook = expect(
        clinic.admin.post(
            "/api/webhooks/", {"url": "http://127.0.0.1:9/hook", "events": ["appointment.booked"]}
        ),
        201,
    )
    doctor_id, patient_id = clinic.doctor.doctor_id, clinic.patient.patient_id
    return {
        "/api/webhooks/{endpoint_id}/": (clinic.admin, f"/api/webhooks/{hook['id']}/"),
        "/api/users/{user_id}/": (clinic.admin, f"/api/users/{clinic.patient.user_id}/"),
        "/api/doctors/{doctor_id}/": (clinic.admin, f"/api/doctors/{doctor_id}/"),
        "/api/doctors/{doctor_id}/policy/": (clinic.admin, f"/api/doctors/{doctor_id}/policy/"),
        "/api/availabilities/{window_id}/": (
            clinic.doctor,
            f"/api/availabilities/{clinic.window_id}/",
        ),
        "/api/availability-rules/{rule_id}/": (
            clinic.doctor,
            f"/api/availability-rules/{rule['id']}/",
        ),
        "/api/patients/{patient_id}/": (clinic.patient, f"/api/patients/{patient_id}/"),
        "/api/appointments/{appointment_id}/": (
            clinic.admin,
            f"/api/appointments/{clinic.appointment_id}/",
        ),
        "/api/medical-records/{record_id}/": (
            clinic.doctor,
            f"/api/medical-records/{record['id']}/",
        ),
    }


def test_an_empty_change_is_refused_by_every_patch_and_writes_nothing(
    clinic: Clinic, clock: FixedClock
) -> None:
    items = _items_with_a_change(clinic)
    documented = _checked(clinic).contract.operations()
    patches = {path for method, path in documented if method == "PATCH"}
    assert set(items) == patches
    audit = "/api/audit-events/?page_size=100"
    trail = expect(clinic.admin.get(audit), 200)
    clock.advance(timedelta(hours=1))  # so a write would move updated_at
    for caller, path in items.values():
        before = expect(caller.get(path), 200)
        for empty in (
            {"json": {}},
            {"data": b"", "headers": {"Content-Type": "application/json"}},
            {},
        ):
            refused = expect(caller.request("PATCH", path, **empty), 422)
            assert refused["errors"] == {"_schema": ["Name at least one field to change."]}, (
                path,
                empty,
                refused,
            )
        assert expect(caller.get(path), 200) == before, path
    reads = [e for e in expect(clinic.admin.get(audit), 200) if e not in trail]
    assert {e["action"] for e in reads} <= {"read", "list"}  # the GETs above, no "update"


# -- item 6: times are RFC 3339 with at most six fractional digits ---------------------------


def test_more_than_six_fractional_digits_are_refused_not_cut(clinic: Clinic) -> None:
    slot = {"doctor": clinic.doctor.doctor_id}
    for when in (
        "2030-01-08T10:00:00.0000001Z",
        "2030-01-08T10:00:00.000000000+00:00",
    ):
        refused = expect(
            clinic.other_patient.post("/api/appointments/", {**slot, "datetime": when}), 422
        )
        assert set(refused["errors"]) == {"datetime"}
        expect(clinic.admin.get(f"/api/appointments/?start={when.replace('+', '%2B')}"), 422)
    assert expect(clinic.other_patient.get("/api/appointments/"), 200) == []
    exact = expect(
        clinic.other_patient.post(
            "/api/appointments/", {**slot, "datetime": "2030-01-08T10:00:00.000000Z"}
        ),
        201,
    )
    assert exact["datetime"] == "2030-01-08T10:00:00Z"


def test_other_iso_8601_spellings_of_a_time_are_refused(clinic: Clinic) -> None:
    for when in (
        "20300108T100000Z",
        "2030-01-08T10:00Z",
        "2030-01-08T10Z",
        "2030-01-08 10:00:00Z",
        "2030-01-08T10:00:00+0100",
        "2030-W02-2T10:00:00Z",
        "2030-01-08T10:00:00",
    ):
        body = {"doctor": clinic.doctor.doctor_id, "datetime": when}
        refused = expect(clinic.other_patient.post("/api/appointments/", body), 422)
        assert set(refused["errors"]) == {"datetime"}, when
    assert expect(clinic.other_patient.get("/api/appointments/"), 200) == []


# -- item 10: the documented bounds are the enforced ones -----------------------------------


def test_blank_names_and_appointment_lengths_out_of_range_are_refused(clinic: Clinic) -> None:
    path = f"/api/doctors/{clinic.doctor.doctor_id}/"
    before = expect(clinic.admin.get(path), 200)
    for change in (
        {"name": "  \u00a0 "},
        {"specialization": ""},
        {"appointment_minutes": 4},
        {"appointment_minutes": 481},
        {"timezone": "Mars/Olympus_Mons"},
    ):
        assert set(expect(clinic.admin.patch(path, change), 422)["errors"]) == set(change)
    assert expect(clinic.admin.get(path), 200) == before
    lengths = [expect(clinic.admin.patch(path, {"appointment_minutes": m}), 200) for m in (5, 480)]
    assert [d["appointment_minutes"] for d in lengths] == [5, 480]


def test_a_whole_number_may_be_written_with_a_zero_fraction_as_json_schema_allows(
    clinic: Clinic,
) -> None:
    path = f"/api/doctors/{clinic.doctor.doctor_id}/"
    assert expect(clinic.admin.patch(path, {"appointment_minutes": 20.0}), 200)[
        "appointment_minutes"
    ] == 20
    for not_whole in (20.5, "20", True):
        refused = expect(clinic.admin.patch(path, {"appointment_minutes": not_whole}), 422)
        assert list(refused["errors"]) == ["appointment_minutes"]
    booking = {"doctor": float(clinic.doctor.doctor_id), "datetime": "2030-01-08T10:00:00Z"}
    assert expect(clinic.other_patient.post("/api/appointments/", booking), 201)["doctor"] == (
        clinic.doctor.doctor_id
    )


# -- item 11: errors are keyed by field, whoever refused ------------------------------------


def test_a_schema_error_and_a_rule_error_have_the_same_shape(clinic: Clinic) -> None:
    book = {"doctor": clinic.doctor.doctor_id}
    by_schema = expect(
        clinic.other_patient.post("/api/appointments/", {**book, "datetime": "2030-01-08T10:00"}),
        422,
    )
    by_rule = expect(
        clinic.other_patient.post(
            "/api/appointments/", {**book, "datetime": "2030-01-08T13:00:00Z"}
        ),
        422,
    )
    assert list(by_schema["errors"]) == list(by_rule["errors"]) == ["datetime"]
    messages = by_schema["errors"]["datetime"] + by_rule["errors"]["datetime"]
    assert messages and all(isinstance(message, str) for message in messages)
    header = expect(
        clinic.other_patient.post(
            "/api/appointments/",
            {**book, "datetime": "2030-01-08T10:00:00Z"},
            headers={"Idempotency-Key": "k" * 256},
        ),
        422,
    )
    assert list(header["errors"]) == ["Idempotency-Key"]
    malformed = clinic.patient.post(
        "/api/appointments/", data="{", headers={"Content-Type": "application/json"}
    )
    assert list(expect(malformed, 400)["errors"]) == ["_schema"]


# -- the tour: every operation, the document's own examples, every answer checked -----------

#: The examples' clinic day is 2031-04-03 (a Thursday); the tour starts two days before.
TOUR_START = datetime(2031, 4, 1, 8, 0, tzinfo=UTC)


class Tour:
    """Requests built from the document's examples, with this clinic's ids put in."""

    def __init__(self, clinic: Clinic) -> None:
        self.clinic = clinic
        self.contract = _checked(clinic).contract

    def example(self, method: str, path: str, **ids: Any) -> dict[str, Any]:
        media = self.contract.operation(method, path)["requestBody"]["content"]  # type: ignore[index]
        example = dict(media["application/json"]["example"])
        for name, value in ids.items():
            assert name in example, (method, path, name)
            example[name] = value
        return example

    def send(
        self,
        caller: Caller,
        method: str,
        path: str,
        status: int,
        ids: dict[str, Any] | None = None,
        **values: Any,
    ) -> Any:
        """``method`` on ``path`` (its template filled from ``values``) with its example, the
        example's ids replaced by ``ids``."""
        body = self.example(method, path, **(ids or {}))
        return expect(caller.request(method, path.format(**values), json=body), status)


def test_every_operation_answers_as_the_document_says_with_its_own_examples(
    clinic: Clinic, clock: FixedClock
) -> None:
    tour = Tour(clinic)
    admin, adams, pat, olive = clinic.admin, clinic.doctor, clinic.patient, clinic.other_patient
    adams_id = adams.doctor_id
    clock.at = TOUR_START

    # Accounts: a doctor and a patient made by the front desk, a patient signing up.
    smith = tour.send(admin, "POST", "/api/users/", 201)
    doctor = tour.send(admin, "POST", "/api/doctors/", 201, ids={"user": smith["id"]})
    tour.send(admin, "PATCH", "/api/doctors/{doctor_id}/", 200, doctor_id=doctor["id"])
    tour.send(admin, "PATCH", "/api/doctors/{doctor_id}/policy/", 200, doctor_id=doctor["id"])
    expect(admin.get(f"/api/doctors/{doctor['id']}/policy/"), 200)
    expect(admin.delete(f"/api/doctors/{doctor['id']}/"), 204)
    tour.send(admin, "PATCH", "/api/users/{user_id}/", 200, user_id=smith["id"])
    expect(admin.get(f"/api/users/{smith['id']}/"), 200)
    expect(admin.get("/api/users/?role=doctor"), 200)
    lee = expect(
        admin.post(
            "/api/users/",
            {"email": "lee@example.com", "password": PASSWORD, "role": "patient"},
        ),
        201,
    )
    lee_profile = tour.send(admin, "POST", "/api/patients/", 201, ids={"user": lee["id"]})
    tour.send(admin, "PATCH", "/api/patients/{patient_id}/", 200, patient_id=lee_profile["id"])
    expect(admin.get(f"/api/patients/{lee_profile['id']}/"), 200)
    expect(admin.get("/api/patients/"), 200)
    tour.send(clinic.anonymous, "POST", "/api/auth/register/", 201)
    credentials = tour.example("POST", "/api/auth/jwt/token/")
    tokens = expect(clinic.anonymous.post("/api/auth/jwt/token/", credentials), 200)
    signed = expect(clinic.anonymous.post("/api/auth/login/", credentials), 200)
    refreshed = expect(
        clinic.anonymous.post("/api/auth/jwt/refresh/", {"refresh": tokens["refresh"]}), 200
    )
    newcomer = Caller(clinic.client, refreshed["access"])
    for caller in (admin, adams, newcomer):
        expect(caller.get("/api/auth/me/"), 200)
    expect(
        Caller(clinic.client, signed["access"]).post(
            "/api/auth/logout/", {"refresh": signed["refresh"]}
        ),
        204,
    )

    # Adams' calendar: weekly hours, a blocked period, the examples' window, slots.
    rule = tour.send(adams, "POST", "/api/availability-rules/", 201, ids={"doctor": adams_id})
    tour.send(adams, "PATCH", "/api/availability-rules/{rule_id}/", 200, rule_id=rule["id"])
    expect(adams.get(f"/api/availability-rules/{rule['id']}/"), 200)
    expect(adams.get(f"/api/availability-rules/?doctor={adams_id}"), 200)
    expect(adams.delete(f"/api/availability-rules/{rule['id']}/"), 204)
    holiday = tour.send(
        adams, "POST", "/api/availability-exceptions/", 201, ids={"doctor": adams_id}
    )
    expect(pat.get(f"/api/availability-exceptions/{holiday['id']}/"), 200)
    expect(pat.get("/api/availability-exceptions/"), 200)
    expect(adams.delete(f"/api/availability-exceptions/{holiday['id']}/"), 204)
    window = tour.send(adams, "POST", "/api/availabilities/", 201)
    tour.send(adams, "PATCH", "/api/availabilities/{window_id}/", 200, window_id=window["id"])
    expect(pat.get(f"/api/availabilities/{window['id']}/"), 200)
    expect(pat.get(f"/api/availabilities/?doctor={adams_id}"), 200)
    spare = expect(
        clinic.other_doctor.post(
            "/api/availabilities/",
            {"start_time": "2031-04-04T09:00:00Z", "end_time": "2031-04-04T12:00:00Z"},
        ),
        201,
    )
    expect(clinic.other_doctor.delete(f"/api/availabilities/{spare['id']}/"), 204)
    day = "start=2031-04-03T00:00:00Z&end=2031-04-04T00:00:00Z"
    assert expect(pat.get(f"/api/doctors/{adams_id}/slots/?{day}"), 200)
    assert expect(pat.get(f"/api/slots/?{day}&specialization=Cardiology"), 200)
    expect(pat.get("/api/doctors/?specialization=Cardiology"), 200)
    expect(pat.get(f"/api/doctors/{adams_id}/"), 200)

    # The examples' booking (by the front desk), moved, confirmed; two more to confirm and
    # cancel; then the day goes by: one visit completed, one missed.
    visit = tour.send(
        admin,
        "POST",
        "/api/appointments/",
        201,
        ids={"patient": pat.patient_id, "doctor": adams_id},
    )
    tour.send(
        admin, "PATCH", "/api/appointments/{appointment_id}/", 200, appointment_id=visit["id"]
    )
    missed = expect(
        pat.post("/api/appointments/", {"doctor": adams_id, "datetime": "2031-04-03T13:00:00Z"}),
        201,
    )
    cancelled = expect(
        olive.post("/api/appointments/", {"doctor": adams_id, "datetime": "2031-04-03T14:00:00Z"}),
        201,
    )
    for appointment in (visit, missed):
        expect(adams.post(f"/api/appointments/{appointment['id']}/confirm/"), 200)
    tour.send(
        olive,
        "POST",
        "/api/appointments/{appointment_id}/cancel/",
        200,
        appointment_id=cancelled["id"],
    )
    # Holds (section 8): the examples' hold, listed and booked; another one given back.
    held = tour.send(olive, "POST", "/api/holds/", 201, ids={"doctor": adams_id})
    assert [h["id"] for h in expect(olive.get("/api/holds/"), 200)] == [held["id"]]
    expect(olive.get(f"/api/holds/{held['id']}/"), 200)
    tour.send(olive, "POST", "/api/holds/{hold_id}/book/", 201, hold_id=held["id"])
    spare_hold = expect(
        pat.post("/api/holds/", {"doctor": adams_id, "datetime": "2031-04-03T15:00:00Z"}), 201
    )
    expect(pat.delete(f"/api/holds/{spare_hold['id']}/"), 204)
    waiting = tour.send(pat, "POST", "/api/waitlist/", 201, ids={"doctor": adams_id})
    assert [e["id"] for e in expect(adams.get("/api/waitlist/"), 200)] == [waiting["id"]]
    expect(pat.get(f"/api/waitlist/{waiting['id']}/"), 200)
    expect(pat.delete(f"/api/waitlist/{waiting['id']}/"), 204)
    clock.at = datetime(2031, 4, 3, 13, 5, tzinfo=UTC)
    expect(adams.post(f"/api/appointments/{visit['id']}/complete/"), 200)
    expect(adams.post(f"/api/appointments/{missed['id']}/no-show/"), 200)
    expect(pat.get(f"/api/appointments/{visit['id']}/"), 200)
    expect(admin.get("/api/appointments/?status=completed&history=true"), 200)

    # The record of the visit, revised; read by its patient; the audit trail.
    record = tour.send(
        adams, "POST", "/api/medical-records/", 201, ids={"appointment": visit["id"]}
    )
    tour.send(adams, "PATCH", "/api/medical-records/{record_id}/", 200, record_id=record["id"])
    expect(pat.get(f"/api/medical-records/{record['id']}/"), 200)
    expect(pat.get("/api/medical-records/"), 200)
    expect(admin.get(f"/api/audit-events/?patient={pat.patient_id}&page_size=5"), 200)

    # Integrations: a webhook endpoint (a receiver on this machine) and its log; a feed.
    hook = tour.send(admin, "POST", "/api/webhooks/", 201, ids={"url": "http://127.0.0.1:9/h"})
    tour.send(admin, "PATCH", "/api/webhooks/{endpoint_id}/", 200, endpoint_id=hook["id"])
    expect(admin.get(f"/api/webhooks/{hook['id']}/"), 200)
    expect(admin.get("/api/webhooks/"), 200)
    expect(admin.post(f"/api/webhooks/{hook['id']}/rotate-secret/"), 200)
    expect(admin.get(f"/api/webhooks/{hook['id']}/deliveries/"), 200)
    expect(admin.delete(f"/api/webhooks/{hook['id']}/"), 204)
    feed = tour.send(pat, "POST", "/api/calendar-feeds/", 201)
    expect(pat.get(f"/api/calendar-feeds/{feed['id']}/"), 200)
    expect(pat.get("/api/calendar-feeds/"), 200)
    ics = clinic.client.get("/api/calendar/" + feed["url"].rsplit("/", 1)[1])
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    expect(pat.delete(f"/api/calendar-feeds/{feed['id']}/"), 204)

    # Probes, and refusals of every kind: each in the documented error shape.
    expect(clinic.anonymous.get("/healthz"), 200)
    expect(clinic.anonymous.get("/readyz"), 200)
    expect(clinic.anonymous.get("/api/appointments/"), 401)
    expect(pat.get("/api/users/"), 403)
    expect(pat.get("/api/appointments/999999/"), 404)
    expect(admin.request("PUT", "/api/doctors/"), 405)
    expect(adams.post(f"/api/appointments/{visit['id']}/confirm/"), 409)
    for when in ("yesterday", "2031-04-02T09:00:00Z"):  # refused by the schema, by a rule
        expect(olive.post("/api/appointments/", {"doctor": adams_id, "datetime": when}), 422)

    documented = tour.contract.operations()
    assert documented - _checked(clinic).succeeded == set()
