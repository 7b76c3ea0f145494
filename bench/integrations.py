"""Figures for the integrations (SPEC section 9), on a fresh PostgreSQL database of its own.

    .venv/bin/python -m bench.integrations [--events 1000] [--workers 2] [--appointments 500]

1. Webhooks: ``--events`` events for one endpoint (a local receiver that verifies every
   signature with the ``standardwebhooks`` library and answers 200), delivered by ``--workers``
   ``healthcare deliver-webhooks --once`` processes started together. Prints events/s (wall
   clock, from the workers' start to the last one's exit), each worker's CPU (user + system,
   its start-up included), the start-up alone (a worker with nothing to do) and so the CPU per
   event, and checks that every event arrived exactly once, its signature verified.
2. Calendar feeds: a doctor with ``--appointments`` appointments in the feed's range; the CPU
   (process time) of one fetch in-process: the query and the domain (``CalendarFeedService
   .content``, audit write included), and the iCalendar rendering (``icalendar``, each event's
   text cached), each the mean of 20 fetches after a warm-up; and the rendering with the cache
   emptied first (a feed's first fetch), the mean of 5.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.run import database_url
from healthcare.adapters.clock import SystemClock
from healthcare.adapters.security import Argon2PasswordHasher
from healthcare.adapters.sqlalchemy import (
    SqlAlchemyUnitOfWork,
    create_engine_from_url,
    upgrade_schema,
)
from healthcare.application.commands import CreateCalendarFeed
from healthcare.application.services.bulk import (
    BulkLoadService,
    LoadClinic,
    NewAppointment,
    NewDoctor,
    NewPatient,
    NewWindow,
)
from healthcare.application.services.feeds import CalendarFeedService
from healthcare.domain.actor import Actor
from healthcare.domain.events import Event, EventType
from healthcare.domain.users import Role
from healthcare.domain.webhooks import WebhookEndpoint, new_secret
from healthcare.entrypoints.api.ics import calendar_text, vevent_text
from tests.support.receiver import Receiver

DATABASE = "healthcare_bench_integrations"


def fresh_database() -> str:
    admin = create_engine(database_url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    return database_url(DATABASE)


def webhooks(url: str, events: int, workers: int) -> None:
    engine = create_engine_from_url(url)
    upgrade_schema(engine)
    uow_factory = lambda: SqlAlchemyUnitOfWork(engine)  # noqa: E731
    with Receiver().running() as receiver:
        receiver.secret = new_secret()
        now = datetime.now(UTC)
        with uow_factory() as uow:
            uow.webhook_endpoints.add(
                WebhookEndpoint(url=receiver.url, events=("*",), secret=receiver.secret, created_at=now)
            )
            for n in range(events):
                uow.webhooks.publish(Event(EventType.APPOINTMENT_BOOKED, now, {"id": n}))
            uow.commit()
        engine.dispose()
        script = Path(sys.executable).with_name("healthcare")
        environment = {**os.environ, "DATABASE_URL": url, "JWT_SECRET_KEY": "b" * 40}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        processes = [
            subprocess.Popen([script, "deliver-webhooks", "--once"], env=environment,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            for _ in range(workers)
        ]
        cpu = []
        for process in processes:
            out, _ = process.communicate()
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime)
            before = usage
            print(f"  worker: {out.strip()}")
        wall = time.perf_counter() - started
        # A worker's start (imports, the container's wiring) with nothing to deliver.
        subprocess.run([script, "deliver-webhooks", "--once"], env=environment, capture_output=True)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        start_up = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime
    received = Counter(r.webhook_id for r in receiver.receipts)
    exactly_once = len(received) == events and set(received.values()) == {1}
    verified = all(r.verified for r in receiver.receipts)
    per_event = (sum(cpu) - workers * start_up) / events
    print(f"webhooks: {events} events, {workers} workers, {wall:.2f} s wall, "
          f"{events / wall:.0f} events/s; worker CPU {', '.join(f'{c:.2f} s' for c in cpu)} "
          f"(start-up alone {start_up:.2f} s each, so {1000 * per_event:.1f} ms per event); "
          f"exactly once: {exactly_once}; signatures verified: {verified}")


def feeds(url: str, appointments: int) -> None:
    engine = create_engine_from_url(url)
    uow_factory = lambda: SqlAlchemyUnitOfWork(engine)  # noqa: E731
    clock = SystemClock()
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    days = (appointments + 15) // 16
    loaded = BulkLoadService(uow_factory, clock, Argon2PasswordHasher(time_cost=1, memory_cost=8)).load(
        Actor.system(),
        LoadClinic(
            password="bench-password-1",
            doctors=[NewDoctor("feed@bench.test", "Dr. Feed", "Cardiology")],
            patients=[NewPatient(f"p{n}@bench.test", f"Patient {n}") for n in range(50)],
            windows=[NewWindow(0, today + timedelta(days=d, hours=8), today + timedelta(days=d, hours=16))
                     for d in range(1, days + 1)],
            appointments=[
                NewAppointment(0, n % 50, today + timedelta(days=1 + n // 16, hours=8, minutes=30 * (n % 16)))
                for n in range(appointments)
            ],
        ),
    )
    service = CalendarFeedService(uow_factory, clock)
    doctor = Actor(user_id=loaded.doctor_user_ids[0], role=Role.DOCTOR, doctor_id=loaded.doctor_ids[0])
    token = service.create(doctor, CreateCalendarFeed()).token
    content = service.content(token)
    assert len(content.events) == appointments, len(content.events)
    rounds = 5
    cold = 0.0
    for _ in range(rounds):
        vevent_text.cache_clear()
        started = time.process_time()
        calendar_text(content.events, "bench")
        cold += time.process_time() - started
    print(f"feeds: rendering with no event cached (a feed's first fetch): {1000 * cold / rounds:.1f} ms CPU")
    rounds = 20
    query = render = 0.0
    for _ in range(rounds):
        started = time.process_time()
        content = service.content(token)
        middle = time.process_time()
        body = calendar_text(content.events, "bench")
        render += time.process_time() - middle
        query += middle - started
    print(f"feeds: {appointments} appointments, {len(body) / 1024:.0f} KiB; CPU per fetch: "
          f"query and domain {1000 * query / rounds:.1f} ms, rendering {1000 * render / rounds:.1f} ms, "
          f"total {1000 * (query + render) / rounds:.1f} ms")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--appointments", type=int, default=500)
    args = parser.parse_args()
    url = fresh_database()
    webhooks(url, args.events, args.workers)
    feeds(url, args.appointments)


if __name__ == "__main__":
    main()
