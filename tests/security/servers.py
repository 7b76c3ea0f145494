"""Real processes for the fault tests: a private PostgreSQL cluster, the production server, a
booking load from threads. Every helper is bounded in time and cleans up after itself.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

from sqlalchemy import text

from healthcare.adapters.sqlalchemy import create_engine_from_url, upgrade_schema
from healthcare.adapters.sqlalchemy.types import UtcDateTime
from tests.e2e.conftest import PASSWORD, SECRET

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
VENV_BIN = Path(sys.executable).parent
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def wait_until(check: Any, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return False


# -- a private PostgreSQL cluster ------------------------------------------------------------


class Cluster:
    """``initdb`` in a temporary directory, run as the postgres OS user on a free port."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="healthcare-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg2://postgres@{LOOPBACK}:{self.port}/healthcare"

    def _as_postgres(self, *args: str, timeout: float = 60) -> None:
        command = [str(PG_BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:  # the server refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)

    def create(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._as_postgres(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"
        )
        self.start()
        admin = create_engine_from_url(self.url.rsplit("/", 1)[0] + "/postgres")
        try:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("CREATE DATABASE healthcare")
        finally:
            admin.dispose()

    def stop(self) -> None:
        self._as_postgres("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses={LOOPBACK} -k {self.root} "
            "-c shared_buffers=16MB -c max_connections=60"
        )
        log = str(self.root / "log")
        self._as_postgres("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def destroy(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._as_postgres("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def migrate(url: str) -> None:
    """The schema at head, as ``healthcare db upgrade`` leaves it."""
    engine = create_engine_from_url(url)
    try:
        upgrade_schema(engine)
    finally:
        engine.dispose()


@contextmanager
def private_cluster() -> Iterator[Cluster]:
    cluster = Cluster()
    try:
        cluster.create()
        yield cluster
    finally:
        cluster.destroy()


# -- the app, seeded and served --------------------------------------------------------------


def server_environment(database_url: str, instance: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("WEB_")},
        "DATABASE_URL": database_url,
        "JWT_SECRET_KEY": SECRET,
        "HEALTHCARE_ENV": "test",
        "HEALTHCARE_INSTANCE_PATH": str(instance),
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": "8",
        "DB_POOL_SIZE": "4",
        "DB_STATEMENT_TIMEOUT_MS": "5000",
        "LOG_LEVEL": "info",
    }


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    output: Path

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []


@contextmanager
def served(
    database_url: str, directory: Path, workers: int = 2, upgrade: bool = False
) -> Iterator[Server]:
    """The production server (``healthcare serve``) on a free port: on a migrated database, or
    with ``upgrade`` migrating it first, as ``make run`` does."""
    port = free_port()
    env = server_environment(database_url, directory / "instance")
    command = [
        str(VENV_BIN / "healthcare"), "serve", *([] if upgrade else ["--no-upgrade"]),
        "--host", LOOPBACK, "--port", str(port), "--workers", str(workers),
    ]
    output = directory / "server.log"
    with output.open("wb") as log:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=directory,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, f"http://{LOOPBACK}:{port}", output)
    try:
        up = wait_until(
            lambda: call(server.base, "GET", "/healthz")[0] == 200
            and len(server.workers()) == workers,
            timeout=30,
        )
        assert up, output.read_text()[-3000:]
        yield server
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=40)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def call(
    base: str,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Message, Any]:
    """One request: (status, headers, JSON body); status 0 when the connection failed. The
    headers are looked up ignoring case, as HTTP means them (granian sends them lower case)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return (
                response.status,
                response.headers,
                json.loads(raw) if raw else None,
            )
    except urllib.error.HTTPError as error:
        try:
            raw = error.read()
        except http.client.HTTPException:  # the worker died mid-answer
            return 0, Message(), None
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode(errors="replace")
        return error.code, error.headers, payload
    # A worker killed mid-answer cuts the body short (IncompleteRead): to the client that is a
    # failed connection, whatever the status line said.
    except (urllib.error.URLError, http.client.HTTPException, OSError):
        return 0, Message(), None


# -- a clinic with many free slots, and a load that books them -------------------------------


@dataclass
class Slots:
    admin: str
    #: (doctor, patient, start) to book: each doctor's slots for that doctor's own patient.
    plan: list[tuple[int, int, str]]


def seed(base: str, database_url: str, doctors: int = 2, days: int = 3) -> Slots:
    """An admin (as ``healthcare create-user`` makes one), doctors with 12-hour windows on the
    next days (real time: the server's clock is the system's), one patient per doctor."""
    subprocess.run(
        [
            str(VENV_BIN / "healthcare"),
            "create-user",
            "--email",
            "admin@clinic.test",
            "--password",
            PASSWORD,
            "--role",
            "admin",
        ],
        env=server_environment(database_url, Path(tempfile.gettempdir())),
        check=True,
        capture_output=True,
        timeout=60,
    )
    admin = call(
        base,
        "POST",
        "/api/auth/jwt/token/",
        {"email": "admin@clinic.test", "password": PASSWORD},
    )[2]["access"]
    first_day = (datetime.now(UTC) + timedelta(days=1)).replace(
        hour=6, minute=0, second=0, microsecond=0
    )
    plan = []
    for n in range(doctors):
        user = call(
            base,
            "POST",
            "/api/users/",
            {
                "email": f"doc{n}@clinic.test",
                "password": PASSWORD,
                "role": "doctor",
                "name": f"Dr. {n}",
            },
            admin,
        )[2]
        doctor = call(base, "GET", "/api/doctors/?page_size=100", token=admin)[2]
        doctor_id = next(d["id"] for d in doctor if d["user"] == user["id"])
        patient = call(
            base,
            "POST",
            "/api/auth/register/",
            {
                "email": f"pat{n}@example.test",
                "password": PASSWORD,
                "name": f"Patient {n}",
            },
        )[2]
        for day in range(days):
            start = first_day + timedelta(days=day)
            window = {
                "doctor": doctor_id,
                "start_time": _iso(start),
                "end_time": _iso(start + timedelta(hours=12)),
            }
            status, _, body = call(base, "POST", "/api/availabilities/", window, admin)
            assert status == 201, (status, body)
            plan += [
                (
                    doctor_id,
                    patient["patient"]["id"],
                    _iso(start + timedelta(minutes=30 * i)),
                )
                for i in range(24)
            ]
    plan.sort(key=lambda item: (item[2], item[0]))
    return Slots(admin=admin, plan=plan)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@dataclass
class Load:
    """Threads booking the planned slots one after another until told to stop. A booking that
    fails (no answer, or 503) is tried again later, as a client would; with ``keyed`` it is
    sent again under the same ``Idempotency-Key``."""

    base: str
    slots: Slots
    threads: int = 4
    limit_s: float = 40.0
    keyed: bool = False
    booked: list[int] = field(default_factory=list)
    #: The slots the clients believe they booked (a 201 came back), and the id they were given.
    acknowledged: dict[tuple[int, int, str], int] = field(default_factory=dict)
    statuses: list[tuple[float, int, str]] = field(default_factory=list)
    retry_after_missing: int = 0
    _next: int = 0
    _retry: list[tuple[int, int, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _take(self) -> tuple[int, int, str] | None:
        with self._lock:
            if self._retry:
                return self._retry.pop()
            if self._next >= len(self.slots.plan):
                return None
            self._next += 1
            return self.slots.plan[self._next - 1]

    def _run(self, retries_only: bool = False) -> None:
        deadline = time.monotonic() + self.limit_s
        while (retries_only or not self._stop.is_set()) and time.monotonic() < deadline:
            with self._lock:
                if retries_only and not self._retry:
                    return
            slot = self._take()
            if slot is None:
                return
            doctor, patient, start = slot
            body = {"doctor": doctor, "patient": patient, "datetime": start}
            # The key names the slot: the same one on every attempt at it.
            key = {"Idempotency-Key": f"{doctor}-{patient}-{start}"} if self.keyed else None
            status, headers, answer = call(
                self.base, "POST", "/api/appointments/", body, self.slots.admin, key
            )
            with self._lock:
                self.statuses.append((time.monotonic(), status, str(answer)[:200]))
                if status == 201:
                    self.booked.append(answer["id"])
                    self.acknowledged[slot] = answer["id"]
                if status == 503 and not headers.get("Retry-After"):
                    self.retry_after_missing += 1
                if status in (0, 503):  # try that slot again later, as a client would
                    self._retry.append(slot)
            if status in (0, 503):
                time.sleep(0.1)

    @contextmanager
    def running(self) -> Iterator[Load]:
        workers = [threading.Thread(target=self._run, daemon=True) for _ in range(self.threads)]
        for worker in workers:
            worker.start()
        try:
            yield self
        finally:
            self._stop.set()
            for worker in workers:
                worker.join(timeout=15)

    def finish_retries(self) -> None:
        """After the load: the failed bookings still waiting for their retry get it (a client
        keeps trying until it has an answer), so every slot ends with one."""
        self._run(retries_only=True)

    def count(self, status: int) -> int:
        with self._lock:
            return sum(1 for _, s, _ in self.statuses if s == status)

    def booked_since(self, moment: float) -> int:
        with self._lock:
            return sum(1 for at, s, _ in self.statuses if s == 201 and at > moment)

    def first_after(self, moment: float, status: int) -> float | None:
        """Seconds from ``moment`` to the first answer ``status`` after it."""
        with self._lock:
            return next((at - moment for at, s, _ in self.statuses if s == status and at > moment), None)


def stored_bookings(url: str, slots: Slots) -> dict[tuple[int, int, str], list[int]]:
    """The planned slots as the database holds them: each slot's active appointment ids."""
    engine = create_engine_from_url(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, doctor_id, patient_id, start_at FROM appointments"
                     " WHERE status IN ('pending', 'confirmed')")
                .columns(start_at=UtcDateTime())
            ).all()
    finally:
        engine.dispose()
    planned = set(slots.plan)
    stored: dict[tuple[int, int, str], list[int]] = {}
    for appointment, doctor, patient, start in rows:
        slot = (doctor, patient, _iso(start))
        if slot in planned:
            stored.setdefault(slot, []).append(appointment)
    return stored
