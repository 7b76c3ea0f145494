"""Scaling: the same list and slot requests on clinics of several sizes. Per doctor and per
patient the clinic looks the same; only the tables grow, so latency should not."""

from __future__ import annotations

import argparse
from typing import Any

from bench.database import APPOINTMENTS, Database
from bench.fixtures import Fixtures
from bench.load import request_lines, wrk
from bench.server import Server


def measure_scaling(args: argparse.Namespace) -> dict[str, Any]:
    points: dict[str, Any] = {}
    for size in [int(float(x)) for x in args.scaling.split(",") if x]:
        database = Database(f"healthcare_bench_{size}", args.database)
        load = database.prepare(size / APPOINTMENTS)
        load["settled_seconds"] = database.settle()
        with Server(database.url, args.workers, args.threads, args.port) as server:
            fixtures = Fixtures.pick(database, server, api_bookings=0, spare=0)
            measured = {}
            for op in ("list_patient", "list_doctor", "slots"):
                lines = request_lines(op, fixtures)
                wrk(server, op, lines, args, seconds=2)
                measured[op] = wrk(server, op, lines, args, seconds=args.duration)
                print(f"{size:>9} appointments, {op}: {measured[op]['rps']} req/s, "
                      f"p50 {measured[op]['p50_ms']} ms", flush=True)
        points[str(size)] = {"load": load, "api": measured}
        database.drop()
    sizes = sorted(points, key=int)
    if len(sizes) >= 2:
        small, large = points[sizes[0]]["api"], points[sizes[-1]]["api"]
        points["ratio_largest_to_smallest_p50"] = {
            op: round(large[op]["p50_ms"] / max(small[op]["p50_ms"], 1e-6), 2) for op in small
        }
    return points
