"""Idempotency keys for every creating operation, not bookings only.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

A key now belongs to an owner (``user:<id>``, or ``sign-up`` for anonymous sign-ups) and names
what it created by kind and id (``resource``, ``resource_id``), with no foreign key, since the
kinds differ. The table is rebuilt (SQLite cannot drop a column that has a foreign key), its
rows carried over as the bookings they were.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.String(26), "sqlite")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column:
    return sa.Column("id", ID, primary_key=True, autoincrement=True)


def upgrade() -> None:
    op.create_table(
        "creation_keys",
        _id(),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("resource", sa.String(32), nullable=False),
        sa.Column("resource_id", ID, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sqlite_autoincrement=True,
    )
    op.execute(
        "INSERT INTO creation_keys (owner, key, fingerprint, resource, resource_id, created_at) "
        "SELECT 'user:' || user_id, key, fingerprint, 'appointment', appointment_id, created_at "
        "FROM idempotency_keys ORDER BY id"
    )
    op.drop_table("idempotency_keys")
    op.rename_table("creation_keys", "idempotency_keys")
    op.create_index(
        "uq_idempotency_keys_owner_key", "idempotency_keys", ["owner", "key"], unique=True
    )


def downgrade() -> None:
    op.create_table(
        "booking_keys",
        _id(),
        sa.Column("user_id", ID, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("appointment_id", ID, sa.ForeignKey("appointments.id"), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sqlite_autoincrement=True,
    )
    # Only bookings' keys had a place before; the others go.
    op.execute(
        "INSERT INTO booking_keys (user_id, key, fingerprint, appointment_id, created_at) "
        "SELECT CAST(substr(owner, 6) AS BIGINT), key, fingerprint, resource_id, created_at "
        "FROM idempotency_keys WHERE resource = 'appointment' AND owner LIKE 'user:%' ORDER BY id"
    )
    op.drop_table("idempotency_keys")
    op.rename_table("booking_keys", "idempotency_keys")
    op.create_index(
        "uq_idempotency_keys_user_key", "idempotency_keys", ["user_id", "key"], unique=True
    )
