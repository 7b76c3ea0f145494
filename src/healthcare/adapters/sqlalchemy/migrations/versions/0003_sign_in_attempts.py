"""Sign-in attempts counted in the database, shared by every worker and instance.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

- ``sign_in_attempts``: one row per throttling bucket (a hash of the account and client
  address, or of the address alone): the attempts counted in its current window and when that
  window ends. Rows whose window has ended are purged in small batches as new ones are made.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.String(26), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sign_in_attempts",
        sa.Column("bucket", sa.String(128), primary_key=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("window_ends", TIMESTAMP, nullable=False),
        sa.CheckConstraint("attempts >= 0", name="ck_sign_in_attempts_not_negative"),
    )
    op.create_index("ix_sign_in_attempts_window_ends", "sign_in_attempts", ["window_ends"])


def downgrade() -> None:
    op.drop_table("sign_in_attempts")
