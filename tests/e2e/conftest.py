"""The Flask app over HTTP (the test client), on SQLite and on PostgreSQL, with real JWTs.

``clinic`` builds a small clinic through the API itself: an admin (made like
``healthcare create-user`` does), two doctors, two patients who signed up, a window of
availability and one booking, each actor holding a real access token. The clock stands at
``tests.conftest.NOW`` (Monday 2030-01-07 08:00 UTC) unless a test moves it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from healthcare.adapters.clock import FixedClock
from healthcare.application.commands import CreateUser
from healthcare.bootstrap import create_app
from healthcare.config import Settings
from healthcare.domain.actor import Actor
from healthcare.entrypoints.api import errors

PASSWORD = "correct horse battery"
SECRET = "e2e-test-secret-that-is-long-enough-for-hs256!"

#: Tomorrow's window of Dr. Adams, and the first bookable slot in it.
WINDOW_START = "2030-01-08T09:00:00Z"
WINDOW_END = "2030-01-08T12:00:00Z"
FIRST_SLOT = "2030-01-08T09:00:00Z"


@pytest.fixture(
    params=[
        pytest.param("sqlite"),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"{request.param}_url")  # tests/conftest.py's fixtures


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings.from_env(
        {},
        env="test",
        database_url=database_url,
        jwt_secret_key=SECRET,
        instance_path=str(tmp_path / "instance"),
        # argon2id at test cost: the production parameters are the config's defaults.
        argon2_time_cost=1,
        argon2_memory_cost=8,
        db_pool_size=2,
    )


class _ServerErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def app(settings: Settings, clock: FixedClock) -> Iterator[Flask]:
    """The app on this test's database; the test fails if any request reached a 500."""
    app = create_app(settings)
    app.container.clock.override(clock)  # type: ignore[attr-defined]
    server_errors = _ServerErrors()
    error_log = logging.getLogger(errors.__name__)
    error_log.addHandler(server_errors)
    try:
        yield app
    finally:
        error_log.removeHandler(server_errors)
        app.container.clock.reset_override()  # type: ignore[attr-defined]
        app.container.shutdown_resources()  # type: ignore[attr-defined] # disposes the engine
    assert not server_errors.records, [r.getMessage() for r in server_errors.records]


@contextmanager
def another_app(app: Flask, **changes: Any) -> Iterator[Flask]:
    """A second app (as in another process) on ``app``'s settings with ``changes``.

    The wiring of views to a container is per module, so the test's own app is wired again
    afterwards.
    """
    other = create_app(app.container.settings().with_changes(**changes))  # type: ignore[attr-defined]
    try:
        yield other
    finally:
        other.container.shutdown_resources()  # type: ignore[attr-defined]
        app.container.wire()  # type: ignore[attr-defined]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Caller:
    """The test client with one actor's bearer token on every request."""

    def __init__(self, client: FlaskClient, token: str | None = None, **ids: int) -> None:
        self.client = client
        self.token = token
        self.ids = ids

    def __getattr__(self, name: str) -> int:
        try:
            return self.ids[name]
        except KeyError:
            raise AttributeError(name) from None

    def request(self, method: str, path: str, **kwargs: Any) -> TestResponse:
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> TestResponse:
        return self.request("POST", path, json=json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> TestResponse:
        return self.request("PATCH", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("DELETE", path, **kwargs)


def expect(response: TestResponse, status: int) -> Any:
    """The JSON body, after checking the status (showing the body when it differs)."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    if status >= 400:
        assert_error_body(response, status)
    return response.get_json(silent=True)


def assert_error_body(response: TestResponse, status: int) -> None:
    body = response.get_json(silent=True)
    assert response.mimetype == "application/json", response.get_data(as_text=True)
    assert isinstance(body, dict), body
    assert body["code"] == status
    assert isinstance(body["status"], str) and body["status"]
    assert isinstance(body["message"], str) and body["message"]
    assert set(body) <= {"code", "status", "message", "errors"}


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    return expect(
        client.post("/api/auth/jwt/token/", json={"email": email, "password": password}), 200
    )


def create_admin(app: Flask, email: str = "admin@clinic.test") -> int:
    """The first admin, made the way ``healthcare create-user`` makes one."""
    accounts = app.container.account_service()  # type: ignore[attr-defined]
    account = accounts.create_user(
        Actor.system(), CreateUser(email=email, password=PASSWORD, role="admin")
    )
    assert account.user.id is not None
    return account.user.id


@dataclass
class Clinic:
    client: FlaskClient
    anonymous: Caller
    admin: Caller
    doctor: Caller  # Dr. Adams: has the window and the booking
    other_doctor: Caller  # Dr. Baker: nothing to do with the patients
    patient: Caller  # Pat: booked with Dr. Adams
    other_patient: Caller  # Olive: no appointment
    window_id: int = 0
    appointment_id: int = 0
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    def caller(self, role: str) -> Caller:
        return getattr(self, role)

    def sign_in(self, email: str) -> Caller:
        return Caller(self.client, sign_in(self.client, email)["access"])


def create_user(admin: Caller, email: str, role: str) -> dict[str, Any]:
    """A user made through ``POST /api/users/`` by ``admin``."""
    return expect(
        admin.post("/api/users/", {"email": email, "password": PASSWORD, "role": role}), 201
    )  # type: ignore[no-any-return]


def _doctor(
    client: FlaskClient, admin: Caller, email: str, name: str, specialization: str
) -> Caller:
    user = create_user(admin, email, "doctor")
    doctor = expect(
        admin.post(
            "/api/doctors/",
            {"user": user["id"], "name": name, "specialization": specialization},
        ),
        201,
    )
    return Caller(
        client, sign_in(client, email)["access"], user_id=user["id"], doctor_id=doctor["id"]
    )


def _patient(client: FlaskClient, email: str, name: str) -> Caller:
    account = expect(
        client.post(
            "/api/auth/register/",
            json={"email": email, "password": PASSWORD, "name": name, "phone": "+1 555 0100"},
        ),
        201,
    )
    return Caller(
        client,
        sign_in(client, email)["access"],
        user_id=account["user"]["id"],
        patient_id=account["patient"]["id"],
    )


@pytest.fixture
def clinic(app: Flask, client: FlaskClient) -> Clinic:
    admin_id = create_admin(app)
    admin = Caller(client, sign_in(client, "admin@clinic.test")["access"], user_id=admin_id)
    doctor = _doctor(client, admin, "adams@clinic.test", "Dr. Adams", "Cardiology")
    other_doctor = _doctor(client, admin, "baker@clinic.test", "Dr. Baker", "Dermatology")
    patient = _patient(client, "pat@example.test", "Pat Lee")
    other_patient = _patient(client, "olive@example.test", "Olive Ng")
    window = expect(
        doctor.post("/api/availabilities/", {"start_time": WINDOW_START, "end_time": WINDOW_END}),
        201,
    )
    appointment = expect(
        patient.post("/api/appointments/", {"doctor": doctor.doctor_id, "datetime": FIRST_SLOT}),
        201,
    )
    return Clinic(
        client=client,
        anonymous=Caller(client),
        admin=admin,
        doctor=doctor,
        other_doctor=other_doctor,
        patient=patient,
        other_patient=other_patient,
        window_id=window["id"],
        appointment_id=appointment["id"],
    )
