"""FHIR next to REST: the same reads through both interfaces, in one process, in the same run.

    .venv/bin/python -m bench.fhir [--scale 0.1] [--reuse] [--requests 300]

A demo clinic is loaded into its own PostgreSQL database (``healthcare_bench_fhir``, with
``bench.run.prepare``; ``--reuse`` keeps the one an earlier run loaded). Then each pair of
operations runs in Flask's test client (no socket, no server): one REST request, then the FHIR
one, alternately, so load elsewhere on the machine weighs on both alike. It prints requests per
second (wall) and CPU milliseconds per request. The pairs, as a client would call them:

- a month of one doctor's free slots: ``GET /api/doctors/<id>/slots/?start&end`` (every slot)
  and ``GET /fhir/R4/Slot?schedule=Schedule/<id>&start=ge&start=lt&_count=100`` (a Bundle page);
- a page of 50 appointments, as the patient with the most and as a doctor:
  ``GET /api/appointments/?page_size=50`` and ``GET /fhir/R4/Appointment?_count=50``.

``OPERATIONS`` holds them as (method, path) pairs, for ``bench/run.py`` to fold in.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from bench.run import RESULTS, SECRET, _exists, database_url, prepare
from healthcare.bootstrap import create_app
from healthcare.config import Settings
from healthcare.entrypoints.api.security import issue_tokens

DATABASE = "healthcare_bench_fhir"


def operations(doctor: int, start: datetime, end: datetime) -> dict[str, tuple[str, str]]:
    """Each operation's REST and FHIR request paths."""
    rest_span = f"start={start:%Y-%m-%dT%H:%M:%SZ}&end={end:%Y-%m-%dT%H:%M:%SZ}"
    fhir_span = f"start=ge{start:%Y-%m-%dT%H:%M:%SZ}&start=lt{end:%Y-%m-%dT%H:%M:%SZ}"
    return {
        "slots": (
            f"/api/doctors/{doctor}/slots/?{rest_span}",
            f"/fhir/R4/Slot?schedule=Schedule/{doctor}&{fhir_span}&_count=100",
        ),
        "appointments": ("/api/appointments/?page_size=50", "/fhir/R4/Appointment?_count=50"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    if not (args.reuse and _exists(DATABASE)):
        prepare(DATABASE, args.scale)
    settings = Settings.from_env(
        {},
        env="production",
        database_url=database_url(DATABASE),
        jwt_secret_key=SECRET,
        instance_path=str(RESULTS / "instance"),
    )
    app = create_app(settings)
    with app.container.engine().connect() as connection:  # type: ignore[attr-defined]
        patient_user = connection.execute(text(
            "SELECT p.user_id FROM patients p JOIN appointments a ON a.patient_id = p.id"
            " GROUP BY p.id ORDER BY count(*) DESC LIMIT 1")).scalar()
        doctor_user, doctor = connection.execute(text(
            "SELECT user_id, id FROM doctors ORDER BY id LIMIT 1")).first()
    with app.test_request_context():
        callers = {
            "patient": issue_tokens(patient_user, "patient")["access"],
            "doctor": issue_tokens(doctor_user, "doctor")["access"],
        }
    month = (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    paths = operations(doctor, month, month + timedelta(days=30))
    runs = [
        ("free slots, 1 doctor, 1 month", "patient", *paths["slots"]),
        ("appointments, 50, patient", "patient", *paths["appointments"]),
        ("appointments, 50, doctor", "doctor", *paths["appointments"]),
    ]
    client = app.test_client()
    print(f"{'operation':34} {'REST r/s':>9} {'FHIR r/s':>9} {'FHIR/REST':>9}"
          f" {'REST ms CPU':>12} {'FHIR ms CPU':>12}")
    for name, role, rest_path, fhir_path in runs:
        headers = {"Authorization": f"Bearer {callers[role]}"}
        spent = {"rest": [0.0, 0.0], "fhir": [0.0, 0.0]}  # wall, CPU
        for round_number in range(20 + args.requests):  # 20 to warm up
            for kind, path in (("rest", rest_path), ("fhir", fhir_path)):
                wall, cpu = time.perf_counter(), time.process_time()
                response = client.get(path, headers=headers)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                assert response.status_code == 200, (path, response.status_code, response.json)
                if round_number >= 20:
                    spent[kind][0] += wall
                    spent[kind][1] += cpu
        rate = {kind: args.requests / spent[kind][0] for kind in spent}
        cpu_ms = {kind: spent[kind][1] / args.requests * 1000 for kind in spent}
        print(f"{name:34} {rate['rest']:9.0f} {rate['fhir']:9.0f} {rate['fhir'] / rate['rest']:9.2f}"
              f" {cpu_ms['rest']:12.2f} {cpu_ms['fhir']:12.2f}")
    app.container.shutdown_resources()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
