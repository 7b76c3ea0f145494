"""The clinic: users and profiles, availability, appointments, records, audit, the outbox and
revoked tokens.

Revision ID: 0001
Revises:
Create Date: 2025-04-01

Every guarantee the application relies on is here, on both engines, under the names
``healthcare.adapters.sqlalchemy.guarantees`` maps back to domain errors (this file repeats
the names rather than importing them, so the revision stays as it was written):
- PostgreSQL: btree_gist exclusion constraints stop overlapping active appointments of one
  doctor or one patient, and overlapping windows of one doctor.
- SQLite: BEFORE INSERT / BEFORE UPDATE triggers do the same and RAISE(ABORT, '<name>').
Unique indexes, CHECKs and foreign keys are common to both.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

#: Sortable UTC text on SQLite: see healthcare.adapters.sqlalchemy.types.UtcDateTime.
TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.String(26), "sqlite")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ACTIVE = "('pending', 'confirmed')"
TABLES = (
    "users",
    "doctors",
    "patients",
    "availabilities",
    "appointments",
    "medical_records",
    "audit_events",
    "outbox_messages",
    "revoked_tokens",
)


def _id() -> sa.Column:
    return sa.Column("id", ID, primary_key=True, autoincrement=True)


def _ref(column: str, target: str, **options: str) -> sa.Column:
    return sa.Column(column, ID, sa.ForeignKey(f"{target}.id", **options), nullable=False)


def _required(column: str, type_: sa.types.TypeEngine | type[sa.types.TypeEngine]) -> sa.Column:
    return sa.Column(column, type_, nullable=False)


def _one_of(name: str, column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=name)


def _create_table(name: str, *columns: sa.SchemaItem) -> None:
    # AUTOINCREMENT on SQLite: ids are never reused after a delete, as on PostgreSQL, so an
    # audit event's resource id never comes to name a different row.
    op.create_table(name, *columns, sqlite_autoincrement=True)


def upgrade() -> None:
    _create_table(
        "users",
        _id(),
        _required("email", sa.String(254)),
        _required("password_hash", sa.String(255)),
        _required("role", sa.String(16)),
        _required("is_active", sa.Boolean),
        _required("created_at", TIMESTAMP),
        _one_of("ck_users_role", "role", ("patient", "doctor", "admin")),
    )
    op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)

    _create_table(
        "doctors",
        _id(),
        _ref("user_id", "users"),
        _required("name", sa.String(200)),
        _required("specialization", sa.String(200)),
        _required("appointment_minutes", sa.Integer),
        _required("timezone", sa.String(64)),
        sa.UniqueConstraint("user_id", name="uq_doctors_user_id"),
        sa.CheckConstraint("appointment_minutes > 0", name="ck_doctors_appointment_minutes"),
    )

    _create_table(
        "patients",
        _id(),
        _ref("user_id", "users"),
        _required("name", sa.String(200)),
        _required("email", sa.String(254)),
        _required("phone", sa.String(40)),
        _required("insurance_id", sa.String(64)),
        sa.Column("date_of_birth", sa.Date, nullable=True),
        sa.UniqueConstraint("user_id", name="uq_patients_user_id"),
    )

    _create_table(
        "availabilities",
        _id(),
        # A doctor's windows go with the doctor; appointments and records keep them alive.
        _ref("doctor_id", "doctors", ondelete="CASCADE"),
        _required("start_time", TIMESTAMP),
        _required("end_time", TIMESTAMP),
        sa.CheckConstraint("end_time > start_time", name="ck_availabilities_time_order"),
    )
    op.create_index("ix_availabilities_doctor_start", "availabilities", ["doctor_id", "start_time"])

    _create_table(
        "appointments",
        _id(),
        _ref("patient_id", "patients"),
        _ref("doctor_id", "doctors"),
        _required("start_at", TIMESTAMP),
        _required("end_at", TIMESTAMP),
        _required("status", sa.String(16)),
        _required("reason", sa.Text),
        sa.Column("cancellation_reason", sa.Text, nullable=True),
        _required("created_at", TIMESTAMP),
        _required("updated_at", TIMESTAMP),
        sa.CheckConstraint("end_at > start_at", name="ck_appointments_time_order"),
        _one_of(
            "ck_appointments_status",
            "status",
            ("pending", "confirmed", "completed", "cancelled", "no_show"),
        ),
    )
    # Not partial: a doctor's and a patient's lists show every status in start order, and
    # the overlap look-up (active only) filters the few rows around one start.
    op.create_index("ix_appointments_doctor_start", "appointments", ["doctor_id", "start_at"])
    op.create_index("ix_appointments_patient_start", "appointments", ["patient_id", "start_at"])

    _create_table(
        "medical_records",
        _id(),
        _ref("patient_id", "patients"),
        _ref("appointment_id", "appointments"),
        _ref("doctor_id", "doctors"),
        _required("diagnosis", sa.Text),
        _required("treatment", sa.Text),
        _required("notes", sa.Text),
        _required("created_at", TIMESTAMP),
        _required("updated_at", TIMESTAMP),
        sa.UniqueConstraint("appointment_id", name="uq_medical_records_appointment_id"),
    )
    op.create_index("ix_medical_records_patient", "medical_records", ["patient_id"])
    op.create_index("ix_medical_records_doctor", "medical_records", ["doctor_id"])

    # No foreign keys: the trail records attempts on ids that may not exist.
    _create_table(
        "audit_events",
        _id(),
        _required("at", TIMESTAMP),
        sa.Column("actor_id", ID, nullable=True),
        _required("action", sa.String(16)),
        _required("resource", sa.String(32)),
        sa.Column("resource_id", ID, nullable=True),
        sa.Column("patient_id", ID, nullable=True),
        _required("outcome", sa.String(16)),
        _one_of("ck_audit_events_action", "action", ("read", "list", "create", "update", "delete")),
        _one_of("ck_audit_events_outcome", "outcome", ("allowed", "denied")),
    )
    op.create_index("ix_audit_events_patient", "audit_events", ["patient_id"])
    op.create_index("ix_audit_events_actor", "audit_events", ["actor_id"])

    _create_table(
        "outbox_messages",
        _id(),
        _required("key", sa.String(255)),
        _required("recipient", sa.String(254)),
        _required("subject", sa.String(255)),
        _required("body", sa.Text),
        _required("created_at", TIMESTAMP),
        sa.Column("sent_at", TIMESTAMP, nullable=True),
        # Writing the same message twice is a no-op: that is what makes the jobs idempotent.
        sa.UniqueConstraint("key", name="uq_outbox_messages_key"),
    )
    op.create_index(
        "ix_outbox_messages_unsent",
        "outbox_messages",
        ["id"],
        postgresql_where=sa.text("sent_at IS NULL"),
        sqlite_where=sa.text("sent_at IS NULL"),
    )

    op.create_table(
        "revoked_tokens",
        sa.Column("key", sa.String(255), primary_key=True),
        _required("expires_at", TIMESTAMP),
    )
    op.create_index("ix_revoked_tokens_expires_at", "revoked_tokens", ["expires_at"])

    if op.get_bind().dialect.name == "postgresql":
        _postgres_no_overlap()
    else:
        _sqlite_no_overlap()


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)  # with its indexes, constraints and triggers
    # btree_gist stays: other databases' objects in the cluster may use it.


# -- no overlapping intervals ---------------------------------------------------------------

#: (name, table, owner column, start, end, only active appointments)
NO_OVERLAP = (
    ("ex_appointments_doctor_overlap", "appointments", "doctor_id", "start_at", "end_at", True),
    ("ex_appointments_patient_overlap", "appointments", "patient_id", "start_at", "end_at", True),
    ("ex_availabilities_overlap", "availabilities", "doctor_id", "start_time", "end_time", False),
)


def _postgres_no_overlap() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for name, table, owner, start, end, active_only in NO_OVERLAP:
        where = f" WHERE (status IN {ACTIVE})" if active_only else ""
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} EXCLUDE USING gist "
            f"({owner} WITH =, tstzrange({start}, {end}, '[)') WITH &&){where}"
        )


def _sqlite_no_overlap() -> None:
    """One trigger per table and event; its checks run in order, the doctor's first, so a
    clash with both the doctor and the patient reports the doctor's, as the domain does."""
    for table in ("appointments", "availabilities"):
        checks = [check for check in NO_OVERLAP if check[1] == table]
        active_only = checks[0][5]
        watched = sorted({check[2] for check in checks} | {checks[0][3], checks[0][4]})
        if active_only:
            watched.append("status")
        when = f"WHEN NEW.status IN {ACTIVE}" if active_only else ""
        body = "\n".join(_sqlite_raise_if_overlap(*check) for check in checks)
        for event, suffix in (("INSERT", "insert"), (f"UPDATE OF {', '.join(watched)}", "update")):
            op.execute(
                f"CREATE TRIGGER trg_{table}_no_overlap_{suffix} BEFORE {event} ON {table} "
                f"FOR EACH ROW {when}\nBEGIN\n{body}\nEND"
            )


def _sqlite_raise_if_overlap(
    name: str, table: str, owner: str, start: str, end: str, active_only: bool
) -> str:
    # Half-open intervals: touching ones do not overlap. "IS NOT" because NEW.id is NULL
    # before an INSERT assigns it.
    active = f" AND other.status IN {ACTIVE}" if active_only else ""
    return (
        f"SELECT RAISE(ABORT, '{name}') WHERE EXISTS (SELECT 1 FROM {table} AS other "
        f"WHERE other.{owner} = NEW.{owner} AND other.id IS NOT NEW.id{active} "
        f"AND other.{start} < NEW.{end} AND NEW.{start} < other.{end});"
    )
