"""The SQLAlchemy unit of work: one Session, and so one transaction, per ``with`` block."""

from __future__ import annotations

from typing import Self

from sqlalchemy.orm import Session, sessionmaker

from healthcare.adapters.sqlalchemy import repositories as repos
from healthcare.application.unit_of_work import UnitOfWork


class SqlAlchemyUnitOfWork(UnitOfWork):
    """Make one per use case: its session belongs to the thread that entered it.

    ``reading_session_factory`` (``make_session_factory(engine, read_only=True)``) serves the
    units of work declared :meth:`read_only`; without it they use an ordinary session.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        reading_session_factory: sessionmaker[Session] | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._reading_session_factory = reading_session_factory

    def __enter__(self) -> Self:
        factory = self._session_factory
        if self.reading_only and self._reading_session_factory is not None:
            factory = self._reading_session_factory
        self.session = factory()
        self.users = repos.SqlAlchemyUserRepository(self.session)
        self.doctors = repos.SqlAlchemyDoctorRepository(self.session)
        self.patients = repos.SqlAlchemyPatientRepository(self.session)
        self.availabilities = repos.SqlAlchemyAvailabilityRepository(self.session)
        self.appointments = repos.SqlAlchemyAppointmentRepository(self.session)
        self.rules = repos.SqlAlchemyAvailabilityRuleRepository(self.session)
        self.exceptions = repos.SqlAlchemyAvailabilityExceptionRepository(self.session)
        self.idempotency_keys = repos.SqlAlchemyIdempotencyKeyRepository(self.session)
        self.records = repos.SqlAlchemyMedicalRecordRepository(self.session)
        self.audit = repos.SqlAlchemyAuditRepository(self.session)
        self.revocations = repos.SqlAlchemyTokenRevocations(self.session)
        self.outbox = repos.SqlAlchemyOutboxRepository(self.session)
        self.webhook_endpoints = repos.SqlAlchemyWebhookEndpointRepository(self.session)
        self.webhooks = repos.SqlAlchemyWebhookOutbox(self.session)
        self.calendar_feeds = repos.SqlAlchemyCalendarFeedRepository(self.session)
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            super().__exit__(*exc_info)  # type: ignore[arg-type]
        finally:
            self.session.close()

    def _commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
