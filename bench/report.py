"""The report: one table per run, to compare run to run (the JSON keeps everything)."""

from __future__ import annotations

from typing import Any

from bench.load import OPERATIONS

#: Our goals (req/s): twice what the Django system did (docs/PERFORMANCE.md).
GOALS = {
    "book": 650,
    "list_patient": 1200,
    "list_doctor": 1200,
    "doctors": 1300,
    "record": 1600,
    "records": 1600,
    "slots": 500,
}


def print_report(run: dict[str, Any]) -> None:
    api, ceiling = run.get("api", {}), run.get("ceiling", {})
    load = run["load"]
    print()
    if load.get("reused"):
        print("Clinic: reused from an earlier run (--reuse)")
    else:
        print(f"Clinic: {load['counts']} (loaded in {load['seconds']} s)")
    database = run["settings"]["database"]
    where = f"PostgreSQL {run['machine']['postgres']}" if database == "postgresql" else "SQLite (WAL)"
    print(f"Server: {run['server']['command']}, {run['server']['workers']} workers x "
          f"{run['server']['threads']} threads; machine: {run['machine']['cpus']} CPUs, {where} "
          "on the same machine")
    header = (
        f"{'operation':<32} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6} {'max':>6} {'err':>4} {'409':>5}"
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
            f" {peak.get('max_ms', 0):>6.0f}"
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
