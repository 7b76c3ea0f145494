"""The database's guarantees by name, and the domain error each one means when broken.

The migration names every constraint, index and trigger after the entries here; the
repositories turn an ``IntegrityError`` back into the domain error by that name, on PostgreSQL
(the driver reports the constraint name) as on SQLite (which reports the index, the trigger's
RAISE message, or ``table.column`` for a plain unique column).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError

from healthcare.domain.errors import (
    DomainError,
    DuplicateEmail,
    InUse,
    InvalidInput,
    OverlappingAvailability,
    PatientDoubleBooked,
    ProfileAlreadyExists,
    RecordAlreadyExists,
    SlotUnavailable,
)

UNIQUE_EMAIL = "uq_users_email_lower"
UNIQUE_DOCTOR_USER = "uq_doctors_user_id"
UNIQUE_PATIENT_USER = "uq_patients_user_id"
UNIQUE_RECORD_APPOINTMENT = "uq_medical_records_appointment_id"
DOCTOR_NO_OVERLAP = "ex_appointments_doctor_overlap"
PATIENT_NO_OVERLAP = "ex_appointments_patient_overlap"
WINDOW_NO_OVERLAP = "ex_availabilities_overlap"

BROKEN: dict[str, Callable[[], DomainError]] = {
    UNIQUE_EMAIL: DuplicateEmail,
    UNIQUE_DOCTOR_USER: lambda: ProfileAlreadyExists("doctor"),
    UNIQUE_PATIENT_USER: lambda: ProfileAlreadyExists("patient"),
    UNIQUE_RECORD_APPOINTMENT: RecordAlreadyExists,
    DOCTOR_NO_OVERLAP: SlotUnavailable,
    PATIENT_NO_OVERLAP: PatientDoubleBooked,
    WINDOW_NO_OVERLAP: OverlappingAvailability,
}

#: SQLite names a unique single-column index by its column, not by its name.
SQLITE_UNIQUE_COLUMNS = {
    "doctors.user_id": UNIQUE_DOCTOR_USER,
    "patients.user_id": UNIQUE_PATIENT_USER,
    "medical_records.appointment_id": UNIQUE_RECORD_APPOINTMENT,
}

_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (?:index '(?P<index>[^']+)'|(?P<column>\S+))")

# SQLSTATE classes PostgreSQL reports, and SQLite's message for the same failure.
_FOREIGN_KEY = ("23503", "FOREIGN KEY constraint failed")


def constraint_name(error: IntegrityError) -> str | None:
    """The name of the guarantee ``error`` broke, whichever engine raised it."""
    diag = getattr(error.orig, "diag", None)
    if diag is not None:
        return diag.constraint_name
    message = str(error.orig)
    unique = _SQLITE_UNIQUE.search(message)
    if unique:
        return unique["index"] or SQLITE_UNIQUE_COLUMNS.get(unique["column"])
    return message if message in BROKEN else None


def domain_error(error: IntegrityError, *, deleting: bool = False) -> DomainError:
    """The domain error for a broken guarantee; never the raw driver error.

    A foreign key broken by a delete means the row is still referenced; broken by a write, it
    names a row that does not exist. Anything else (NOT NULL, CHECK) is input the domain should
    have refused, still reported as invalid input rather than a crash.
    """
    name = constraint_name(error)
    if name in BROKEN:
        return BROKEN[name]()
    if _is_foreign_key(error):
        if deleting:
            return InUse("Other records still refer to this one.")
        return InvalidInput("It refers to something that does not exist.")
    return InvalidInput("The storage refused the values as inconsistent.")


def _is_foreign_key(error: IntegrityError) -> bool:
    sqlstate, sqlite_message = _FOREIGN_KEY
    return getattr(error.orig, "pgcode", None) == sqlstate or sqlite_message in str(error.orig)
