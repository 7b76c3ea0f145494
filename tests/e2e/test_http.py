"""The HTTP surface: error bodies, no request ever a 500, pagination, slashes, probes, docs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.e2e.conftest import PASSWORD, Clinic, another_app, create_user, expect

BIG = 2**70


# -- every error in one shape, and never a 500 -----------------------------------------------


def test_unknown_routes_and_methods_answer_json(clinic: Clinic) -> None:
    expect(clinic.admin.get("/api/nothing-here/"), 404)
    expect(clinic.admin.get("/"), 404)
    response = clinic.admin.request("PUT", "/api/doctors/")
    expect(response, 405)
    assert "GET" in response.headers["Allow"]
    expect(clinic.admin.delete(f"/api/appointments/{clinic.appointment_id}/"), 405)


def test_malformed_json_is_400(clinic: Clinic) -> None:
    for raw in ('{"doctor": 1,', "not json", b"\xff\xfe", "[" * 100_000, "1" * 5000):
        response = clinic.patient.post(
            "/api/appointments/", data=raw, headers={"Content-Type": "application/json"}
        )
        expect(response, 400)


def test_a_body_that_is_not_an_object_is_422(clinic: Clinic) -> None:
    for body in ([1, 2], "text", 42, None, True):
        response = clinic.patient.post(
            "/api/appointments/",
            data=json.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        expect(response, 422)


def test_wrong_types_and_absurd_numbers_are_422(clinic: Clinic) -> None:
    slot = {"doctor": clinic.doctor.doctor_id, "datetime": "2030-01-08T10:00:00Z"}
    for bad in (
        {"doctor": "one"},
        {"doctor": 1.5},
        {"doctor": True},
        {"doctor": BIG},
        {"doctor": -1},
        {"doctor": 0},
        {"doctor": None},
        {"datetime": 20300108},
        {"datetime": "tomorrow"},
        {"datetime": "0001-01-01T00:00:00+05:00"},
        {"datetime": "9999-12-31T23:59:59Z"},
        {"reason": "x" * 5000},
        {"reason": "nul\x00byte"},
        {"reason": "\ud800"},
        {"reason": ["a"]},
    ):
        expect(clinic.other_patient.post("/api/appointments/", {**slot, **bad}), 422)
    expect(
        clinic.admin.patch(
            f"/api/doctors/{clinic.doctor.doctor_id}/", {"appointment_minutes": 1e400}
        ),
        422,
    )


def test_validation_errors_name_each_field(clinic: Clinic) -> None:
    body = expect(
        clinic.patient.post("/api/appointments/", {"datetime": "2030-01-08T10:00:00"}), 422
    )
    assert body["code"] == 422 and body["status"] == "Unprocessable Entity"
    errors = body["errors"]
    assert "doctor" in errors and "datetime" in errors
    unknown = expect(
        clinic.patient.post(
            "/api/appointments/", {"doctor": 1, "datetime": "2030-01-08T10:00:00Z", "colour": "red"}
        ),
        422,
    )
    assert "colour" in unknown["errors"]


def test_domain_errors_keep_their_field_errors(clinic: Clinic) -> None:
    body = expect(
        clinic.other_patient.post(
            "/api/appointments/",
            {"doctor": clinic.doctor.doctor_id, "datetime": "2030-01-08T13:00:00Z"},
        ),
        422,
    )
    assert body["errors"] == {"datetime": ["Outside the doctor's availability."]}


def test_absurd_ids_in_paths_and_queries_are_4xx(clinic: Clinic) -> None:
    for path in (
        f"/api/doctors/{BIG}/",
        "/api/doctors/0/",
        "/api/doctors/-1/",
        "/api/doctors/abc/",
        f"/api/doctors/{'9' * 5000}/",
        f"/api/appointments/{BIG}/confirm/",
    ):
        response = clinic.admin.request("GET" if "confirm" not in path else "POST", path)
        expect(response, 404)
    for query in (f"doctor={BIG}", "doctor=abc", "doctor=" + "9" * 5000, "patient=0"):
        expect(clinic.admin.get(f"/api/appointments/?{query}"), 422)
    expect(clinic.admin.get("/api/doctors/?specialization=%00"), 422)


def test_a_body_over_the_limit_is_413(clinic: Clinic) -> None:
    huge = {"email": "pat@example.test", "password": "x" * (1024 * 1024 + 10)}
    expect(clinic.client.post("/api/auth/jwt/token/", json=huge), 413)
    response = clinic.patient.post(
        "/api/appointments/",
        data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )
    expect(response, 413)


def test_a_non_json_content_type_is_a_validation_error(clinic: Clinic) -> None:
    response = clinic.patient.post("/api/appointments/", data={"doctor": "1"})
    expect(response, 422)


# -- pagination ------------------------------------------------------------------------------


def test_lists_are_arrays_with_pagination_metadata(clinic: Clinic) -> None:
    for n in range(3):
        create_user(clinic.admin, f"u{n}@clinic.test", "admin")
    response = clinic.admin.get("/api/users/?page=2&page_size=3")
    users = expect(response, 200)
    assert isinstance(users, list) and len(users) == 3
    assert json.loads(response.headers["X-Pagination"]) == {
        "total": 8,
        "total_pages": 3,
        "first_page": 1,
        "last_page": 3,
        "page": 2,
        "previous_page": 1,
        "next_page": 3,
    }
    beyond = clinic.admin.get("/api/users/?page=9&page_size=3")
    assert expect(beyond, 200) == []
    assert json.loads(beyond.headers["X-Pagination"])["total"] == 8
    default = clinic.admin.get("/api/users/")
    assert len(expect(default, 200)) == 8
    assert json.loads(default.headers["X-Pagination"])["total_pages"] == 1


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=-1",
        "page=abc",
        f"page={10**20}",
        "page_size=0",
        "page_size=101",
        f"page_size={10**20}",
        "page=1.5",
    ],
)
def test_pagination_out_of_bounds_is_422(clinic: Clinic, query: str) -> None:
    expect(clinic.admin.get(f"/api/appointments/?{query}"), 422)


def test_page_size_100_is_allowed(clinic: Clinic) -> None:
    expect(clinic.admin.get("/api/doctors/?page_size=100"), 200)


# -- slashes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/doctors/",
        "/api/availabilities/",
        "/api/patients/",
        "/api/appointments/",
        "/api/medical-records/",
        "/api/audit-events/",
        "/api/users/",
        "/api/auth/me/",
    ],
)
def test_paths_work_with_and_without_the_trailing_slash(clinic: Clinic, path: str) -> None:
    for variant in (path, path.rstrip("/")):
        response = clinic.admin.get(variant)
        assert response.status_code == 200, (variant, response.status_code)
        assert "Location" not in response.headers


def test_item_and_action_paths_work_without_the_slash(clinic: Clinic) -> None:
    expect(clinic.admin.get(f"/api/appointments/{clinic.appointment_id}"), 200)
    expect(clinic.doctor.post(f"/api/appointments/{clinic.appointment_id}/confirm"), 200)
    expect(
        clinic.client.post(
            "/api/auth/jwt/token", json={"email": "pat@example.test", "password": PASSWORD}
        ),
        200,
    )


# -- probes ----------------------------------------------------------------------------------


def test_health_and_readiness(client: FlaskClient) -> None:
    assert expect(client.get("/healthz"), 200) == {"status": "ok"}
    assert expect(client.get("/readyz"), 200) == {"status": "ready"}


def test_readiness_is_503_when_the_database_is_unreachable(app: Flask, tmp_path: Path) -> None:
    with another_app(app, database_url=f"sqlite:///{tmp_path}/missing/healthcare.db") as broken:
        response = broken.test_client().get("/readyz")
        expect(response, 503)
        assert int(response.headers["Retry-After"]) >= 1
        assert broken.test_client().get("/healthz").status_code == 200


def test_an_unreachable_database_answers_503_with_retry_after(app: Flask, tmp_path: Path) -> None:
    with another_app(app, database_url=f"sqlite:///{tmp_path}/missing/healthcare.db") as broken:
        response = broken.test_client().post(
            "/api/auth/jwt/token/", json={"email": "a@b.test", "password": PASSWORD}
        )
        expect(response, 503)
        assert int(response.headers["Retry-After"]) >= 1


# -- the API description ---------------------------------------------------------------------


def test_the_openapi_document_describes_every_operation(client: FlaskClient) -> None:
    spec = expect(client.get("/api/openapi.json"), 200)
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert spec["security"] == [{"bearerAuth": []}]
    paths = spec["paths"]
    for path, methods in {
        "/api/auth/jwt/token/": ["post"],
        "/api/auth/jwt/refresh/": ["post"],
        "/api/auth/login/": ["post"],
        "/api/auth/logout/": ["post"],
        "/api/auth/register/": ["post"],
        "/api/auth/me/": ["get"],
        "/api/users/": ["get", "post"],
        "/api/users/{user_id}/": ["get", "patch"],
        "/api/doctors/": ["get", "post"],
        "/api/doctors/{doctor_id}/": ["get", "patch", "delete"],
        "/api/doctors/{doctor_id}/slots/": ["get"],
        "/api/availabilities/": ["get", "post"],
        "/api/availabilities/{window_id}/": ["get", "patch", "delete"],
        "/api/patients/": ["get", "post"],
        "/api/patients/{patient_id}/": ["get", "patch"],
        "/api/appointments/": ["get", "post"],
        "/api/appointments/{appointment_id}/": ["get", "patch"],
        "/api/appointments/{appointment_id}/confirm/": ["post"],
        "/api/appointments/{appointment_id}/cancel/": ["post"],
        "/api/appointments/{appointment_id}/complete/": ["post"],
        "/api/appointments/{appointment_id}/no-show/": ["post"],
        "/api/medical-records/": ["get", "post"],
        "/api/medical-records/{record_id}/": ["get", "patch"],
        "/api/audit-events/": ["get"],
        "/healthz": ["get"],
        "/readyz": ["get"],
    }.items():
        assert path in paths, path
        for method in methods:
            operation = paths[path][method]
            assert operation["summary"], (path, method)
            codes = set(operation["responses"])
            public = path.startswith(
                ("/api/auth/jwt/", "/api/auth/login", "/api/auth/register", "/healthz", "/readyz")
            )
            if public:
                assert operation["security"] == []
            else:
                assert "security" not in operation and "401" in codes, (path, method)
            assert codes & {"200", "201", "204"}, (path, method)
    assert {"401", "429"} <= set(paths["/api/auth/jwt/token/"]["post"]["responses"])
    booking = paths["/api/appointments/"]["post"]["responses"]
    assert {"201", "401", "403", "404", "409", "422"} <= set(booking)
    assert "X-Pagination" in paths["/api/appointments/"]["get"]["responses"]["200"]["headers"]


def test_the_docs_pages_name_no_outside_address(client: FlaskClient) -> None:
    for page in ("/api/swagger/", "/api/redoc/"):
        html = client.get(page).get_data(as_text=True)
        assert client.get(page).status_code == 200
        external = re.findall(r"""(?:src|href)=["'](https?:)?//""", html)
        assert external == [], page
        for asset in re.findall(r"""(?:src|href)=["']([^"']+)["']""", html):
            assert client.get(asset).status_code == 200, asset


def test_api_responses_are_never_cached_and_never_sniffed(client) -> None:
    response = client.get("/api/doctors/")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Request-ID"]
