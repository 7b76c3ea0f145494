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
        self._working = copy.deepcopy(self.store.tables)
        self.users = repos.InMemoryUserRepository(self._working)
        self.doctors = repos.InMemoryDoctorRepository(self._working)
        self.patients = repos.InMemoryPatientRepository(self._working)
        self.availabilities = repos.InMemoryAvailabilityRepository(self._working)
        self.appointments = repos.InMemoryAppointmentRepository(self._working)
        self.rules = repos.InMemoryAvailabilityRuleRepository(self._working)
        self.exceptions = repos.InMemoryAvailabilityExceptionRepository(self._working)
        self.idempotency_keys = repos.InMemoryIdempotencyKeyRepository(self._working)
        self.records = repos.InMemoryMedicalRecordRepository(self._working)
        self.audit = repos.InMemoryAuditRepository(self._working)
        self.revocations = repos.InMemoryTokenRevocations(self._working)
        self.outbox = repos.InMemoryOutboxRepository(self._working)
        self.webhook_endpoints = repos.InMemoryWebhookEndpointRepository(self._working)
        self.webhooks = repos.InMemoryWebhookOutbox(self._working)
        self.calendar_feeds = repos.InMemoryCalendarFeedRepository(self._working)
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            super().__exit__(*exc_info)  # type: ignore[arg-type]
        finally:
            self.store.lock.release()

    def _commit(self) -> None:
        self.store.tables = copy.deepcopy(self._working)

    def rollback(self) -> None:
        # In place: the repositories hold this very dict.
        self._working.clear()
        self._working.update(copy.deepcopy(self.store.tables))
