"""An in-memory unit of work with real transactions: work on a copy, publish it on commit."""

from __future__ import annotations

import copy
import threading
from typing import Self

from healthcare.adapters.in_memory import repositories as repos
from healthcare.application.unit_of_work import UnitOfWork

TABLES = (
    "users",
    "doctors",
    "patients",
    "availabilities",
    "rules",
    "exceptions",
    "appointments",
    "idempotency_keys",
    "records",
    "audit",
    "revocations",
    "outbox",
    "webhook_endpoints",
    "webhook_messages",
    "webhook_attempts",
    "calendar_feeds",
    "waitlist",
)


class InMemoryStore:
    """The committed state, shared by every unit of work made on it."""

    def __init__(self) -> None:
        self.tables: dict[str, repos.Table] = {name: repos.Table() for name in TABLES}
        # One writer at a time, like SQLite's BEGIN IMMEDIATE: transactions are serializable.
        self.lock = threading.RLock()


class InMemoryUnitOfWork(UnitOfWork):
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    def __enter__(self) -> Self:
        self.store.lock.acquire()
        self.tables = copy.deepcopy(self.store.tables)
        self.users = repos.InMemoryUserRepository(self.tables)
        self.doctors = repos.InMemoryDoctorRepository(self.tables)
        self.patients = repos.InMemoryPatientRepository(self.tables)
        self.availabilities = repos.InMemoryAvailabilityRepository(self.tables)
        self.appointments = repos.InMemoryAppointmentRepository(self.tables)
        self.rules = repos.InMemoryAvailabilityRuleRepository(self.tables)
        self.exceptions = repos.InMemoryAvailabilityExceptionRepository(self.tables)
        self.calendars = repos.InMemoryCalendarRepository(self.tables)
        self.idempotency_keys = repos.InMemoryIdempotencyKeyRepository(self.tables)
        self.records = repos.InMemoryMedicalRecordRepository(self.tables)
        self.audit = repos.InMemoryAuditRepository(self.tables)
        self.revocations = repos.InMemoryTokenRevocations(self.tables)
        self.outbox = repos.InMemoryOutboxRepository(self.tables)
        self.webhook_endpoints = repos.InMemoryWebhookEndpointRepository(self.tables)
        self.webhooks = repos.InMemoryWebhookOutbox(self.tables)
        self.calendar_feeds = repos.InMemoryCalendarFeedRepository(self.tables)
        self.waitlist = repos.InMemoryWaitlistRepository(self.tables)
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            super().__exit__(*exc_info)  # type: ignore[arg-type]
        finally:
            self.store.lock.release()

    def _commit(self) -> None:
        self.store.tables = copy.deepcopy(self.tables)

    def rollback(self) -> None:
        # In place: the repositories hold this very dict.
        self.tables.clear()
        self.tables.update(copy.deepcopy(self.store.tables))
