"""Integrations: webhook endpoints, the webhook outbox and its delivery log, calendar feeds,
and each appointment's change counter.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

- ``webhook_endpoints``: where events go, the subscribed types (a JSON array) and the signing
  secret.
- ``webhook_messages``: the outbox, one row per event and endpoint, written in the transaction
  of the change; an event reaches an endpoint at most once (unique endpoint and event id). Due
  rows are found by a partial index on ``next_attempt_at``.
- ``webhook_attempts``: the delivery log (no bodies).
- ``calendar_feeds``: the SHA-256 of each feed's token (unique), never the token; exactly one
  of ``doctor_id`` / ``patient_id``.
- ``appointments.sequence``: how many times the appointment changed (a feed's SEQUENCE).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.String(26), "sqlite")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NEW_TABLES = ("calendar_feeds", "webhook_attempts", "webhook_messages", "webhook_endpoints")


def _id() -> sa.Column:
    return sa.Column("id", ID, primary_key=True, autoincrement=True)


def _ref(column: str, target: str, nullable: bool = False, **options: str) -> sa.Column:
    return sa.Column(column, ID, sa.ForeignKey(f"{target}.id", **options), nullable=nullable)


def _required(column: str, type_: sa.types.TypeEngine | type[sa.types.TypeEngine]) -> sa.Column:
    return sa.Column(column, type_, nullable=False)


def upgrade() -> None:
    op.add_column(
        "appointments", sa.Column("sequence", sa.Integer, nullable=False, server_default="0")
    )

    op.create_table(
        "webhook_endpoints",
        _id(),
        _required("url", sa.String(2000)),
        _required("events", sa.Text),
        _required("description", sa.String(500)),
        _required("secret", sa.String(64)),
        _required("is_active", sa.Boolean),
        _required("created_at", TIMESTAMP),
        sqlite_autoincrement=True,
    )

    op.create_table(
        "webhook_messages",
        _id(),
        _ref("endpoint_id", "webhook_endpoints", ondelete="CASCADE"),
        _required("event_id", sa.String(40)),
        _required("event_type", sa.String(40)),
        _required("body", sa.Text),
        _required("created_at", TIMESTAMP),
        _required("status", sa.String(16)),
        _required("attempts", sa.Integer),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=True),
        sa.Column("claim", sa.String(32), nullable=True),
        sa.UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_messages_endpoint_event"),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')", name="ck_webhook_messages_status"
        ),
        sa.CheckConstraint(
            "status <> 'pending' OR next_attempt_at IS NOT NULL",
            name="ck_webhook_messages_pending_due",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_webhook_messages_due",
        "webhook_messages",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )

    op.create_table(
        "webhook_attempts",
        _id(),
        _ref("endpoint_id", "webhook_endpoints", ondelete="CASCADE"),
        _required("event_id", sa.String(40)),
        _required("event_type", sa.String(40)),
        _required("attempt", sa.Integer),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        _required("at", TIMESTAMP),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_webhook_attempts_endpoint", "webhook_attempts", ["endpoint_id", "id"])

    op.create_table(
        "calendar_feeds",
        _id(),
        _ref("owner_id", "users"),
        _ref("doctor_id", "doctors", nullable=True, ondelete="CASCADE"),
        _ref("patient_id", "patients", nullable=True),
        _required("token_digest", sa.String(64)),
        _required("created_at", TIMESTAMP),
        sa.UniqueConstraint("token_digest", name="uq_calendar_feeds_token_digest"),
        sa.CheckConstraint(
            "(doctor_id IS NULL) <> (patient_id IS NULL)", name="ck_calendar_feeds_one_owner"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_calendar_feeds_owner", "calendar_feeds", ["owner_id"])


def downgrade() -> None:
    for table in NEW_TABLES:
        op.drop_table(table)
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of the table would lose its triggers.
    op.execute("ALTER TABLE appointments DROP COLUMN sequence")
