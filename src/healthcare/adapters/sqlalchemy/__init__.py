"""SQLAlchemy adapters: the ports of ``healthcare.application`` on SQLite and PostgreSQL.

The composition root needs only these names::

    engine = create_engine_from_url(settings.database_url)
    upgrade_schema(engine)
    uow_factory = lambda: SqlAlchemyUnitOfWork(engine)
    read_model = SqlAlchemyReadModel(engine)
"""

from healthcare.adapters.sqlalchemy.engine import create_engine_from_url
from healthcare.adapters.sqlalchemy.read_model import SqlAlchemyReadModel
from healthcare.adapters.sqlalchemy.schema import (
    current_revision,
    downgrade_schema,
    head_revision,
    upgrade_schema,
)
from healthcare.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork

__all__ = [
    "SqlAlchemyReadModel",
    "SqlAlchemyUnitOfWork",
    "create_engine_from_url",
    "current_revision",
    "downgrade_schema",
    "head_revision",
    "upgrade_schema",
]
