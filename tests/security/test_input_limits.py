"""Hostile input (OWASP API4 and API8): a clear 4xx, or stored and returned exactly, never a 500.

``tests/e2e/test_http.py`` already covers malformed JSON, absurd numbers and ids, NUL bytes,
lone surrogates, years 1 and 9999 in a booking, and the 413 limit; this adds what an attacker
stores: scripts, SQL, control and bidirectional characters and far datetimes in every kind of
field, on both databases.
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import PASSWORD, Clinic, expect

HOSTILE_TEXT = [
    "Robert'); DROP TABLE patients;--",
    "' OR '1'='1",
    '<script>alert("x")</script>',
    '"><img src=x onerror=alert(1)>',
    "{{7*7}} ${7*7} %s %n",
    "tab\tnew\nline\rbell\x07esc\x1b[31m",
    "\u202eevil\u202c right-to-left",
    "zero\u200bwidth\u200djoiner",
    "Zoë Ångström Łukasz 山田太郎 محمد",
    "😀👩‍⚕️🏥 astral \U0001f9ec",
    "e\u0301\u0301\u0301 combining",
    "\\x00 not a nul \\u0000",
]


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_hostile_text_is_stored_and_returned_exactly_as_data(clinic: Clinic, text: str) -> None:
    account = expect(
        clinic.client.post(
            "/api/auth/register/",
            json={
                "email": "h@example.test",
                "password": PASSWORD,
                "name": text,
                "phone": text[:40],
            },
        ),
        201,
    )
    patient_id = account["patient"]["id"]
    response = clinic.admin.get(f"/api/patients/{patient_id}/")
    assert response.mimetype == "application/json"
    stored = expect(response, 200)
    assert stored["name"] == text and stored["phone"] == text[:40]
    reason = expect(
        clinic.patient.patch(f"/api/appointments/{clinic.appointment_id}/", {"reason": text}),
        200,
    )
    assert reason["reason"] == text
    record = expect(
        clinic.doctor.post(
            "/api/medical-records/",
            {
                "appointment": clinic.appointment_id,
                "diagnosis": text,
                "notes": text * 10,
            },
        ),
        201,
    )
    again = expect(clinic.admin.get(f"/api/medical-records/{record['id']}/"), 200)
    assert (again["diagnosis"], again["notes"]) == (text, text * 10)
    # The filters take it as a value, not as SQL.
    expect(clinic.admin.get("/api/doctors/", query_string={"specialization": text}), 200)


@pytest.mark.parametrize(
    "when",
    [
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+23:59",
        "1899-12-31T23:59:59Z",
        "3000-01-01T00:00:00Z",
        "2030-02-30T10:00:00Z",
        "2030-01-08T24:00:00Z",
        "2030-01-08T10:00:00+24:00",
        "+12030-01-08T10:00:00Z",
        "2030-13-08T10:00:00Z",
        "2030-01-08T10:60:00Z",
        "2030-01-08T10:00:00",
    ],
)
def test_far_or_malformed_datetimes_are_422_everywhere(clinic: Clinic, when: str) -> None:
    doctor = clinic.doctor.doctor_id
    expect(
        clinic.other_patient.post("/api/appointments/", {"doctor": doctor, "datetime": when}),
        422,
    )
    expect(
        clinic.doctor.post("/api/availabilities/", {"start_time": when, "end_time": when}),
        422,
    )
    expect(clinic.doctor.get(f"/api/doctors/{doctor}/slots/?start={when}&end={when}"), 422)
    expect(clinic.admin.get("/api/appointments/", query_string={"start": when}), 422)
    expect(clinic.admin.get("/api/audit-events/", query_string={"end": when}), 422)


def test_the_edges_of_the_year_range_are_accepted_or_refused_by_rules(
    clinic: Clinic,
) -> None:
    doctor = clinic.doctor.doctor_id
    for when in ("1900-01-01T00:00:00Z", "2999-12-31T23:00:00Z"):
        expect(
            clinic.other_patient.post("/api/appointments/", {"doctor": doctor, "datetime": when}),
            422,
        )
        expect(
            clinic.doctor.get(f"/api/doctors/{doctor}/slots/?start={when}&end={when}"),
            422,
        )
    expect(
        clinic.admin.get("/api/appointments/?start=1900-01-01T00:00:00Z&end=2999-12-31T00:00:00Z"),
        200,
    )


@pytest.mark.parametrize(
    "raw",
    [
        '{"a":' * 20_000 + "1" + "}" * 20_000,  # deep objects
        json.dumps({"reason": "x" * 900_000}),  # long but under the size limit
        json.dumps([0] * 150_000),  # a long array, not an object
        json.dumps({f"k{i}": i for i in range(40_000)}),  # very many keys
        '{"doctor": 1e999999, "datetime": "2030-01-08T10:00:00Z"}',
        '{"doctor": 1, "doctor": 2, "datetime": "2030-01-08T10:00:00Z", "colour": 1}',
    ],
    ids=[
        "deep",
        "long-string",
        "long-array",
        "many-keys",
        "huge-exponent",
        "duplicate-keys",
    ],
)
def test_huge_or_deep_json_is_a_clear_4xx(clinic: Clinic, raw: str) -> None:
    response = clinic.other_patient.post(
        "/api/appointments/", data=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (400, 413, 422), response.status_code
    expect(response, response.status_code)


def test_a_body_just_over_the_limit_is_413_and_just_under_is_read(
    clinic: Clinic,
) -> None:
    limit = clinic.client.application.config["MAX_CONTENT_LENGTH"]
    for size, status in ((limit + 1, 413), (limit - 1, 422)):
        body = '{"reason": "' + "r" * (size - 14) + '"}'
        assert len(body) == size
        response = clinic.other_patient.post(
            "/api/appointments/",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        expect(response, status)


def test_long_headers_and_query_strings_are_not_a_500(clinic: Clinic) -> None:
    expect(clinic.admin.get("/api/doctors/?specialization=" + "s" * 100_000), 422)
    expect(
        clinic.admin.get("/api/doctors/?" + "&".join(f"x{i}=1" for i in range(5000))),
        200,
    )
    response = clinic.client.get(
        "/api/auth/me/", headers={"Authorization": "Bearer " + "a" * 100_000}
    )
    expect(response, 401)
    expect(
        clinic.client.get("/api/auth/me/", headers={"Authorization": "Bearer a.b.c\x00"}),
        401,
    )
