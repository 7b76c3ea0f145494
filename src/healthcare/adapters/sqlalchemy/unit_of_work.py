"""The SQLAlchemy unit of work: one ``Transaction``, and so one connection, per ``with`` block."""

from __future__ import annotations

from typing import Self

from sqlalchemy import Engine

from healthcare.adapters.sqlalchemy import integrations
from healthcare.adapters.sqlalchemy import repositories as repos
from healthcare.adapters.sqlalchemy.transaction import Transaction, reading
from healthcare.application.unit_of_work import UnitOfWork


class SqlAlchemyUnitOfWork(UnitOfWork):
    """Make one per use case: its connection belongs to the thread that entered it.

    A unit of work declared :meth:`read_only` runs on ``reading(engine)`` (see
    ``transaction.py``).
    """

    def __init__(self, engine: Engine, reading_engine: Engine | None = None) -> None:
        self._engine = engine
        self._reading_engine = reading_engine or reading(engine)

    def __enter__(self) -> Self:
        engine = self._reading_engine if self.reading_only else self._engine
        self.tx = Transaction(engine).__enter__()
        tx = self.tx
        self.users = repos.SqlAlchemyUserRepository(tx)
        self.doctors = repos.SqlAlchemyDoctorRepository(tx)
        self.patients = repos.SqlAlchemyPatientRepository(tx)
        self.availabilities = repos.SqlAlchemyAvailabilityRepository(tx)
        self.appointments = repos.SqlAlchemyAppointmentRepository(tx)
        self.rules = repos.SqlAlchemyAvailabilityRuleRepository(tx)
        self.exceptions = repos.SqlAlchemyAvailabilityExceptionRepository(tx)
        self.calendars = repos.SqlAlchemyCalendarRepository(tx)
        self.idempotency_keys = repos.SqlAlchemyIdempotencyKeyRepository(tx)
        self.records = repos.SqlAlchemyMedicalRecordRepository(tx)
        self.audit = repos.SqlAlchemyAuditRepository(tx)
        self.revocations = repos.SqlAlchemyTokenRevocations(tx)
        self.outbox = repos.SqlAlchemyOutboxRepository(tx)
        self.webhook_endpoints = integrations.SqlAlchemyWebhookEndpointRepository(tx)
        self.webhooks = integrations.SqlAlchemyWebhookOutbox(tx)
        self.calendar_feeds = integrations.SqlAlchemyCalendarFeedRepository(tx)
        self.waitlist = repos.SqlAlchemyWaitlistRepository(tx)
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            super().__exit__(*exc_info)  # type: ignore[arg-type]
        finally:
            self.tx.__exit__(None, None, None)

    def _commit(self) -> None:
        self.tx.commit()

    def rollback(self) -> None:
        self.tx.rollback()
