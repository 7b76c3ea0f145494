"""The unit of work: one transaction per use case, rolled back unless explicitly committed."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from types import TracebackType
from typing import Self

from healthcare.application import ports


class ReadOnlyViolation(RuntimeError):
    """A read-only unit of work was asked to commit: a use case that writes declared otherwise."""


class UnitOfWork(ABC):
    users: ports.UserRepository
    doctors: ports.DoctorRepository
    patients: ports.PatientRepository
    availabilities: ports.AvailabilityRepository
    rules: ports.AvailabilityRuleRepository
    exceptions: ports.AvailabilityExceptionRepository
    calendars: ports.CalendarRepository
    idempotency_keys: ports.IdempotencyKeyRepository
    appointments: ports.AppointmentRepository
    records: ports.MedicalRecordRepository
    audit: ports.AuditRepository
    revocations: ports.TokenRevocations
    outbox: ports.OutboxRepository
    webhook_endpoints: ports.WebhookEndpointRepository
    webhooks: ports.WebhookOutbox
    calendar_feeds: ports.CalendarFeedRepository
    waitlist: ports.WaitlistRepository

    #: Set by :meth:`read_only` before entering.
    reading_only = False

    def read_only(self) -> Self:
        """Declare, before entering, that this use case only reads: it may not commit.

        A database adapter may then read without a transaction of its own (each statement
        sees what was committed when it ran, as READ COMMITTED does anyway), which spares the
        BEGIN and ROLLBACK round trips.
        """
        self.reading_only = True
        return self

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Rolling back after a commit is a no-op, so this covers both the error and the
        # forgot-to-commit paths without a flag.
        self.rollback()

    def commit(self) -> None:
        if self.reading_only:
            raise ReadOnlyViolation("This unit of work was opened read-only.")
        self._commit()

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
