"""Webhooks end to end: the API subscribes a real receiver, changes go through the API, and
``healthcare deliver-webhooks`` delivers them, signed so the ``standardwebhooks`` library
verifies them; retries, 410, and a worker killed mid-attempt that loses nothing.

The clock is the real one here (a signature older than five minutes fails verification)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask.testing import FlaskClient

from healthcare.bootstrap import create_app, create_container
from healthcare.config import ConfigError, Settings
from healthcare.entrypoints.cli import Composition, main
from tests.support.receiver import HANG, Receiver

COMPOSITION = Composition(container=create_container, app=create_app)
SOON = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=1)


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "JWT_SECRET_KEY": "a-webhook-test-secret-that-is-long-enough",
        "HEALTHCARE_INSTANCE_PATH": str(tmp_path / "instance"),
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": "8",
        "BOOKING_MIN_NOTICE_MINUTES": "0",
        "WEBHOOK_LEASE_SECONDS": "30",
    }


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as running:
        yield running


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, args=list(args), env=env, obj=COMPOSITION)


class Clinic:
    """A doctor with a window tomorrow and a patient, through the command line and the API."""

    def __init__(self, env: dict[str, str]) -> None:
        self.app = create_app(Settings.from_env(env))
        self.client: FlaskClient = self.app.test_client()
        for email, role, name in (
            ("admin@c.test", "admin", None), ("doc@c.test", "doctor", "Dr. Quinn"),
            ("pat@c.test", "patient", "Pat Jones"), ("sam@c.test", "patient", "Sam Lee"),
        ):
            extra = ["--name", name] if name else []
            assert run(env, "create-user", "--email", email, "--password", "a-password-1",
                       "--role", role, *extra).exit_code == 0
        self.admin, self.doctor, self.patient, self.other = (
            self.token(email) for email in ("admin@c.test", "doc@c.test", "pat@c.test", "sam@c.test")
        )
        self.call("POST", "/api/availabilities/", self.admin, 201, {
            "doctor": 1, "start_time": SOON.isoformat(),
            "end_time": (SOON + timedelta(hours=4)).isoformat()})

    def token(self, email: str) -> str:
        body = self.client.post("/api/auth/login/", json={"email": email, "password": "a-password-1"}).json
        return str(body["access"])

    def call(self, method: str, path: str, token: str, status: int, body: Any = None) -> Any:
        response = self.client.open(
            path, method=method, json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == status, response.json
        return response.json

    def subscribe(self, url: str, events: list[str] | None = None) -> dict[str, Any]:
        return self.call("POST", "/api/webhooks/", self.admin, 201, {"url": url, "events": events or ["*"]})

    def book(self, token: str, minutes: int = 0, status: int = 201) -> Any:
        start = (SOON + timedelta(minutes=minutes)).isoformat()
        return self.call("POST", "/api/appointments/", token, status, {"doctor": 1, "datetime": start})


def test_each_committed_change_arrives_once_signed_and_a_refused_one_never(
    env: dict[str, str], receiver: Receiver
):
    clinic = Clinic(env)
    endpoint = clinic.subscribe(receiver.url)
    receiver.secret = endpoint["secret"]
    booked = clinic.book(clinic.patient)
    clinic.book(clinic.other, status=409)  # the slot is taken: no event
    clinic.call("POST", f"/api/appointments/{booked['id']}/confirm/", clinic.doctor, 200)
    clinic.call("POST", f"/api/appointments/{booked['id']}/confirm/", clinic.doctor, 409)

    worker = run(env, "deliver-webhooks", "--once")

    assert worker.exit_code == 0, worker.output
    assert worker.stdout == "deliver-webhooks: 2 delivered, 0 to retry, 0 failed, 0 pending\n"
    # Attempts to one endpoint run side by side, so they may arrive in either order.
    assert sorted(r.type for r in receiver.receipts) == ["appointment.booked", "appointment.confirmed"]
    assert all(r.verified for r in receiver.receipts)
    assert len({r.webhook_id for r in receiver.receipts}) == 2
    assert run(env, "deliver-webhooks", "--once").stdout.startswith("deliver-webhooks: 0 delivered")
    log = clinic.call("GET", f"/api/webhooks/{endpoint['id']}/deliveries/", clinic.admin, 200)
    assert sorted((a["type"], a["attempt"], a["status_code"]) for a in log) == [
        ("appointment.booked", 1, 200), ("appointment.confirmed", 1, 200)]


def test_the_worker_logs_one_json_line_per_attempt_without_the_body(
    env: dict[str, str], receiver: Receiver
):
    import json

    clinic = Clinic(env)
    receiver.secret = clinic.subscribe(receiver.url)["secret"]
    clinic.book(clinic.patient)
    worker = run(env, "deliver-webhooks", "--once")
    (line,) = [json.loads(line) for line in worker.stderr.splitlines() if line.startswith("{")]
    assert line["event_type"] == "appointment.booked" and line["status_code"] == 200
    assert line["outcome"] == "delivered" and line["attempt"] == 1
    assert "data" not in json.dumps(line) and "datetime" not in line


@pytest.mark.slow
def test_a_failed_attempt_is_retried_with_the_same_webhook_id_and_410_disables(
    env: dict[str, str], receiver: Receiver
):
    clinic = Clinic(env)
    endpoint = clinic.subscribe(receiver.url, ["appointment.booked", "appointment.cancelled"])
    receiver.secret = endpoint["secret"]
    receiver.script = [500]
    booked = clinic.book(clinic.patient)

    assert run(env, "deliver-webhooks", "--once").stdout.startswith("deliver-webhooks: 0 delivered, 1 to retry")
    time.sleep(6)  # the first retry comes 5 s (±10%) later
    assert run(env, "deliver-webhooks", "--once").stdout.startswith("deliver-webhooks: 1 delivered")
    first, second = receiver.receipts
    assert (first.answered, second.answered) == (500, 200)
    assert first.webhook_id == second.webhook_id and first.body == second.body
    assert first.verified and second.verified

    receiver.script = [410]
    clinic.call("POST", f"/api/appointments/{booked['id']}/cancel/", clinic.patient, 200)
    assert "1 failed" in run(env, "deliver-webhooks", "--once").stdout
    assert clinic.call("GET", f"/api/webhooks/{endpoint['id']}/", clinic.admin, 200)["is_active"] is False


@pytest.mark.slow
def test_a_worker_killed_while_a_receiver_hangs_loses_nothing(
    env: dict[str, str], receiver: Receiver
):
    clinic = Clinic(env)
    receiver.secret = clinic.subscribe(receiver.url)["secret"]
    receiver.script = [HANG]
    booked = clinic.book(clinic.patient)
    clinic.call("POST", f"/api/appointments/{booked['id']}/confirm/", clinic.doctor, 200)
    clinic.book(clinic.other, minutes=60)
    process_env = {**os.environ, **env}
    script = Path(sys.executable).with_name("healthcare")

    first = subprocess.Popen([script, "deliver-webhooks"], env=process_env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert receiver.wait_for(3), "the worker never reached the receiver"
        first.send_signal(signal.SIGKILL)  # mid-attempt: the receiver is still holding one
    finally:
        first.wait(timeout=30)
    receiver.released.set()

    second = subprocess.Popen([script, "deliver-webhooks"], env=process_env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90  # the killed worker's lease (30 s) runs out first
        while len({r.webhook_id for r in receiver.delivered()}) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        second.send_signal(signal.SIGTERM)
        out, _ = second.communicate(timeout=30)
    finally:
        if second.poll() is None:
            second.kill()
    assert second.returncode == 0 and out.startswith("deliver-webhooks:")

    delivered = {r.webhook_id: r.type for r in receiver.delivered()}
    assert sorted(delivered.values()) == [
        "appointment.booked", "appointment.booked", "appointment.confirmed"]
    assert all(r.verified for r in receiver.receipts if r.answered is not None)
    # A repeat carries the same id and body, so the receiver can drop it.
    bodies: dict[str, set[bytes]] = {}
    for receipt in receiver.receipts:
        bodies.setdefault(receipt.webhook_id, set()).add(receipt.body)
    assert all(len(same) == 1 for same in bodies.values())


def test_private_destinations_are_allowed_in_development_only_unless_set(tmp_path: Path):
    base = {"HEALTHCARE_INSTANCE_PATH": str(tmp_path)}
    production = {**base, "HEALTHCARE_ENV": "production", "JWT_SECRET_KEY": "p" * 40}
    assert Settings.from_env(base).webhook_allow_private is True
    assert Settings.from_env(production).webhook_allow_private is False
    assert Settings.from_env({**production, "WEBHOOK_ALLOW_PRIVATE": "true"}).webhook_allow_private
    assert not Settings.from_env({**base, "WEBHOOK_ALLOW_PRIVATE": "false"}).webhook_allow_private
    for wrong in ({"WEBHOOK_ALLOW_PRIVATE": "perhaps"}, {"WEBHOOK_PER_ENDPOINT": "40"},
                  {"WEBHOOK_LEASE_SECONDS": "20"}):
        with pytest.raises(ConfigError) as error:
            Settings.from_env({**base, **wrong})
        assert next(iter(wrong)) in str(error.value)


def test_a_waitlist_offer_is_a_signed_waitlist_offered_event_and_booking_it_books_the_entry(
    env: dict[str, str], receiver: Receiver
):
    """SPEC section 8 through the API and the command line: a cancellation offers its slot
    to the waiting patient in its transaction; the event reaches the endpoint."""
    clinic = Clinic(env)
    receiver.secret = clinic.subscribe(receiver.url, ["waitlist.offered"])["secret"]
    booked = clinic.book(clinic.patient)
    span = {"start": SOON.isoformat(), "end": (SOON + timedelta(hours=1)).isoformat()}
    entry = clinic.call("POST", "/api/waitlist/", clinic.other, 201, {"doctor": 1, **span})
    assert entry["status"] == "waiting" and entry["hold"] is None
    clinic.call("POST", f"/api/appointments/{booked['id']}/cancel/", clinic.patient, 200)
    offered = clinic.call("GET", f"/api/waitlist/{entry['id']}/", clinic.other, 200)
    assert offered["status"] == "offered"
    (hold,) = clinic.call("GET", "/api/holds/", clinic.other, 200)
    assert (hold["id"], hold["start"]) == (offered["hold"], booked["datetime"])

    worker = run(env, "deliver-webhooks", "--once")

    assert worker.exit_code == 0, worker.output
    assert [r.type for r in receiver.receipts] == ["waitlist.offered"]
    assert all(r.verified for r in receiver.receipts)
    clinic.call("POST", f"/api/holds/{hold['id']}/book/", clinic.other, 201, {})
    assert clinic.call("GET", f"/api/waitlist/{entry['id']}/", clinic.other, 200)["status"] == "booked"
    processed = run(env, "process-waitlist")
    assert processed.exit_code == 0, processed.output
    assert processed.stdout == (
        "process-waitlist: 0 lapsed offers passed on, 0 new offers, 0 entries expired, "
        "0 expired holds removed\n"
    )
