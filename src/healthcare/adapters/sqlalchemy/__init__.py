"""SQLAlchemy adapters: every port of ``healthcare.application.ports`` on SQLite and PostgreSQL.

The composition root needs only these names::

    engine = create_engine_from_url(settings.database_url)
    upgrade_schema(engine)
    uow_factory = lambda: SqlAlchemyUnitOfWork(
        make_session_factory(engine), make_session_factory(engine, read_only=True)
    )
"""

from healthcare.adapters.sqlalchemy.engine import (
    create_engine_from_url,
    make_session_factory,
)
from healthcare.adapters.sqlalchemy.repositories import (
    SqlAlchemyAppointmentRepository,
    SqlAlchemyAuditRepository,
    SqlAlchemyAvailabilityRepository,
    SqlAlchemyDoctorRepository,
    SqlAlchemyMedicalRecordRepository,
    SqlAlchemyOutboxRepository,
    SqlAlchemyPatientRepository,
    SqlAlchemyTokenRevocations,
    SqlAlchemyUserRepository,
)
from healthcare.adapters.sqlalchemy.schema import (
    current_revision,
    downgrade_schema,
    head_revision,
    upgrade_schema,
)
from healthcare.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork

__all__ = [
    "SqlAlchemyAppointmentRepository",
    "SqlAlchemyAuditRepository",
    "SqlAlchemyAvailabilityRepository",
    "SqlAlchemyDoctorRepository",
    "SqlAlchemyMedicalRecordRepository",
    "SqlAlchemyOutboxRepository",
    "SqlAlchemyPatientRepository",
    "SqlAlchemyTokenRevocations",
    "SqlAlchemyUnitOfWork",
    "SqlAlchemyUserRepository",
    "create_engine_from_url",
    "current_revision",
    "downgrade_schema",
    "head_revision",
    "make_session_factory",
    "upgrade_schema",
]
