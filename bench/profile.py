"""Where a request's time goes: each benchmark operation, in-process (Flask's test client, no
socket, no server), on the database ``bench.run`` left behind, under cProfile.

    .venv/bin/python -m bench.profile [--requests 300] [--only slots,record] [--top 25] [--plain]

It prints, per operation, the CPU milliseconds per request (process time, which other load on
the machine barely changes), the SQL statements and round trips per request, and the functions
with the most cumulative and own time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, text

from bench.database import RESULTS, SECRET, Database
from healthcare.bootstrap import create_app
from healthcare.config import Settings
from healthcare.entrypoints.api.security import issue_tokens


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="healthcare_bench")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--only", default="")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--callers", default="", help="also show who calls functions matching this")
    parser.add_argument("--plain", action="store_true", help="no cProfile: only the cost per request")
    args = parser.parse_args()

    settings = Settings.from_env(
        {},
        env="production",
        database_url=Database(args.database).url,
        jwt_secret_key=SECRET,
        instance_path=str(RESULTS / "instance"),
    )
    app = create_app(settings)
    engine = app.container.engine()  # type: ignore[attr-defined]
    calls = _operations(app, engine)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    client = app.test_client()
    for name, (method, expected, make) in calls.items():
        if args.only and name not in args.only.split(","):
            continue
        for _ in range(20):  # warm: pool, caches, compiled SQL
            url, token, body = make()
            client.open(url, method=method, headers=_auth(token), json=body)
        statements.clear()
        profile = cProfile.Profile()
        cpu, wall = time.process_time(), time.perf_counter()
        if not args.plain:
            profile.enable()
        for _ in range(args.requests):
            url, token, body = make()
            response = client.open(url, method=method, headers=_auth(token), json=body)
            assert response.status_code == expected, (name, response.status_code, response.json)
        profile.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(f"\n=== {name}: {cpu / args.requests * 1000:.2f} ms CPU, "
              f"{wall / args.requests * 1000:.2f} ms wall per request"
              f"{'' if args.plain else ' (profiled)'}, "
              f"{len(statements) / args.requests:.1f} SQL statements per request")
        if args.plain:
            continue
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
        if args.callers:
            stats.print_callers(args.callers)
        print(out.getvalue())


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _operations(app: Any, engine: Any) -> dict[str, Any]:
    with engine.connect() as connection:
        patient_user, patient = connection.execute(text(
            "SELECT p.user_id, p.id FROM patients p JOIN appointments a ON a.patient_id = p.id"
            " GROUP BY p.id ORDER BY count(*) DESC LIMIT 1")).first()
        doctor_user, doctor = connection.execute(text(
            "SELECT d.user_id, d.id FROM doctors d ORDER BY d.id LIMIT 1")).first()
        record = connection.execute(text(
            "SELECT id FROM medical_records WHERE patient_id = :p LIMIT 1"), {"p": patient}).scalar()
        # Each booking by a different patient, the least busy first, at a time they are free.
        bookers = connection.execute(text(
            "SELECT p.user_id, p.id FROM patients p LEFT JOIN appointments a ON a.patient_id = p.id"
            " AND a.start_at > now() AND a.status IN ('pending', 'confirmed')"
            " GROUP BY p.id ORDER BY count(a.id), p.id LIMIT :n"), {"n": SLOTS_WANTED}).all()
        busy: dict[int, list[tuple[datetime, datetime]]] = {}
        for patient_id, start, end in connection.execute(text(
            "SELECT patient_id, start_at, end_at FROM appointments WHERE patient_id = ANY(:p)"
            " AND start_at > now() AND status IN ('pending', 'confirmed')"),
            {"p": [booker for _, booker in bookers]}):
            busy.setdefault(patient_id, []).append((start, end))
        # Bookings go to the doctors with the fewest upcoming ones (earlier runs fill
        # calendars), inside the default booking horizon, until there are enough free slots.
        free_slots: list[tuple[int, datetime, datetime]] = []
        for (booked_doctor,) in connection.execute(text(
            "SELECT d.id FROM doctors d LEFT JOIN appointments a ON a.doctor_id = d.id"
            " AND a.start_at > now() AND a.status IN ('pending', 'confirmed')"
            " GROUP BY d.id ORDER BY count(a.id), d.id")).all():
            free_slots.extend((booked_doctor, *slot) for slot in _free_slots(connection, booked_doctor))
            if len(free_slots) >= SLOTS_WANTED:
                break
    planned: list[tuple[int, int, datetime]] = []  # (booker's user, doctor, start)
    slots = iter(free_slots)
    for user, booker in bookers:
        for doctor_id, start, end in slots:
            if not any(start < until and since < end for since, until in busy.get(booker, [])):
                planned.append((user, doctor_id, start))
                break
    with app.test_request_context():
        patient_token = issue_tokens(patient_user, "patient")["access"]
        doctor_token = issue_tokens(doctor_user, "doctor")["access"]
        bookings = iter([
            (issue_tokens(user, "patient")["access"], doctor_id, start)
            for user, doctor_id, start in planned
        ])
    month = (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    span = f"start={month:%Y-%m-%dT%H:%M:%SZ}&end={month + timedelta(days=30):%Y-%m-%dT%H:%M:%SZ}"

    def booking() -> tuple[str, str, dict[str, Any]]:
        token, doctor_id, start = next(bookings)
        body = {"doctor": doctor_id, "datetime": f"{start:%Y-%m-%dT%H:%M:%SZ}", "reason": "Profile"}
        return "/api/appointments/", token, body

    return {
        "doctors": ("GET", 200, lambda: ("/api/doctors/?page_size=20", patient_token, None)),
        "list_patient": ("GET", 200, lambda: ("/api/appointments/?page_size=50", patient_token, None)),
        "list_doctor": ("GET", 200, lambda: ("/api/appointments/?page_size=50", doctor_token, None)),
        "slots": ("GET", 200, lambda: (f"/api/doctors/{doctor}/slots/?{span}", patient_token, None)),
        "record": ("GET", 200, lambda: (f"/api/medical-records/{record}/", patient_token, None)),
        "book": ("POST", 201, booking),
    }


#: Bookings prepared: the default run (20 warm-up requests and 300 measured) several times.
SLOTS_WANTED = 2000


def _free_slots(connection: Any, doctor: int) -> list[tuple[datetime, datetime]]:
    """The doctor's free slots on the booking grid of their availability windows."""
    step = timedelta(minutes=connection.execute(text(
        "SELECT appointment_minutes FROM doctors WHERE id = :d"), {"d": doctor}).scalar())
    windows = connection.execute(text(
        "SELECT start_time, end_time FROM availabilities WHERE doctor_id = :d"
        " AND start_time > now() + interval '1 day' AND end_time < now() + interval '80 days'"
        " ORDER BY start_time"), {"d": doctor}).all()
    taken = {row[0] for row in connection.execute(text(
        "SELECT start_at FROM appointments WHERE doctor_id = :d AND status IN ('pending', 'confirmed')"),
        {"d": doctor})}
    return [
        (start + i * step, start + (i + 1) * step)
        for start, end in windows
        for i in range(int((end - start) / step))
        if start + i * step not in taken
    ]


if __name__ == "__main__":
    main()
