"""Several instances behind a load balancer behave as one.

Two real servers (``healthcare serve``) on two loopback ports share one PostgreSQL database and
one Redis:
a token revoked on one is refused by the other, a slot raced for through both is booked once,
and failed sign-ins are counted across both.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from threading import Barrier

import pytest
import requests

from healthcare.application.commands import (
    CreateAvailability,
    CreateUser,
    RegisterPatient,
)
from healthcare.bootstrap import create_container
from healthcare.config import Settings
from healthcare.domain.actor import Actor
from tests.support.databases import REDIS_URL, require_redis

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PATIENTS = 8
PASSWORD = "a-patient-password"
START = (datetime.now(UTC) + timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def environment(postgres_url: str, tmp_path: Path) -> dict[str, str]:
    require_redis()
    return {
        **os.environ,
        "HEALTHCARE_ENV": "production",
        "DATABASE_URL": postgres_url,
        "JWT_SECRET_KEY": "one-secret-shared-by-every-instance-0123456789",
        "HEALTHCARE_INSTANCE_PATH": str(tmp_path / "instance"),
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        "LOGIN_RATE_LIMIT": "3 per minute",
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": "8",
        "WEB_CONCURRENCY": "1",
    }


@pytest.fixture
def clinic(environment: dict[str, str]) -> dict[str, int]:
    """An admin, a doctor with a window, and patients, written through the use cases."""
    container = create_container(Settings.from_env(environment))
    try:
        accounts, system = container.account_service(), Actor.system()
        accounts.create_user(system, CreateUser("admin@clinic.test", "an-admin-password", "admin"))
        doctor = accounts.create_user(
            system, CreateUser("doc@clinic.test", "a-doctor-password", "doctor", name="Dr. Who")
        ).doctor
        for number in range(PATIENTS):
            accounts.register_patient(RegisterPatient(f"p{number}@mail.test", PASSWORD, f"P {number}"))
        container.availability_service().create(
            system, CreateAvailability(START, START + timedelta(hours=4), doctor_id=doctor.id)
        )
    finally:
        container.shutdown_resources()
    return {"doctor": doctor.id}


@pytest.fixture
def instances(environment: dict[str, str], clinic: dict[str, int]) -> Iterator[list[str]]:
    ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen(
            [str(Path(sys.executable).with_name("healthcare")), "serve", "--no-upgrade",
             "--host", "127.0.0.1", "--port", str(port)],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for base, server in zip(bases, servers, strict=True):
            wait_until_ready(base, server)
        yield bases
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()


def wait_until_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited at start"
        try:
            if requests.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or still booting
            pass
        time.sleep(0.2)
    pytest.fail(f"{base} did not become ready")


def sign_in(base: str, email: str, password: str) -> dict[str, str]:
    response = requests.post(f"{base}/api/auth/login/", json={"email": email, "password": password}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_revoked_on_one_instance_is_refused_by_the_other(instances: list[str]):
    one, other = instances
    tokens = sign_in(one, "p0@mail.test", PASSWORD)
    assert requests.get(f"{other}/api/auth/me/", headers=bearer(tokens["access"]), timeout=10).ok

    logout = requests.post(f"{one}/api/auth/logout/", headers=bearer(tokens["access"]),
                           json={"refresh": tokens["refresh"]}, timeout=10)

    assert logout.status_code in (200, 204)
    refused = requests.get(f"{other}/api/auth/me/", headers=bearer(tokens["access"]), timeout=10)
    assert refused.status_code == 401 and refused.json()["code"] == 401
    again = requests.post(f"{other}/api/auth/jwt/refresh/", json={"refresh": tokens["refresh"]}, timeout=10)
    assert again.status_code == 401


def test_one_slot_raced_for_through_both_instances_is_booked_once(
    instances: list[str], clinic: dict[str, int]
):
    tokens = [sign_in(instances[n % 2], f"p{n}@mail.test", PASSWORD)["access"] for n in range(PATIENTS)]
    start_together = Barrier(PATIENTS)

    def book(number: int) -> int:
        start_together.wait()
        return requests.post(
            f"{instances[number % 2]}/api/appointments/",
            headers=bearer(tokens[number]),
            json={"doctor": clinic["doctor"], "datetime": START.isoformat()},
            timeout=30,
        ).status_code

    with ThreadPoolExecutor(PATIENTS) as pool:
        statuses = list(pool.map(book, range(PATIENTS)))

    assert sorted(statuses) == [201] + [409] * (PATIENTS - 1)
    admin = sign_in(instances[0], "admin@clinic.test", "an-admin-password")["access"]
    listed = requests.get(f"{instances[1]}/api/appointments/", headers=bearer(admin), timeout=10).json()
    assert len([a for a in listed if a["status"] == "pending"]) == 1


def test_failed_sign_ins_are_counted_across_instances(instances: list[str]):
    wrong = {"email": "p1@mail.test", "password": "not-the-password"}
    statuses = [
        requests.post(f"{instances[n % 2]}/api/auth/login/", json=wrong, timeout=10).status_code
        for n in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    blocked = requests.post(f"{instances[1]}/api/auth/login/", json=wrong, timeout=10)
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
