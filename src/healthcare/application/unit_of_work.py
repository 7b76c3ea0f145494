"""The unit of work: one transaction per use case, rolled back unless explicitly committed."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from types import TracebackType
from typing import Self

from healthcare.application import ports


class UnitOfWork(ABC):
    users: ports.UserRepository
    doctors: ports.DoctorRepository
    patients: ports.PatientRepository
    availabilities: ports.AvailabilityRepository
    rules: ports.AvailabilityRuleRepository
    exceptions: ports.AvailabilityExceptionRepository
    idempotency_keys: ports.IdempotencyKeyRepository
    appointments: ports.AppointmentRepository
    records: ports.MedicalRecordRepository
    audit: ports.AuditRepository
    revocations: ports.TokenRevocations
    outbox: ports.OutboxRepository

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

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
