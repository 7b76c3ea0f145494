"""Scheduling: weekly hours, blocked periods, booking policy, buffers, idempotent booking and
reschedule history.

Revision ID: 0002
Revises: 0001
Create Date: 2025-05-01

- ``availability_rules`` (weekly hours, local wall-clock times) and ``availability_exceptions``
  (blocked periods) per doctor, deleted with the doctor.
- ``doctors``: the doctor's own booking policy, NULL meaning the clinic's default.
- ``appointments``: ``blocked_until`` (end plus the doctor's buffer at booking time),
  ``late_cancellation`` and ``rescheduled_from`` (the history copy a reschedule leaves).
- ``idempotency_keys``: one booking per user and key, stored in the booking's transaction.
- The doctor's no-overlap guarantee (same name as in 0001) now covers [start, blocked_until):
  the buffer is as race-safe as the appointment itself. A NULL ``blocked_until`` counts as
  ``end_at``. The patient's guarantee keeps [start, end).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.String(26), "sqlite")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ACTIVE = "('pending', 'confirmed')"
DOCTOR_NO_OVERLAP = "ex_appointments_doctor_overlap"
PATIENT_NO_OVERLAP = "ex_appointments_patient_overlap"
POLICY_COLUMNS = ("min_notice_minutes", "horizon_days", "buffer_minutes", "max_per_day")
NEW_TABLES = ("idempotency_keys", "availability_exceptions", "availability_rules")
#: Where the doctor's busy time ends, after and before this revision; ``{row}`` is a row
#: prefix ("NEW.", "other.", or none inside a constraint).
BUFFERED_END = "COALESCE({row}blocked_until, {row}end_at)"
PLAIN_END = "{row}end_at"


def _id() -> sa.Column:
    return sa.Column("id", ID, primary_key=True, autoincrement=True)


def _ref(column: str, target: str, **options: str) -> sa.Column:
    return sa.Column(column, ID, sa.ForeignKey(f"{target}.id", **options), nullable=False)


def _required(column: str, type_: sa.types.TypeEngine | type[sa.types.TypeEngine]) -> sa.Column:
    return sa.Column(column, type_, nullable=False)


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    for column in POLICY_COLUMNS:
        op.add_column("doctors", sa.Column(column, sa.Integer, nullable=True))

    op.add_column("appointments", sa.Column("blocked_until", TIMESTAMP, nullable=True))
    op.execute("UPDATE appointments SET blocked_until = end_at")
    op.add_column(
        "appointments",
        sa.Column("late_cancellation", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    if _is_postgres():
        op.add_column("appointments", sa.Column("rescheduled_from", ID, nullable=True))
        op.create_foreign_key(
            "fk_appointments_rescheduled_from",
            "appointments",
            "appointments",
            ["rescheduled_from"],
            ["id"],
        )
    else:  # SQLite adds a column's foreign key only inline
        op.execute(
            "ALTER TABLE appointments ADD COLUMN rescheduled_from INTEGER "
            "REFERENCES appointments (id)"
        )
    # History copies are found by the appointment that moved on (lists leave them out).
    op.create_index(
        "ix_appointments_rescheduled_from",
        "appointments",
        ["rescheduled_from"],
        postgresql_where=sa.text("rescheduled_from IS NOT NULL"),
        sqlite_where=sa.text("rescheduled_from IS NOT NULL"),
    )

    op.create_table(
        "availability_rules",
        _id(),
        _ref("doctor_id", "doctors", ondelete="CASCADE"),
        _required("weekday", sa.Integer),
        _required("start_time", sa.Time),
        _required("end_time", sa.Time),
        _required("valid_from", sa.Date),
        sa.Column("valid_until", sa.Date, nullable=True),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="ck_availability_rules_weekday"),
        sa.CheckConstraint("end_time > start_time", name="ck_availability_rules_time_order"),
        sa.CheckConstraint(
            "valid_until IS NULL OR valid_until >= valid_from",
            name="ck_availability_rules_validity",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_availability_rules_doctor", "availability_rules", ["doctor_id", "weekday"])

    op.create_table(
        "availability_exceptions",
        _id(),
        _ref("doctor_id", "doctors", ondelete="CASCADE"),
        _required("start_at", TIMESTAMP),
        _required("end_at", TIMESTAMP),
        _required("reason", sa.Text),
        sa.CheckConstraint("end_at > start_at", name="ck_availability_exceptions_time_order"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_availability_exceptions_doctor_start",
        "availability_exceptions",
        ["doctor_id", "start_at"],
    )

    op.create_table(
        "idempotency_keys",
        _id(),
        _ref("user_id", "users"),
        _required("key", sa.String(255)),
        _required("fingerprint", sa.String(64)),
        _ref("appointment_id", "appointments"),
        _required("created_at", TIMESTAMP),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "uq_idempotency_keys_user_key", "idempotency_keys", ["user_id", "key"], unique=True
    )

    _replace_doctor_no_overlap(BUFFERED_END)


def downgrade() -> None:
    _replace_doctor_no_overlap(PLAIN_END)
    for table in NEW_TABLES:
        op.drop_table(table)
    op.drop_index("ix_appointments_rescheduled_from", table_name="appointments")
    if _is_postgres():
        op.drop_constraint("fk_appointments_rescheduled_from", "appointments", type_="foreignkey")
    for table, columns in (
        ("appointments", ("rescheduled_from", "late_cancellation", "blocked_until")),
        ("doctors", POLICY_COLUMNS),
    ):
        for column in columns:
            # Plain DROP COLUMN (SQLite 3.35+), not a batch copy of the table, which would
            # lose 0001's triggers.
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")


# -- the doctor's no-overlap guarantee -------------------------------------------------------


def _replace_doctor_no_overlap(end: str) -> None:
    """The doctor's busy time is [start_at, ``end``); ``end`` is one of the templates above."""
    if _is_postgres():
        # Both are made again, the doctor's first: PostgreSQL checks them in the order they
        # were made, so a clash with both still reports the doctor's.
        guarantees = (
            (DOCTOR_NO_OVERLAP, "doctor_id", end.format(row="")),
            (PATIENT_NO_OVERLAP, "patient_id", PLAIN_END.format(row="")),
        )
        for name, _, _ in guarantees:
            op.execute(f"ALTER TABLE appointments DROP CONSTRAINT {name}")
        for name, owner, range_end in guarantees:
            op.execute(
                f"ALTER TABLE appointments ADD CONSTRAINT {name} EXCLUDE USING gist "
                f"({owner} WITH =, tstzrange(start_at, {range_end}, '[)') WITH &&) "
                f"WHERE (status IN {ACTIVE})"
            )
        return
    # SQLite: one trigger per event checks the doctor first, then the patient (as 0001 did,
    # and as the domain does), so a clash with both reports the doctor's.
    watched = ["doctor_id", "end_at", "patient_id", "start_at", "status"]
    if end == BUFFERED_END:
        watched.insert(0, "blocked_until")
    body = "\n".join(
        [
            _sqlite_raise_if_overlap(DOCTOR_NO_OVERLAP, "doctor_id", end),
            _sqlite_raise_if_overlap(PATIENT_NO_OVERLAP, "patient_id", PLAIN_END),
        ]
    )
    for event, suffix in (("INSERT", "insert"), (f"UPDATE OF {', '.join(watched)}", "update")):
        op.execute(f"DROP TRIGGER IF EXISTS trg_appointments_no_overlap_{suffix}")
        op.execute(
            f"CREATE TRIGGER trg_appointments_no_overlap_{suffix} BEFORE {event} ON appointments "
            f"FOR EACH ROW WHEN NEW.status IN {ACTIVE}\nBEGIN\n{body}\nEND"
        )


def _sqlite_raise_if_overlap(name: str, owner: str, end: str) -> str:
    # Half-open intervals: touching ones do not overlap. "IS NOT": NEW.id is NULL before an
    # INSERT assigns it.
    return (
        f"SELECT RAISE(ABORT, '{name}') WHERE EXISTS (SELECT 1 FROM appointments AS other "
        f"WHERE other.{owner} = NEW.{owner} AND other.id IS NOT NEW.id "
        f"AND other.status IN {ACTIVE} "
        f"AND other.start_at < {end.format(row='NEW.')} "
        f"AND NEW.start_at < {end.format(row='other.')});"
    )
