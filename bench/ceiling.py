"""The database's ceiling: the statements the app really sends for each operation, replayed
through psycopg2 with no web stack, from several processes at once.

The statements are captured, never re-typed: each request of a sample is sent once through the
app in this process (Flask's test client), with SQLAlchemy's ``before_cursor_execute``,
``begin``, ``commit`` and ``rollback`` events recording what reaches the driver, parameters
included. A transaction the app runs in autocommit (a read-only unit of work) is replayed in
autocommit too. So the ratio API / ceiling compares the same work, whatever the read path
becomes. The bookings captured are real: they are deleted again before the replay, which then
books the same slots with the same statements.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
from sqlalchemy import bindparam, event, text

from bench.database import Database, settings
from bench.fixtures import Fixtures
from bench.load import OPERATIONS, requests
from healthcare.bootstrap import create_app

#: A captured request: ("sql", statement, parameters, executemany) or ("BEGIN",) etc.
Step = tuple[Any, ...]
#: Requests captured per read operation (each replayed round and round).
SAMPLE = 200


class Recorder:
    """What the app's engine sends to the driver, one list of steps per request."""

    def __init__(self, engine: Any) -> None:
        self.steps: list[Step] | None = None
        event.listen(engine, "before_cursor_execute", self._statement)
        for boundary in ("begin", "commit", "rollback"):
            event.listen(engine, boundary, self._boundary(boundary.upper()))

    @contextmanager
    def recording(self) -> Iterator[list[Step]]:
        self.steps = []
        try:
            yield self.steps
        finally:
            self.steps = None

    def _statement(self, _conn: Any, _cursor: Any, statement: str, parameters: Any,
                   _context: Any, executemany: bool) -> None:
        if self.steps is not None:
            self.steps.append(("sql", statement, parameters, executemany))

    def _boundary(self, keyword: str) -> Any:
        def record(connection: Any) -> None:
            # Registered after the engine's own listeners: a read-only unit of work has put
            # the driver in autocommit by now, and then psycopg2 sends no BEGIN or COMMIT.
            if self.steps is not None and not connection.connection.dbapi_connection.autocommit:
                self.steps.append((keyword,))

        return record


def capture(database: Database, fixtures: Fixtures, ops: list[str]) -> dict[str, list[list[Step]]]:
    """Each operation's requests sent once through the app in process, with what they sent."""
    app = create_app(settings(database.url))
    engine = app.container.engine()  # type: ignore[attr-defined]
    recorder = Recorder(engine)
    client = app.test_client()
    captured: dict[str, list[list[Step]]] = {}
    booked: list[int] = []
    for op in ops:
        sample = requests(op, fixtures, fixtures.spare_bookings)
        if op != "book":
            sample = sample[:SAMPLE]
        captured[op] = []
        for method, path, token, body in sample:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            with recorder.recording() as steps:
                response = client.open(path, method=method, headers=headers,
                                       data=body or None, content_type="application/json")
            if response.status_code >= 300:
                continue  # a slot someone took meanwhile: not the work being measured
            captured[op].append(steps)
            if op == "book":
                booked.append(response.get_json()["id"])
        print(f"captured {op}: {len(captured[op])} requests, "
              f"{sum(len(s) for s in captured[op]) / max(len(captured[op]), 1):.1f} steps each",
              flush=True)
    if booked:
        with engine.begin() as connection:
            connection.execute(
                text("DELETE FROM appointments WHERE id IN :ids")
                .bindparams(bindparam("ids", expanding=True)),
                {"ids": booked},
            )
    app.container.shutdown_resources()  # type: ignore[attr-defined]
    return captured


def _replay_client(url: str, op: str, items: list[list[Step]], seconds: float, queue: Any) -> None:
    connection = psycopg2.connect(url)
    connection.autocommit = True  # the captured BEGIN / COMMIT say where transactions are
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds
    at = 0
    with connection.cursor() as cursor:
        while time.perf_counter() < deadline and (op != "book" or at < len(items)):
            steps = items[at % len(items)]
            at += 1
            began = time.perf_counter()
            try:
                for step in steps:
                    if step[0] != "sql":
                        cursor.execute(step[0])
                    elif step[3]:
                        cursor.executemany(step[1], step[2])
                    else:
                        cursor.execute(step[1], step[2])
                        if cursor.description is not None:
                            cursor.fetchall()
            except psycopg2.Error:
                cursor.execute("ROLLBACK")
                failures += 1
            latencies.append(time.perf_counter() - began)
    connection.close()
    queue.put((latencies, failures))


def measure_ceiling(database: Database, fixtures: Fixtures, args: argparse.Namespace) -> dict[str, Any]:
    ops = [op for op in OPERATIONS if not args.only or op in args.only.split(",")]
    captured = capture(database, fixtures, ops)
    results = {}
    clients = args.ceiling_clients
    context = multiprocessing.get_context("fork")
    for op in ops:
        items = captured.get(op)
        if not items:
            continue
        queue = context.Queue()
        # A booking is replayed once (its slot is then taken); reads round and round.
        shares = [items[i::clients] for i in range(clients)] if op == "book" else [items] * clients
        began = time.perf_counter()
        workers = [
            context.Process(target=_replay_client,
                            args=(database.libpq_url, op, share, args.duration, queue))
            for share in shares
        ]
        for worker in workers:
            worker.start()
        outcomes = [queue.get() for _ in workers]
        for worker in workers:
            worker.join()
        elapsed = min(time.perf_counter() - began, args.duration) or 1
        latencies = sorted(x for outcome, _ in outcomes for x in outcome)
        results[op] = {
            "rps": round(len(latencies) / elapsed, 1),
            "p50_ms": round(percentile(latencies, 50) * 1000, 2),
            "p95_ms": round(percentile(latencies, 95) * 1000, 2),
            "p99_ms": round(percentile(latencies, 99) * 1000, 2),
            "requests": len(latencies),
            "statements": sum(1 for step in items[0] if step[0] == "sql"),
            "failures": sum(f for _, f in outcomes),
            "clients": clients,
        }
        print(f"ceiling {op}: {results[op]}", flush=True)
    return results


def percentile(values: list[float], percent: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(len(values) * percent / 100))]
