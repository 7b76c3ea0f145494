"""The bench's clinic: a database (PostgreSQL, or the embedded SQLite file), migrated and loaded
with the demo clinic at a scale, then left to settle before anything is measured."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, text

from healthcare.adapters.sqlalchemy import upgrade_schema
from healthcare.bootstrap import create_container
from healthcare.config import Settings
from healthcare.entrypoints.demo import seed_demo, weeks_for

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
SECRET = "bench-secret-" + "x" * 40
ADMIN_URL = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")

#: At --scale 1: the clinic the issue asks for.
DOCTORS, PATIENTS, APPOINTMENTS = 100, 20_000, 200_000


@dataclass(frozen=True)
class Database:
    """One bench database: ``name`` on the PostgreSQL server, or ``results/<name>.db``."""

    name: str
    backend: str = "postgresql"

    @property
    def url(self) -> str:
        """The application's URL for it."""
        if self.backend == "sqlite":
            return f"sqlite:///{RESULTS / (self.name + '.db')}"
        base = ADMIN_URL.rsplit("/", 1)[0].split("://", 1)[1]
        return f"postgresql+psycopg2://{base}/{self.name}"

    @property
    def libpq_url(self) -> str:
        """The same PostgreSQL database for psycopg2 itself."""
        return self.url.replace("postgresql+psycopg2://", "postgresql://")

    def engine(self) -> Engine:
        """A plain engine for the bench's own queries (not the app's tuned one)."""
        return create_engine(self.url)

    def exists(self) -> bool:
        if self.backend == "sqlite":
            return (RESULTS / (self.name + ".db")).exists()
        with _admin() as admin:
            found = admin.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": self.name}
            )
            return found.first() is not None

    def drop(self) -> None:
        if self.backend == "sqlite":
            for path in RESULTS.glob(self.name + ".db*"):
                path.unlink()
            return
        with _admin() as admin:
            admin.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))

    def create(self) -> None:
        self.drop()
        if self.backend == "postgresql":
            with _admin() as admin:
                admin.execute(text(f'CREATE DATABASE "{self.name}"'))

    def prepare(self, scale: float) -> dict[str, Any]:
        """A fresh database, migrated, with the scaled demo clinic loaded through the
        application's bulk use case (the code behind ``healthcare seed-demo``)."""
        self.create()
        container = create_container(settings(self.url, statement_timeout_ms=0))
        upgrade_schema(container.engine())
        doctors = max(1, round(DOCTORS * scale))
        patients = max(10, round(PATIENTS * scale))
        appointments = max(100, round(APPOINTMENTS * scale))
        started = time.perf_counter()
        print(f"Loading {doctors} doctors, {patients} patients, ~{appointments} appointments "
              f"into {self.backend} ...", flush=True)
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
        self.maintain("VACUUM ANALYZE" if self.backend == "postgresql" else "ANALYZE")
        print(f"Loaded in {loaded:.1f} s: {counts}", flush=True)
        return {"seconds": round(loaded, 1), "counts": counts, "scale": scale}

    def settle(self, limit_s: float = 180) -> float:
        """After a load: a checkpoint, then wait (at most ``limit_s``) for the machine's load
        average to fall below 1, so that the writes' aftermath (autovacuum, the checkpointer)
        does not share the CPUs with the measurements. Returns the seconds waited."""
        began = time.monotonic()
        self.maintain("CHECKPOINT" if self.backend == "postgresql" else "PRAGMA wal_checkpoint(TRUNCATE)")
        while os.getloadavg()[0] >= 1.0 and time.monotonic() - began < limit_s:
            time.sleep(5)
        return round(time.monotonic() - began, 1)

    def maintain(self, statement: str) -> None:
        engine = create_engine(self.url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql(statement)
        finally:
            engine.dispose()


def server_version() -> str:
    with _admin() as admin:
        return str(admin.exec_driver_sql("SHOW server_version").scalar())


@contextmanager
def _admin() -> Iterator[Connection]:
    """A connection to the PostgreSQL server's admin database, in autocommit."""
    engine = create_engine(
        ADMIN_URL.replace("postgresql://", "postgresql+psycopg2://"), isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def settings(url: str, **changes: Any) -> Settings:
    return Settings.from_env(
        {},
        env="production",
        database_url=url,
        jwt_secret_key=SECRET,
        instance_path=str(RESULTS / "instance"),
        **changes,
    )
