"""Each endpoint sends a fixed number of SQL statements, whatever the page size and however much
data the clinic holds: no N+1 query hides behind a list, a slot search or an audit write.

The clinics are demo clinics (``healthcare.entrypoints.demo``) loaded through the bulk use case,
one small and one four times larger; the requests go through the whole Flask app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, text

from healthcare.adapters.clock import FixedClock
from healthcare.application.services.bulk import BulkLoadService
from healthcare.bootstrap import create_app
from healthcare.config import Settings
from healthcare.entrypoints.api.security import issue_tokens
from healthcare.entrypoints.demo import DEMO_PASSWORD, seed_demo
from tests.conftest import NOW

#: Statements per request on each backend (SQLite adds a BEGIN per transaction).
#: A change here is a change in the cost of every request: look at it on purpose.
EXPECTED = {
    # Every signed-in request spends one statement on its token (holder, profile, revocation);
    # a list carries its total as a window aggregate, so a list is one statement more.
    "doctors": {"postgres": 2, "sqlite": 4},
    "appointments as a patient": {"postgres": 2, "sqlite": 4},
    "appointments as a doctor": {"postgres": 2, "sqlite": 4},
    # The doctor, then their whole calendar (windows, weekly hours, blocked periods, busy
    # time, the patient's own appointments) in one statement.
    "slots": {"postgres": 3, "sqlite": 5},
    # A read of patient data and its audit events: one statement on PostgreSQL (a
    # data-modifying CTE); a SELECT and an INSERT in one transaction on SQLite.
    "record": {"postgres": 2, "sqlite": 5},
    "records as a patient": {"postgres": 2, "sqlite": 5},
    # The doctor, the calendar, the DELETE of expired holds in the way (section 8: they block
    # nothing, with no job running), the INSERT (the database refuses an overlap itself), and
    # its webhook event: one INSERT ... SELECT over the subscribed endpoints.
    "book": {"postgres": 6, "sqlite": 8},
    # The attempt counted in the shared sign-in counters (and given back), then the user.
    "login": {"postgres": 4, "sqlite": 8},
}
SIZES = {"small": {"doctors": 2, "patients": 12}, "large": {"doctors": 8, "patients": 48}}


def _iso(moment: Any) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%SZ}"


class Counted:
    """The Flask app on a demo clinic, counting the statements each request sends."""

    def __init__(self, app: Flask, backend: str) -> None:
        self.app = app
        self.backend = backend
        self.client = app.test_client()
        self.engine = app.container.engine()  # type: ignore[attr-defined]
        self.statements: list[str] = []
        event.listen(self.engine, "before_cursor_execute", self._count)
        self._pick()

    def _count(self, *args: Any) -> None:
        self.statements.append(args[2])

    def _pick(self) -> None:
        with self.engine.connect() as connection:
            one = connection.execute
            self.patient_user, self.patient = one(text(
                "SELECT p.user_id, p.id FROM patients p JOIN appointments a ON a.patient_id = p.id"
                " JOIN medical_records r ON r.patient_id = p.id"
                " GROUP BY p.id ORDER BY count(*) DESC, p.id LIMIT 1"
            )).one()
            self.doctor_user, self.doctor = one(text(
                "SELECT user_id, id FROM doctors ORDER BY id LIMIT 1"
            )).one()
            self.record = one(
                text("SELECT min(id) FROM medical_records WHERE patient_id = :p"),
                {"p": self.patient},
            ).scalar()
            self.email = one(
                text("SELECT email FROM users WHERE id = :u"), {"u": self.patient_user}
            ).scalar()
            self.booker_user, self.booker = one(text(
                "SELECT user_id, id FROM patients ORDER BY id DESC LIMIT 1"
            )).one()
            # A free slot of the doctor, two days ahead, for the booking request.
            minutes = one(
                text("SELECT appointment_minutes FROM doctors WHERE id = :d"), {"d": self.doctor}
            ).scalar()
            windows = one(text(
                "SELECT start_time, end_time FROM availabilities WHERE doctor_id = :d"
                " ORDER BY start_time"
            ), {"d": self.doctor}).all()
            taken = one(text(
                "SELECT start_at, end_at FROM appointments WHERE doctor_id = :d"
                " AND status IN ('pending', 'confirmed')"
            ), {"d": self.doctor}).all()
        self.free_slot = self._free(windows, taken, minutes)
        with self.app.test_request_context():
            self.tokens = {
                "patient": issue_tokens(self.patient_user, "patient")["access"],
                "doctor": issue_tokens(self.doctor_user, "doctor")["access"],
                "booker": issue_tokens(self.booker_user, "patient")["access"],
            }

    @staticmethod
    def _free(windows: list[Any], taken: list[Any], minutes: int) -> Any:
        from healthcare.adapters.sqlalchemy.types import UtcDateTime

        def aware(value: Any) -> Any:
            return UtcDateTime().process_result_value(value, None)  # type: ignore[arg-type]

        busy = [(aware(s), aware(e)) for s, e in taken]
        length = timedelta(minutes=minutes)
        for start, end in windows:
            at = aware(start)
            while at + length <= aware(end):
                if at > NOW + timedelta(days=1) and not any(
                    s < at + length and at < e for s, e in busy
                ):
                    return at
                at += length
        raise AssertionError("the demo clinic has no free slot")

    def count(self, method: str, url: str, token: str | None, body: Any = None) -> int:
        headers = {"Authorization": f"Bearer {self.tokens[token]}"} if token else {}
        self.statements.clear()
        response = self.client.open(url, method=method, headers=headers, json=body)
        assert response.status_code in (200, 201), (url, response.status_code, response.json)
        return len(self.statements)

    def requests(self, page_size: int, days: int) -> dict[str, Callable[[], int]]:
        start = NOW + timedelta(days=1)
        span = f"start={_iso(start)}&end={_iso(start + timedelta(days=days))}"
        return {
            "doctors": lambda: self.count("GET", f"/api/doctors/?page_size={page_size}", "patient"),
            "appointments as a patient": lambda: self.count(
                "GET", f"/api/appointments/?page_size={page_size}", "patient"
            ),
            "appointments as a doctor": lambda: self.count(
                "GET", f"/api/appointments/?page_size={page_size}", "doctor"
            ),
            "slots": lambda: self.count("GET", f"/api/doctors/{self.doctor}/slots/?{span}", "patient"),
            "record": lambda: self.count("GET", f"/api/medical-records/{self.record}/", "patient"),
            "records as a patient": lambda: self.count(
                "GET", f"/api/medical-records/?page_size={page_size}", "patient"
            ),
            "login": lambda: self.count(
                "POST", "/api/auth/login/", None, {"email": self.email, "password": DEMO_PASSWORD}
            ),
        }


@pytest.fixture(params=list(SIZES))
def size(request: pytest.FixtureRequest) -> str:
    return request.param


@contextmanager
def counted_clinic(database_url: str, tmp_path: Path, size: str) -> Iterator[Counted]:
    settings = Settings.from_env(
        {},
        env="test",
        database_url=database_url,
        jwt_secret_key="query-count-test-secret-long-enough-for-hs256",
        instance_path=str(tmp_path / "instance"),
        argon2_time_cost=1,
        argon2_memory_cost=8,
        db_pool_size=2,
    )
    app = create_app(settings)
    container = app.container  # type: ignore[attr-defined]
    clock = FixedClock(NOW)
    container.clock.override(clock)
    bulk = BulkLoadService(container.unit_of_work, clock, container.password_hasher())
    seed_demo(bulk, weeks=3, seed=11, **SIZES[size])
    try:
        yield Counted(app, "postgres" if database_url.startswith("postgresql") else "sqlite")
    finally:
        container.shutdown_resources()


def test_each_endpoint_sends_the_same_statements_whatever_the_page_and_data_size(
    database_url: str, tmp_path: Path, size: str
) -> None:
    with counted_clinic(database_url, tmp_path, size) as clinic:
        narrow = {name: run() for name, run in clinic.requests(page_size=1, days=1).items()}
        wide = {name: run() for name, run in clinic.requests(page_size=100, days=31).items()}
        booking = {
            "book": clinic.count(
                "POST",
                "/api/appointments/",
                "booker",
                {"doctor": clinic.doctor, "datetime": _iso(clinic.free_slot), "reason": "Count"},
            )
        }
    expected = {name: counts[clinic.backend] for name, counts in EXPECTED.items()}
    assert {**narrow, **booking} == expected
    assert {**wide, **booking} == expected
