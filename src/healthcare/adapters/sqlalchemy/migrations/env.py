"""Alembic environment, driven from code: ``healthcare.adapters.sqlalchemy.schema`` hands in
the connection (in ``config.attributes``), so no alembic.ini is needed at run time."""

from alembic import context

from healthcare.adapters.sqlalchemy.rows import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "Run migrations through healthcare.adapters.sqlalchemy.upgrade_schema "
        "(or `healthcare db upgrade`), which passes the connection in."
    )

context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
