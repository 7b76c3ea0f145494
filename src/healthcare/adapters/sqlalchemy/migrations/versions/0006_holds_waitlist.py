"""Holds and the waitlist (SPEC section 8).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

- ``appointments.hold_expires_at``: set while the row is a hold, not yet an appointment (two
  partial indexes find a doctor's or a patient's holds around a slot). A hold
  is a pending row, so the no-overlap guarantees of 0001/0002 (PostgreSQL's exclusion
  constraints, SQLite's triggers) keep its slot exactly as they keep a booking's: nothing about
  them changes. They cannot see the clock: a writer deletes the expired holds in its way first,
  in its own transaction. Booking a hold clears the column (the same row, atomically).
- ``waitlist_entries``: a patient waiting for a slot of a doctor starting in [start_at, end_at),
  oldest first; an offer is a hold (``hold_id``, no foreign key: a hold row may be deleted once
  expired), its slot and expiry kept on the entry so that the slot of a lapsed offer can be
  passed on even when the hold row is gone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.String(26), "sqlite")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
STATUSES = ("waiting", "offered", "booked", "expired")


def _ref(column: str, target: str, **options: str) -> sa.Column:
    return sa.Column(column, ID, sa.ForeignKey(f"{target}.id", **options), nullable=False)


def upgrade() -> None:
    op.add_column("appointments", sa.Column("hold_expires_at", TIMESTAMP, nullable=True))
    # The holds of a doctor or a patient around a slot (expired ones to delete, live ones to
    # count): partial, so they hold the few holds, not the appointments.
    for owner in ("doctor_id", "patient_id"):
        op.create_index(
            f"ix_appointments_hold_{owner.removesuffix('_id')}",
            "appointments",
            [owner, "start_at"],
            postgresql_where=sa.text("hold_expires_at IS NOT NULL"),
            sqlite_where=sa.text("hold_expires_at IS NOT NULL"),
        )
    allowed = ", ".join(f"'{status}'" for status in STATUSES)
    op.create_table(
        "waitlist_entries",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        _ref("doctor_id", "doctors", ondelete="CASCADE"),
        _ref("patient_id", "patients"),
        sa.Column("start_at", TIMESTAMP, nullable=False),
        sa.Column("end_at", TIMESTAMP, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("hold_id", ID, nullable=True),
        sa.Column("offer_start", TIMESTAMP, nullable=True),
        sa.Column("offer_end", TIMESTAMP, nullable=True),
        sa.Column("offer_expires_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint("end_at > start_at", name="ck_waitlist_entries_time_order"),
        sa.CheckConstraint(f"status IN ({allowed})", name="ck_waitlist_entries_status"),
        sqlite_autoincrement=True,
    )
    # The oldest waiting entry of a doctor that fits a freed slot; a patient's list.
    op.create_index(
        "ix_waitlist_entries_doctor_status", "waitlist_entries", ["doctor_id", "status", "id"]
    )
    op.create_index("ix_waitlist_entries_patient", "waitlist_entries", ["patient_id", "id"])
    # Offers that lapsed, for process-waitlist; the entry a booked hold was offered by.
    op.create_index(
        "ix_waitlist_entries_offer_expiry", "waitlist_entries", ["status", "offer_expires_at"]
    )
    op.create_index("ix_waitlist_entries_hold", "waitlist_entries", ["hold_id"])


def downgrade() -> None:
    op.drop_table("waitlist_entries")
    op.execute("DELETE FROM appointments WHERE hold_expires_at IS NOT NULL")
    for owner in ("doctor", "patient"):
        op.drop_index(f"ix_appointments_hold_{owner}", table_name="appointments")
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of the table would lose its triggers.
    op.execute("ALTER TABLE appointments DROP COLUMN hold_expires_at")
