"""Faults from the operator's side, in figures: PostgreSQL restarted under a booking load, and
web workers SIGKILLed under it, with clients that retry without and with an Idempotency-Key.

    .venv/bin/python -m bench.faults [--repeat 3] [--outage 2]

Everything runs on loopback: a private PostgreSQL cluster (``initdb`` in a temporary directory
on a free port, never the shared server), the production server (``healthcare serve``, two
workers) and four booking threads that retry a failed booking (no answer, or 503) as a client
would. A fourth scenario restarts the workers (SIGHUP) under the same load. The figures go
to stdout as a table and to ``bench/results/faults.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.database import RESULTS
from tests.security.servers import (
    Cluster,
    Load,
    Server,
    migrate,
    private_cluster,
    seed,
    served,
    stored_bookings,
    wait_until,
)

KILLS = 3
#: Bookings that must succeed after the fault before the figures are taken.
AFTERWARDS = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each scenario")
    parser.add_argument("--outage", type=float, default=2.0, help="seconds PostgreSQL stays down")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    scenarios = {
        "PostgreSQL restarted": lambda: restart_postgres(args.outage),
        "3 workers killed, retries without a key": lambda: kill_workers(keyed=False),
        "3 workers killed, retries with a key": lambda: kill_workers(keyed=True),
        "workers restarted (SIGHUP)": restart_workers,
    }
    figures = {name: [run() for _ in range(args.repeat)] for name, run in scenarios.items()}
    (RESULTS / "faults.json").write_text(json.dumps(figures, indent=2) + "\n")
    report(figures)


def under_load(fault: Callable[[Cluster, Server, Load], float], keyed: bool = False) -> dict[str, Any]:
    """A private cluster, the server and a booking load; ``fault`` strikes once 20 bookings
    went through and returns the moment the service should be whole again."""
    with private_cluster() as cluster, tempfile.TemporaryDirectory() as directory:
        migrate(cluster.url)
        with served(cluster.url, Path(directory)) as server:
            slots = seed(server.base, cluster.url, doctors=4, days=10)
            load = Load(server.base, slots, threads=4, limit_s=90, keyed=keyed)
            with load.running():
                assert wait_until(lambda: load.count(201) >= 20, timeout=30)
                began = time.monotonic()
                recovered = fault(cluster, server, load)
                wait_until(lambda: load.booked_since(recovered) >= AFTERWARDS, timeout=30)
            load.finish_retries()
        figures = _figures(load, slots, cluster.url, fault=began, recovered=recovered)
    # From the fault's start to the database up again, the last kill, or every worker replaced.
    figures["fault_s"] = round(recovered - began, 2)
    return figures


def restart_postgres(outage_s: float) -> dict[str, Any]:
    def fault(cluster: Cluster, _server: Server, _load: Load) -> float:
        cluster.stop()
        time.sleep(outage_s)
        cluster.start()
        return time.monotonic()

    return under_load(fault)


def kill_workers(keyed: bool) -> dict[str, Any]:
    return under_load(lambda _cluster, server, load: _kill(server, load), keyed=keyed)


def restart_workers() -> dict[str, Any]:
    def fault(_cluster: Cluster, server: Server, _load: Load) -> float:
        before = set(server.workers())
        os.kill(server.process.pid, signal.SIGHUP)
        wait_until(lambda: not before & set(server.workers()), timeout=60)
        return time.monotonic()

    return under_load(fault)


def _kill(server: Server, load: Load) -> float:
    """SIGKILL a worker each time three more bookings succeeded; the moment of the last kill."""
    killed_at = time.monotonic()
    for _ in range(KILLS):
        before = load.count(201)
        wait_until(lambda b=before: load.count(201) >= b + 3, timeout=30)
        os.kill(server.workers()[0], signal.SIGKILL)
        killed_at = time.monotonic()
    return killed_at


def _figures(load: Load, slots: Any, url: str, fault: float, recovered: float) -> dict[str, Any]:
    statuses = [(at, status) for at, status, _ in load.statuses]
    failures = [at for at, status in statuses if at >= fault and status in (0, 503)]
    stored = stored_bookings(url, slots)
    return {
        "requests": len(statuses),
        "created_201": sum(1 for _, s in statuses if s == 201),
        "conflict_409": sum(1 for _, s in statuses if s == 409),
        "unavailable_503": sum(1 for _, s in statuses if s == 503),
        "unavailable_503_after_recovery": sum(1 for at, s in statuses if s == 503 and at > recovered),
        "no_answer": sum(1 for _, s in statuses if s == 0),
        "server_error_5xx_other": sum(1 for _, s in statuses if s >= 500 and s != 503),
        "outage_s": round(max(failures) - min(failures), 2) if failures else 0.0,
        "first_201_after_recovery_s": _rounded(load.first_after(recovered, 201)),
        "stored_but_unacknowledged": len(set(stored) - set(load.acknowledged)),
        "acknowledged_but_missing": len(set(load.acknowledged) - set(stored)),
        "stored_twice": sum(1 for ids in stored.values() if len(ids) > 1),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def report(figures: dict[str, list[dict[str, Any]]]) -> None:
    columns = [
        ("outage_s", "outage s"),
        ("unavailable_503", "503"),
        ("unavailable_503_after_recovery", "503 after"),
        ("no_answer", "no answer"),
        ("conflict_409", "409"),
        ("first_201_after_recovery_s", "first 201 s"),
        ("stored_but_unacknowledged", "stored, unacked"),
        ("stored_twice", "twice"),
        ("server_error_5xx_other", "5xx"),
    ]
    print(f"\n{'scenario':<42}" + "".join(f" {label:>15}" for _, label in columns))
    for name, runs in figures.items():
        for run in runs:
            print(f"{name:<42}" + "".join(f" {str(run[key]):>15}" for key, _ in columns))


if __name__ == "__main__":
    main()
