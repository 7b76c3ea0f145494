"""The people of the unit tests, and a clock face to read times off.

The appointment under test belongs to DOCTOR and PATIENT; OTHER_DOCTOR and OTHER_PATIENT are
strangers to it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from healthcare.domain.actor import Actor
from healthcare.domain.users import Role

NOW = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)

ADMIN = Actor(user_id=1, role=Role.ADMIN)
DOCTOR = Actor(user_id=2, role=Role.DOCTOR, doctor_id=20)
OTHER_DOCTOR = Actor(user_id=3, role=Role.DOCTOR, doctor_id=30)
PATIENT = Actor(user_id=4, role=Role.PATIENT, patient_id=40)
OTHER_PATIENT = Actor(user_id=5, role=Role.PATIENT, patient_id=50)

#: Every role, by the name the test tables use.
ROLES = {
    "admin": ADMIN,
    "doctor": DOCTOR,
    "other_doctor": OTHER_DOCTOR,
    "patient": PATIENT,
    "other_patient": OTHER_PATIENT,
}


def at(hour: int, minute: int = 0, days: int = 0) -> datetime:
    """An instant on the day of NOW (or ``days`` later), in UTC."""
    return NOW.replace(hour=hour, minute=minute) + timedelta(days=days)
