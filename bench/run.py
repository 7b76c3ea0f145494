"""The benchmark: a large clinic on PostgreSQL, the production server, wrk, and the database's
own ceiling for the same operations. See bench/README.md.

    .venv/bin/python bench/run.py [--scale 1] [--duration 10] [--scaling 10000,1000000]
"""

from __future__ import annotations

import argparse
import bisect
import concurrent.futures
import json
import multiprocessing
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg2

from healthcare.adapters.sqlalchemy import upgrade_schema
from healthcare.bootstrap import create_container
from healthcare.config import Settings
from healthcare.entrypoints.demo import DEMO_PASSWORD, seed_demo, weeks_for

BENCH = Path(__file__).resolve().parent
LUA = BENCH / "lua" / "requests.lua"
RESULTS = BENCH / "results"
SECRET = "bench-secret-" + "x" * 40
ADMIN_URL = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")

#: At --scale 1: the clinic the issue asks for.
DOCTORS, PATIENTS, APPOINTMENTS = 100, 20_000, 200_000
#: What the Django system did, and our goal (req/s).
DJANGO = {"login": 10.6, "book": 326, "list_patient": 631, "doctors": 182, "record": 837}
GOALS = {
    "book": 700,
    "list_patient": 1300,
    "list_doctor": 1300,
    "doctors": 1300,
    "record": 900,
    "slots": 500,
}
OPERATIONS = {
    "login": "login (argon2id)",
    "book": "book an appointment",
    "list_patient": "my appointments, 50, patient",
    "list_doctor": "my appointments, 50, doctor",
    "slots": "free slots, 1 doctor, 1 month",
    "record": "read a record (+ audit write)",
    "doctors": "list of 20 doctors",
}
ACTIVE = ("pending", "confirmed")


def main() -> None:
    args = _arguments()
    RESULTS.mkdir(exist_ok=True)
    run: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "postgres": _server_version(),
            # Anything else running on the machine skews every figure: recorded, and warned of.
            "load_average_at_start": os.getloadavg(),
        },
        "settings": vars(args),
    }
    database = "healthcare_bench"
    if args.reuse and _exists(database):
        url, run["load"] = database_url(database), {"reused": True, "scale": args.scale}
        print(f"Reusing {database} as the last run left it", flush=True)
    else:
        url, run["load"] = prepare(database, args.scale)
        run["load"]["settled_seconds"] = settle(database)
    with Server(url, args.workers, args.threads, args.port) as server:
        run["server"] = server.describe()
        fixtures = Fixtures.pick(database, server, args)
        run["api"] = measure_api(server, fixtures, args)
        run["booking_check"] = check_bookings(database, fixtures)
    run["ceiling"] = measure_ceiling(database, fixtures, args)
    if args.scaling:
        run["scaling"] = measure_scaling(args)
    run["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    run["machine"]["load_average_at_end"] = os.getloadavg()
    print_report(run)
    stamp = run["started"].replace(":", "").replace("-", "")
    for path in (RESULTS / f"run-{stamp}.json", RESULTS / "latest.json"):
        path.write_text(json.dumps(run, indent=2, default=str) + "\n")
    print(f"\nResults: {RESULTS / f'run-{stamp}.json'} (and latest.json)")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 100 doctors, 20k patients, 200k appointments")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured wrk run")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (keep it low: 2 cores)")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers [the packaged default]")
    parser.add_argument("--threads", type=int, default=None, help="gunicorn threads per worker [packaged default]")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--ceiling-clients", type=int, default=4, help="raw-SQL client processes")
    parser.add_argument(
        "--scaling",
        default="",
        help="also measure list and slot latency at these appointment counts, e.g. 10000,1000000",
    )
    parser.add_argument("--only", default="", help="comma-separated operations to run (default all)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the clinic an earlier run loaded (faster; its bookings stay in it)",
    )
    return parser.parse_args()


# -- the database -----------------------------------------------------------------------------


def database_url(name: str, driver: str = "postgresql+psycopg2") -> str:
    base = ADMIN_URL.rsplit("/", 1)[0].split("://", 1)[1]
    return f"{driver}://{base}/{name}"


def connect(name: str) -> Any:
    return psycopg2.connect(database_url(name, "postgresql"))


def _server_version() -> str:
    with psycopg2.connect(ADMIN_URL) as connection:
        return str(connection.server_version)


def _exists(name: str) -> bool:
    with psycopg2.connect(ADMIN_URL) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        return cursor.fetchone() is not None


def prepare(name: str, scale: float) -> tuple[str, dict[str, Any]]:
    """A fresh database called ``name``, migrated, with the scaled demo clinic loaded through
    the application's bulk use case (the code behind ``healthcare seed-demo``)."""
    admin = psycopg2.connect(ADMIN_URL)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    url = database_url(name)
    container = create_container(_settings(url, statement_timeout_ms=0))
    upgrade_schema(container.engine())
    doctors = max(1, round(DOCTORS * scale))
    patients = max(10, round(PATIENTS * scale))
    appointments = max(100, round(APPOINTMENTS * scale))
    started = time.perf_counter()
    print(f"Loading {doctors} doctors, {patients} patients, ~{appointments} appointments ...", flush=True)
    counts = seed_demo(
        container.bulk_load_service(),
        doctors=doctors,
        patients=patients,
        weeks=weeks_for(appointments // doctors, occupancy=0.6),
        seed=42,
        appointments=appointments,
    )
    loaded = time.perf_counter() - started
    container.shutdown_resources()
    connection = connect(name)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    connection.close()
    print(f"Loaded in {loaded:.1f} s: {counts}", flush=True)
    return url, {"seconds": round(loaded, 1), "counts": counts, "scale": scale}


def _settings(url: str, **changes: Any) -> Settings:
    return Settings.from_env(
        {},
        env="production",
        database_url=url,
        jwt_secret_key=SECRET,
        instance_path=str(RESULTS / "instance"),
        **changes,
    )


# -- the server -------------------------------------------------------------------------------


class Server:
    """The production command, ``gunicorn -c python:healthcare.entrypoints.gunicorn_conf
    'healthcare.bootstrap:create_app()'``, on the bench database."""

    def __init__(self, url: str, workers: int | None, threads: int | None, port: int) -> None:
        self.url = url
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.env = {
            **os.environ,
            "HEALTHCARE_ENV": "production",
            "DATABASE_URL": url,
            "JWT_SECRET_KEY": SECRET,
            "HEALTHCARE_INSTANCE_PATH": str(RESULTS / "instance"),
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "LOG_LEVEL": "warning",
            # The bench signs in once and must not see its tokens expire mid-run.
            "ACCESS_TOKEN_MINUTES": "240",
        }
        if workers:
            self.env["WEB_CONCURRENCY"] = str(workers)
        if threads:
            self.env["GUNICORN_THREADS"] = str(threads)
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        command = [
            str(gunicorn),
            "-c",
            "python:healthcare.entrypoints.gunicorn_conf",
            "healthcare.bootstrap:create_app()",
        ]
        self.log = open(RESULTS / "server.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            command, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base}/readyz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"the server did not start; see {RESULTS / 'server.log'}")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        self.log.close()

    def describe(self) -> dict[str, Any]:
        from healthcare.entrypoints import gunicorn_conf

        return {
            "command": "gunicorn -c python:healthcare.entrypoints.gunicorn_conf "
            "'healthcare.bootstrap:create_app()'",
            "workers": int(self.env.get("WEB_CONCURRENCY", gunicorn_conf.workers)),
            "threads": int(self.env.get("GUNICORN_THREADS", gunicorn_conf.threads)),
            "worker_class": gunicorn_conf.worker_class,
        }

    def post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]


# -- what the requests are about --------------------------------------------------------------


@dataclass
class Fixtures:
    """Users, tokens and targets for every operation, picked from the loaded clinic."""

    emails: list[str]
    #: (user id, patient id, token) of frequent visitors: their lists fill a page of 50.
    patients: list[tuple[int, int, str]]
    #: (user id, doctor id, token)
    doctors: list[tuple[int, int, str]]
    #: (record id, token of its patient, patient id)
    records: list[tuple[int, str, int]]
    #: (doctor id, month start)
    slot_searches: list[tuple[int, datetime]]
    #: (token, patient id, doctor id, start, end, doctor minutes) for the API; more for SQL.
    bookings: list[tuple[str, int, int, datetime, datetime]] = field(default_factory=list)
    ceiling_bookings: list[tuple[str, int, int, datetime, datetime]] = field(default_factory=list)
    #: Files of 201 ids the wrk script wrote.
    booked_ids_prefix: Path = RESULTS / "booked-ids"

    @classmethod
    def pick(cls, database: str, server: Server, args: argparse.Namespace) -> Fixtures:
        rng = random.Random(7)
        with connect(database) as connection, connection.cursor() as cursor:
            cursor.execute(
                "SELECT u.email, p.user_id, p.id FROM patients p JOIN users u ON u.id = p.user_id"
                " ORDER BY p.id"
            )
            everyone = cursor.fetchall()
            cursor.execute(
                "SELECT patient_id FROM appointments GROUP BY patient_id HAVING count(*) >= 50"
                " ORDER BY patient_id LIMIT 100"
            )
            frequent = {row[0] for row in cursor.fetchall()}
            cursor.execute("SELECT user_id, id FROM doctors ORDER BY id LIMIT 100")
            doctors = cursor.fetchall()
        emails = [email for email, _, _ in rng.sample(everyone, min(200, len(everyone)))]
        heavy = [(u, p) for _, u, p in everyone if p in frequent] or [(u, p) for _, u, p in everyone[:50]]
        # Sign-in as the clinic's users do: these calls are not measured.
        print(f"Signing in {len(heavy)} patients and {len(doctors)} doctors ...", flush=True)
        by_email = {u: e for e, u, _ in everyone}
        tokens = _sign_in(server, [by_email[u] for u, _ in heavy])
        patients = [(u, p, t) for (u, p), t in zip(heavy, tokens, strict=True)]
        with connect(database) as connection, connection.cursor() as cursor:
            cursor.execute(
                "SELECT u.email FROM doctors d JOIN users u ON u.id = d.user_id ORDER BY d.id LIMIT 100"
            )
            doctor_tokens = _sign_in(server, [row[0] for row in cursor.fetchall()])
            cursor.execute(
                "SELECT id, patient_id FROM medical_records WHERE patient_id = ANY(%s)",
                ([p for _, p, _ in patients],),
            )
            token_of = {p: t for _, p, t in patients}
            records = [(r, token_of[p], p) for r, p in cursor.fetchall()]
        now = datetime.now(UTC)
        tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        searches = [(d, tomorrow + timedelta(days=rng.randrange(14))) for _, d in doctors]
        fixtures = cls(
            emails=emails,
            patients=patients,
            doctors=[(u, d, t) for (u, d), t in zip(doctors, doctor_tokens, strict=True)],
            records=records,
            slot_searches=searches,
        )
        fixtures._plan_bookings(database, server, args)
        return fixtures

    def _plan_bookings(self, database: str, server: Server, args: argparse.Namespace) -> None:
        """Free slots from tomorrow on, each for a bench patient who is free then: enough for
        every booking request of the run, so no two requests ask for the same slot."""
        wanted = {"api": 2000 * (args.duration + 3), "sql": 2500 * args.duration}
        start = datetime.now(UTC) + timedelta(days=1)
        with connect(database) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT id, appointment_minutes FROM doctors")
            minutes = dict(cursor.fetchall())
            cursor.execute(
                "SELECT doctor_id, start_time, end_time FROM availabilities"
                " WHERE start_time >= %s AND start_time < %s",
                (start, start + timedelta(days=90)),
            )
            windows = cursor.fetchall()
            taken: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
            busy: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
            cursor.execute(
                "SELECT doctor_id, patient_id, start_at, end_at FROM appointments"
                " WHERE status IN %s AND end_at > %s",
                (ACTIVE, start),
            )
            for doctor, patient, s, e in cursor.fetchall():
                taken[doctor].append((s, e))
                busy[patient].append((s, e))
            # Patients who book: a slot must avoid what they hold already and the bench's own
            # earlier bookings for them.
            cursor.execute(
                "SELECT u.email, p.id FROM patients p JOIN users u ON u.id = p.user_id"
                " ORDER BY p.id DESC LIMIT 600"
            )
            bookers = cursor.fetchall()
        for held in taken.values():
            held.sort()
        starts = {doctor: [s for s, _ in held] for doctor, held in taken.items()}
        slots = []
        for doctor, w_start, w_end in windows:
            length = timedelta(minutes=minutes[doctor])
            held, held_starts = taken[doctor], starts.get(doctor, [])
            at = w_start
            while at + length <= w_end:
                end = at + length
                # A doctor's active appointments do not overlap one another, so only the last
                # one starting before this slot ends can overlap it.
                before = bisect.bisect_left(held_starts, end) - 1
                if before < 0 or held[before][1] <= at:
                    slots.append((at, end, doctor))
                at = end
        slots.sort()
        print(f"Signing in {len(bookers)} patients who book ({len(slots)} free slots) ...", flush=True)
        tokens = _sign_in(server, [email for email, _ in bookers])
        free_from = [start] * len(bookers)
        plans: list[tuple[str, int, int, datetime, datetime]] = []
        turn = 0
        for at, end, doctor in slots:
            for _ in range(len(bookers)):
                turn = (turn + 1) % len(bookers)
                patient = bookers[turn][1]
                if free_from[turn] <= at and not any(s < end and at < e for s, e in busy[patient]):
                    free_from[turn] = end
                    plans.append((tokens[turn], patient, doctor, at, end))
                    break
            if len(plans) >= wanted["api"] + wanted["sql"]:
                break
        # Interleave, so API and SQL bookings both spread over every doctor.
        self.bookings = plans[0::2][: wanted["api"]]
        self.ceiling_bookings = plans[1::2]


def _sign_in(server: Server, emails: list[str]) -> list[str]:
    def one(email: str) -> str:
        tokens = server.post_json("/api/auth/jwt/token/", {"email": email, "password": DEMO_PASSWORD})
        return str(tokens["access"])

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, emails))


# -- the API, driven by wrk -------------------------------------------------------------------


def request_lines(op: str, fixtures: Fixtures) -> list[str]:
    """The requests of ``op``: METHOD, PATH, TOKEN, BODY separated by tabs."""
    rng = random.Random(op)
    lines: list[tuple[str, str, str, str]] = []
    if op == "login":
        for email in fixtures.emails:
            lines.append(("POST", "/api/auth/login/", "", json.dumps({"email": email, "password": DEMO_PASSWORD})))
    elif op == "book":
        for token, _, doctor, start, _ in fixtures.bookings:
            body = {"doctor": doctor, "datetime": _iso(start), "reason": "Benchmark visit"}
            lines.append(("POST", "/api/appointments/", token, json.dumps(body)))
    elif op == "list_patient":
        lines = [("GET", "/api/appointments/?page_size=50", t, "") for _, _, t in fixtures.patients]
    elif op == "list_doctor":
        lines = [("GET", "/api/appointments/?page_size=50", t, "") for _, _, t in fixtures.doctors]
    elif op == "slots":
        tokens = [t for _, _, t in fixtures.patients]
        for doctor, month in fixtures.slot_searches:
            path = f"/api/doctors/{doctor}/slots/?start={_iso(month)}&end={_iso(month + timedelta(days=30))}"
            lines.append(("GET", path, rng.choice(tokens), ""))
    elif op == "record":
        lines = [("GET", f"/api/medical-records/{r}/", t, "") for r, t, _ in fixtures.records]
    elif op == "doctors":
        lines = [("GET", "/api/doctors/?page_size=20", t, "") for _, _, t in fixtures.patients]
    if op != "book":
        rng.shuffle(lines)
    return ["\t".join(line) for line in lines]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def wrk(server: Server, op: str, lines: list[str], args: argparse.Namespace, *, seconds: int,
        delay_ms: int = 0, ids: Path | None = None) -> dict[str, Any]:
    data = RESULTS / f"requests-{op}.tsv"
    data.write_text("\n".join(lines) + "\n")
    env = {**os.environ, "BENCH_DATA": str(data), "BENCH_THREADS": str(args.wrk_threads)}
    if delay_ms:
        env["BENCH_DELAY_MS"] = str(delay_ms)
    if ids is not None:
        env["BENCH_IDS"] = str(ids)
    command = [
        shutil.which("wrk") or "wrk",
        f"-t{args.wrk_threads}",
        f"-c{args.connections}",
        f"-d{seconds}s",
        "--timeout", "10s",
        "-s", str(LUA),
        server.base,
    ]
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    line = next(l for l in output.splitlines() if l.startswith("BENCH_JSON "))
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    statuses = {int(k): v for k, v in raw["statuses"].items()}
    ok = sum(v for k, v in statuses.items() if 200 <= k < 300)
    conflicts = statuses.get(409, 0)
    seconds_run = raw["duration_us"] / 1e6
    return {
        "rps": round(raw["requests"] / seconds_run, 1),
        "ok_rps": round(ok / seconds_run, 1),
        "p50_ms": raw["p50_us"] / 1000,
        "p95_ms": raw["p95_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "mean_ms": round(raw["mean_us"] / 1000, 2),
        "requests": raw["requests"],
        "conflicts": conflicts,
        "errors": raw["socket_errors"] + sum(v for k, v in statuses.items() if k >= 300 and k != 409),
        "statuses": statuses,
        "connections": args.connections,
        "delay_ms": delay_ms,
    }


def measure_api(server: Server, fixtures: Fixtures, args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    ops = [o for o in OPERATIONS if not args.only or o in args.only.split(",")]
    for old in RESULTS.glob("booked-ids.*"):
        old.unlink()
    for op in ops:
        lines = request_lines(op, fixtures)
        if not lines:
            print(f"{op}: nothing to request, skipped", flush=True)
            continue
        ids = fixtures.booked_ids_prefix if op == "book" else None
        if op == "book":
            warm, peak_lines, paced_lines = _split(lines, [2, args.duration, args.duration])
        else:
            warm = peak_lines = paced_lines = lines
        wrk(server, op, warm, args, seconds=2, ids=ids)  # warm-up, not reported
        peak = wrk(server, op, peak_lines, args, seconds=args.duration, ids=ids)
        result = {"peak": peak}
        print(f"{op}: {peak['rps']} req/s, p99 {peak['p99_ms']} ms, statuses {peak['statuses']}", flush=True)
        if op != "login":
            # The same connections, each pausing between requests, aimed at 70% of the peak.
            interval_ms = args.connections * 1000 / (0.7 * max(peak["rps"], 1))
            delay = max(1, round(interval_ms - peak["p50_ms"] / 2))
            paced = wrk(server, op, paced_lines, args, seconds=args.duration, delay_ms=delay, ids=ids)
            result["at_70"] = paced
            print(f"   at ~70%: {paced['rps']} req/s, p99 {paced['p99_ms']} ms", flush=True)
        results[op] = result
    return results


def _split(lines: list[str], weights: list[int]) -> list[list[str]]:
    total = sum(weights)
    parts, at = [], 0
    for weight in weights:
        size = len(lines) * weight // total
        parts.append(lines[at : at + size])
        at += size
    return parts


def check_bookings(database: str, fixtures: Fixtures) -> dict[str, Any]:
    """After the booking run: no doctor (or patient) holds two overlapping active appointments,
    and every 201 the load generator received is a stored appointment."""
    ids: list[int] = []
    for path in RESULTS.glob(fixtures.booked_ids_prefix.name + ".*"):
        ids.extend(int(line) for line in path.read_text().split())
    overlap = """
        SELECT count(*) FROM (
            SELECT start_at, max(end_at) OVER (
                PARTITION BY {owner} ORDER BY start_at, id
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier_end
            FROM appointments WHERE status IN ('pending', 'confirmed')) AS ordered
        WHERE start_at < earlier_end"""
    with connect(database) as connection, connection.cursor() as cursor:
        cursor.execute(overlap.format(owner="doctor_id"))
        doctor_overlaps = cursor.fetchone()[0]
        cursor.execute(overlap.format(owner="patient_id"))
        patient_overlaps = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM appointments WHERE id = ANY(%s)", (ids,))
        stored = cursor.fetchone()[0]
    check = {
        "created_201": len(ids),
        "distinct_ids": len(set(ids)),
        "found_in_database": stored,
        "doctor_overlaps": doctor_overlaps,
        "patient_overlaps": patient_overlaps,
    }
    check["ok"] = doctor_overlaps == 0 and patient_overlaps == 0 and stored == len(set(ids)) == len(ids)
    print(f"Booking check: {check}", flush=True)
    return check


# -- the database's ceiling: the same statements through psycopg2, no web stack --------------

AUTH = (
    ("SELECT EXISTS (SELECT * FROM revoked_tokens WHERE key IN (%s, %s))", lambda u: (f"jti:{u}", f"fam:{u}")),
    (
        "SELECT users.id, users.role, doctors.id, patients.id FROM users"
        " LEFT OUTER JOIN doctors ON doctors.user_id = users.id"
        " LEFT OUTER JOIN patients ON patients.user_id = users.id"
        " WHERE users.id = %s AND users.is_active IS true",
        lambda u: (u,),
    ),
)
APPOINTMENT_COLUMNS = (
    "patient_id, doctor_id, start_at, end_at, status, reason, cancellation_reason,"
    " created_at, updated_at, id"
)


def _authenticated(cursor: Any, user_id: int) -> None:
    for statement, params in AUTH:
        cursor.execute(statement, params(user_id))
        cursor.fetchall()


def _sql_login(cursor: Any, item: Any) -> None:
    cursor.execute("SELECT * FROM users WHERE lower(users.email) = %s LIMIT 1", (item,))
    cursor.fetchall()


def _sql_calendar(cursor: Any, doctor: int, start: Any, end: Any, patient: int | None = None) -> None:
    """What a booking and a slot search both read: the doctor, the doctor's windows and active
    appointments around [start, end), and for a booking the patient and their appointments."""
    cursor.execute("SELECT * FROM doctors WHERE id = %s", (doctor,))
    cursor.fetchall()
    if patient is not None:
        cursor.execute("SELECT * FROM patients WHERE id = %s", (patient,))
        cursor.fetchall()
    cursor.execute(
        "SELECT * FROM availabilities WHERE doctor_id = %s AND start_time < %s AND end_time > %s"
        " ORDER BY start_time, id",
        (doctor, end, start),
    )
    cursor.fetchall()
    owners = [("doctor_id", doctor)] + ([("patient_id", patient)] if patient is not None else [])
    for owner, value in owners:
        cursor.execute(
            f"SELECT {APPOINTMENT_COLUMNS} FROM appointments WHERE status IN ('confirmed', 'pending')"
            f" AND start_at < %s AND end_at > %s AND {owner} = %s ORDER BY start_at, id",
            (end, start, value),
        )
        cursor.fetchall()


def _sql_book(cursor: Any, item: Any) -> None:
    user_id, patient, doctor, start, end = item
    _authenticated(cursor, user_id)
    _sql_calendar(cursor, doctor, start, end, patient)
    cursor.execute("SAVEPOINT booking")
    cursor.execute(
        "INSERT INTO appointments (patient_id, doctor_id, start_at, end_at, status, reason,"
        " cancellation_reason, created_at, updated_at) VALUES (%s, %s, %s, %s, 'pending',"
        " 'Benchmark visit', NULL, now(), now()) RETURNING id",
        (patient, doctor, start, end),
    )
    cursor.fetchall()
    cursor.execute("RELEASE SAVEPOINT booking")


def _sql_list(owner: str) -> Callable[[Any, Any], None]:
    def run(cursor: Any, item: Any) -> None:
        user_id, owner_id = item
        _authenticated(cursor, user_id)
        cursor.execute(f"SELECT count(*) FROM appointments WHERE {owner} = %s", (owner_id,))
        cursor.fetchall()
        cursor.execute(
            f"SELECT {APPOINTMENT_COLUMNS} FROM appointments WHERE {owner} = %s"
            " ORDER BY start_at, id LIMIT 50 OFFSET 0",
            (owner_id,),
        )
        cursor.fetchall()

    return run


def _sql_slots(cursor: Any, item: Any) -> None:
    user_id, doctor, start, end = item
    _authenticated(cursor, user_id)
    _sql_calendar(cursor, doctor, start, end)


def _sql_record(cursor: Any, item: Any) -> None:
    user_id, record = item
    _authenticated(cursor, user_id)
    cursor.execute("SELECT * FROM medical_records WHERE id = %s", (record,))
    patient = cursor.fetchone()[1]
    cursor.execute(
        "INSERT INTO audit_events (at, actor_id, action, resource, resource_id, patient_id,"
        " outcome) VALUES (now(), %s, 'read', 'medical_record', %s, %s, 'allowed')",
        (user_id, record, patient),
    )


def _sql_doctors(cursor: Any, item: Any) -> None:
    _authenticated(cursor, item)
    cursor.execute("SELECT count(*) FROM doctors")
    cursor.fetchall()
    cursor.execute("SELECT * FROM doctors ORDER BY id LIMIT 20 OFFSET 0")
    cursor.fetchall()


SQL_OPERATIONS: dict[str, Callable[[Any, Any], None]] = {
    "login": _sql_login,
    "book": _sql_book,
    "list_patient": _sql_list("patient_id"),
    "list_doctor": _sql_list("doctor_id"),
    "slots": _sql_slots,
    "record": _sql_record,
    "doctors": _sql_doctors,
}


def _sql_items(op: str, fixtures: Fixtures) -> list[Any]:
    patient_users = [(u, p) for u, p, _ in fixtures.patients]
    user_of = dict((p, u) for u, p in patient_users)
    if op == "login":
        return fixtures.emails
    if op == "book":
        users = [u for u, _ in patient_users]
        return [
            (users[i % len(users)], patient, doctor, start, end)
            for i, (_, patient, doctor, start, end) in enumerate(fixtures.ceiling_bookings)
        ]
    if op == "list_patient":
        return patient_users
    if op == "list_doctor":
        return [(u, d) for u, d, _ in fixtures.doctors]
    if op == "slots":
        return [
            (patient_users[i % len(patient_users)][0], d, m, m + timedelta(days=30))
            for i, (d, m) in enumerate(fixtures.slot_searches)
        ]
    if op == "record":
        return [(user_of[p], r) for r, _, p in fixtures.records]
    return [u for u, _ in patient_users]


def _sql_client(database: str, op: str, items: list[Any], seconds: float, queue: Any) -> None:
    connection = connect(database)
    run = SQL_OPERATIONS[op]
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds
    at = 0
    with connection.cursor() as cursor:
        while time.perf_counter() < deadline and (op != "book" or at < len(items)):
            item = items[at % len(items)]
            at += 1
            began = time.perf_counter()
            try:
                run(cursor, item)
                connection.commit()
            except psycopg2.Error:
                connection.rollback()
                failures += 1
            latencies.append(time.perf_counter() - began)
    connection.close()
    queue.put((latencies, failures))


def measure_ceiling(database: str, fixtures: Fixtures, args: argparse.Namespace) -> dict[str, Any]:
    results = {}
    clients = args.ceiling_clients
    context = multiprocessing.get_context("fork")
    for op in OPERATIONS:
        if args.only and op not in args.only.split(","):
            continue
        items = _sql_items(op, fixtures)
        if not items:
            continue
        queue = context.Queue()
        shares = [items[i::clients] for i in range(clients)] if op == "book" else [items] * clients
        began = time.perf_counter()
        workers = [
            context.Process(target=_sql_client, args=(database, op, share, args.duration, queue))
            for share in shares
        ]
        for worker in workers:
            worker.start()
        outcomes = [queue.get() for _ in workers]
        for worker in workers:
            worker.join()
        elapsed = min(time.perf_counter() - began, args.duration) or 1
        latencies = sorted(x for outcome, _ in outcomes for x in outcome)
        failures = sum(f for _, f in outcomes)
        results[op] = {
            "rps": round(len(latencies) / elapsed, 1),
            "p50_ms": round(_percentile(latencies, 50) * 1000, 2),
            "p95_ms": round(_percentile(latencies, 95) * 1000, 2),
            "p99_ms": round(_percentile(latencies, 99) * 1000, 2),
            "requests": len(latencies),
            "failures": failures,
            "clients": clients,
        }
        print(f"ceiling {op}: {results[op]}", flush=True)
    return results


def _percentile(values: list[float], percent: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(len(values) * percent / 100))]


# -- scaling: the same list and slot requests on 10k and on 1M appointments ------------------


def measure_scaling(args: argparse.Namespace) -> dict[str, Any]:
    points: dict[str, Any] = {}
    for size in [int(float(x)) for x in args.scaling.split(",") if x]:
        name = f"healthcare_bench_{size}"
        url, load = prepare(name, size / APPOINTMENTS)
        load["settled_seconds"] = settle(name)
        with Server(url, args.workers, args.threads, args.port) as server:
            fixtures = Fixtures.pick(name, server, argparse.Namespace(**{**vars(args), "duration": 1}))
            measured = {}
            for op in ("list_patient", "list_doctor", "slots"):
                lines = request_lines(op, fixtures)
                wrk(server, op, lines, args, seconds=2)
                measured[op] = wrk(server, op, lines, args, seconds=args.duration)
                print(f"{size:>9} appointments, {op}: {measured[op]['rps']} req/s, p50 {measured[op]['p50_ms']} ms", flush=True)
        points[str(size)] = {"load": load, "api": measured}
        _drop(name)
    sizes = sorted(points, key=int)
    if len(sizes) >= 2:
        small, large = points[sizes[0]]["api"], points[sizes[-1]]["api"]
        points["ratio_largest_to_smallest_p50"] = {
            op: round(large[op]["p50_ms"] / max(small[op]["p50_ms"], 1e-6), 2) for op in small
        }
    return points


def settle(name: str, limit_s: float = 180) -> float:
    """After a load: a checkpoint, then wait (at most ``limit_s``) for the machine's load
    average to fall below 1, so that the writes' aftermath (autovacuum, the checkpointer) does
    not share the CPUs with the measurements. Returns the seconds waited."""
    began = time.monotonic()
    with connect(name) as connection:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    while os.getloadavg()[0] >= 1.0 and time.monotonic() - began < limit_s:
        time.sleep(5)
    return round(time.monotonic() - began, 1)


def _drop(name: str) -> None:
    admin = psycopg2.connect(ADMIN_URL)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


# -- the report -------------------------------------------------------------------------------


def print_report(run: dict[str, Any]) -> None:
    api, ceiling = run.get("api", {}), run.get("ceiling", {})
    load = run["load"]
    print()
    if load.get("reused"):
        print("Clinic: reused from an earlier run (--reuse)")
    else:
        print(f"Clinic: {load['counts']} (loaded in {load['seconds']} s)")
    print(f"Server: {run['server']['workers']} gunicorn workers x {run['server']['threads']} threads "
          f"({run['server']['worker_class']}); machine: {run['machine']['cpus']} CPUs, PostgreSQL "
          f"{run['machine']['postgres']} on the same machine")
    header = (
        f"{'operation':<32} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6} {'err':>4} {'409':>5}"
        f" | {'@70% r/s':>8} {'p99':>6} | {'SQL r/s':>7} {'p50':>5} {'API/SQL':>7} | {'goal':>5}"
    )
    busy = run["machine"].get("load_average_at_start", (0,))[0]
    if busy > 0.5:
        print(f"WARNING: load average {busy:.1f} at start: other work shared the CPUs; "
              "every figure below is low by that much.")
    print(header)
    print("-" * len(header))
    for op, label in OPERATIONS.items():
        if op not in api:
            continue
        peak, paced = api[op]["peak"], api[op].get("at_70")
        sql = ceiling.get(op, {})
        goal = GOALS.get(op)
        rps = peak["ok_rps"] if op == "book" else peak["rps"]
        row = (
            f"{label:<32} {rps:>7.0f} {peak['p50_ms']:>6.1f} {peak['p95_ms']:>6.1f} {peak['p99_ms']:>6.1f}"
            f" {peak['errors']:>4} {peak['conflicts']:>5}"
        )
        row += f" | {paced['rps']:>8.0f} {paced['p99_ms']:>6.1f}" if paced else f" | {'-':>8} {'-':>6}"
        if sql:
            row += f" | {sql['rps']:>7.0f} {sql['p50_ms']:>5.1f} {rps / max(sql['rps'], 1e-6):>7.2f}"
        else:
            row += f" | {'-':>7} {'-':>5} {'-':>7}"
        row += f" | {goal or '-':>5}"
        print(row)
    check = run.get("booking_check")
    if check:
        print(f"Booking check: {check['created_201']} created (201), {check['found_in_database']} "
              f"found in the database, overlaps: doctors {check['doctor_overlaps']}, patients "
              f"{check['patient_overlaps']} -> {'OK' if check['ok'] else 'FAILED'}")
    scaling = run.get("scaling")
    if scaling:
        for size, point in scaling.items():
            if size.isdigit():
                cells = ", ".join(
                    f"{op} p50 {m['p50_ms']:.1f} ms / {m['rps']:.0f} req/s" for op, m in point["api"].items()
                )
                print(f"Scaling {int(size):>9,} appointments (loaded in {point['load']['seconds']} s): {cells}")
        if "ratio_largest_to_smallest_p50" in scaling:
            print(f"Scaling p50 ratio largest/smallest: {scaling['ratio_largest_to_smallest_p50']}")


if __name__ == "__main__":
    main()
