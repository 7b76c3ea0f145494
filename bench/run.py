"""The benchmark: a large clinic, the production server, wrk, and the database's own ceiling for
the statements the app sends. See bench/README.md.

    .venv/bin/python -m bench.run [--database postgresql|sqlite] [--scale 1] [--duration 10]

Each part lives in its own module: ``database`` (the clinic), ``server`` (``healthcare
serve``), ``fixtures`` (who requests what), ``load`` (wrk and the booking check), ``ceiling``
(captured statements replayed), ``scaling``, ``report``; ``faults`` measures outages.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from typing import Any

from bench.ceiling import measure_ceiling
from bench.database import RESULTS, Database, server_version
from bench.fixtures import Fixtures
from bench.load import check_bookings, measure_api
from bench.report import print_report
from bench.scaling import measure_scaling
from bench.server import Server


def main() -> None:
    args = arguments()
    RESULTS.mkdir(exist_ok=True)
    run: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "postgres": server_version() if args.database == "postgresql" else None,
            # Anything else running on the machine skews every figure: recorded, and warned of.
            "load_average_at_start": os.getloadavg(),
        },
        "settings": vars(args),
    }
    database = Database("healthcare_bench", args.database)
    if args.reuse and database.exists():
        run["load"] = {"reused": True, "scale": args.scale}
        print(f"Reusing {database.name} ({args.database}) as the last run left it", flush=True)
    else:
        run["load"] = database.prepare(args.scale)
        run["load"]["settled_seconds"] = database.settle()
    with Server(database.url, args.workers, args.threads, args.port) as server:
        run["server"] = server.describe()
        fixtures = Fixtures.pick(
            database, server,
            api_bookings=2000 * (args.duration + 3),
            spare=200 * args.duration if args.database == "postgresql" else 0,
        )
        run["api"] = measure_api(server, fixtures, args)
        run["booking_check"] = check_bookings(database)
    if args.database == "postgresql" and args.ceiling:
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


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql",
                        help="the clinic on the PostgreSQL server or in an SQLite file")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="1 = 100 doctors, 20k patients, 200k appointments")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured wrk run")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (keep it low: 2 cores)")
    parser.add_argument("--workers", type=int, default=None, help="server workers [the packaged default]")
    parser.add_argument("--threads", type=int, default=None,
                        help="Python threads per worker [packaged default]")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--ceiling-clients", type=int, default=4, help="raw-SQL client processes")
    parser.add_argument("--no-ceiling", dest="ceiling", action="store_false",
                        help="skip the captured-statement ceiling (PostgreSQL only)")
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


if __name__ == "__main__":
    main()
