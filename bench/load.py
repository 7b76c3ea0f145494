"""The API under load: ``wrk`` with one Lua script (``lua/requests.lua``) replaying prepared
requests per operation, then a check of every booking the load was told about."""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.database import BENCH, RESULTS, Database
from bench.fixtures import Fixtures
from bench.server import Server
from healthcare.entrypoints.demo import DEMO_PASSWORD

LUA = BENCH / "lua" / "requests.lua"
#: Files of 201 ids the wrk script writes.
BOOKED_IDS = RESULTS / "booked-ids"
OPERATIONS = {
    "login": "login (argon2id)",
    "book": "book an appointment",
    "list_patient": "my appointments, 50, patient",
    "list_doctor": "my appointments, 50, doctor",
    "slots": "free slots, 1 doctor, 1 month",
    "record": "read a record (+ audit write)",
    "records": "my medical records (+ audit)",
    "doctors": "list of 20 doctors",
}


def request_lines(op: str, fixtures: Fixtures) -> list[str]:
    """The requests of ``op`` for wrk: METHOD, PATH, TOKEN, BODY separated by tabs."""
    return ["\t".join(line) for line in requests(op, fixtures, fixtures.bookings)]


def requests(op: str, fixtures: Fixtures, bookings: list[Any]) -> list[tuple[str, str, str, str]]:
    """The requests of ``op``: (method, path, token, JSON body or ""); ``bookings`` for "book"."""
    rng = random.Random(op)
    lines: list[tuple[str, str, str, str]] = []
    if op == "login":
        for email in fixtures.emails:
            body = json.dumps({"email": email, "password": DEMO_PASSWORD})
            lines.append(("POST", "/api/auth/login/", "", body))
    elif op == "book":
        for token, _, doctor, start, _ in bookings:
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
    elif op == "records":
        tokens = sorted({t for _, t, _ in fixtures.records})
        lines = [("GET", "/api/medical-records/", t, "") for t in tokens]
    elif op == "doctors":
        lines = [("GET", "/api/doctors/?page_size=20", t, "") for _, _, t in fixtures.patients]
    if op != "book":
        rng.shuffle(lines)
    return lines


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
    line = next(row for row in output.splitlines() if row.startswith("BENCH_JSON "))
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
        "max_ms": raw["max_us"] / 1000,
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
        ids = BOOKED_IDS if op == "book" else None
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


def check_bookings(database: Database) -> dict[str, Any]:
    """After the booking run: no doctor (or patient) holds two overlapping active appointments,
    and every 201 the load generator received is a stored appointment."""
    ids: list[int] = []
    for path in RESULTS.glob(BOOKED_IDS.name + ".*"):
        ids.extend(int(line) for line in path.read_text().split())
    overlap = """
        SELECT count(*) FROM (
            SELECT start_at, max(end_at) OVER (
                PARTITION BY {owner} ORDER BY start_at, id
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier_end
            FROM appointments WHERE status IN ('pending', 'confirmed')) AS ordered
        WHERE start_at < earlier_end"""
    engine = database.engine()
    try:
        with engine.connect() as connection:
            doctor_overlaps = connection.execute(text(overlap.format(owner="doctor_id"))).scalar()
            patient_overlaps = connection.execute(text(overlap.format(owner="patient_id"))).scalar()
            stored = set(connection.execute(
                text("SELECT id FROM appointments WHERE id >= :least"), {"least": min(ids, default=0)}
            ).scalars()) & set(ids)
    finally:
        engine.dispose()
    check = {
        "created_201": len(ids),
        "distinct_ids": len(set(ids)),
        "found_in_database": len(stored),
        "doctor_overlaps": doctor_overlaps,
        "patient_overlaps": patient_overlaps,
    }
    check["ok"] = doctor_overlaps == 0 and patient_overlaps == 0 and len(stored) == len(set(ids)) == len(ids)
    print(f"Booking check: {check}", flush=True)
    return check
