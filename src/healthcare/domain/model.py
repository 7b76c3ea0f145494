"""Entities of the clinic. Entities compare by id; a new entity has ``id=None`` until stored."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from healthcare.domain.errors import InvalidInput
from healthcare.domain.policy import PolicyOverrides
from healthcare.domain.time import require_aware, zone

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_APPOINTMENT_MINUTES = 5
MAX_APPOINTMENT_MINUTES = 8 * 60


class Role(StrEnum):
    PATIENT = "patient"
    DOCTOR = "doctor"
    ADMIN = "admin"


class Entity:
    """Identity equality: two objects are the same entity when they have the same stored id."""

    id: int | None

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self) or self.id is None:
            return other is self
        return self.id == other.id  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.id)) if self.id is not None else id(self)


def normalize_email(email: str) -> str:
    """Emails are unique case-insensitively, so they are stored folded to lower case."""
    value = email.strip().lower()
    if not EMAIL_PATTERN.match(value) or len(value) > 254:
        raise InvalidInput("Not a valid email address.", {"email": ["Not a valid email address."]})
    return value


def require_text(value: str, field_name: str, max_length: int, *, allow_empty: bool = False) -> str:
    value = value.strip()
    if not value and not allow_empty:
        raise InvalidInput(f"{field_name} must not be empty.", {field_name: ["Must not be empty."]})
    if len(value) > max_length:
        raise InvalidInput(
            f"{field_name} is longer than {max_length} characters.",
            {field_name: [f"At most {max_length} characters."]},
        )
    return value


@dataclass(eq=False)
class User(Entity):
    email: str
    password_hash: str = field(repr=False)
    role: Role
    created_at: datetime
    is_active: bool = True
    id: int | None = None

    def __post_init__(self) -> None:
        self.email = normalize_email(self.email)
        self.role = Role(self.role)
        self.created_at = require_aware(self.created_at, "created_at")


@dataclass(eq=False)
class Doctor(Entity):
    user_id: int
    name: str
    specialization: str
    appointment_minutes: int = 30
    timezone: str = "UTC"
    id: int | None = None
    #: The doctor's own booking policy; what it leaves unset is the clinic's default.
    policy: PolicyOverrides = field(default_factory=PolicyOverrides)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        self.name = require_text(self.name, "name", 200)
        self.specialization = require_text(self.specialization, "specialization", 200)
        if not MIN_APPOINTMENT_MINUTES <= self.appointment_minutes <= MAX_APPOINTMENT_MINUTES:
            raise InvalidInput(
                f"appointment_minutes must be between {MIN_APPOINTMENT_MINUTES} "
                f"and {MAX_APPOINTMENT_MINUTES}.",
                {"appointment_minutes": ["Out of range."]},
            )
        zone(self.timezone)


@dataclass(eq=False)
class Patient(Entity):
    user_id: int
    name: str
    email: str
    phone: str = ""
    insurance_id: str = ""
    date_of_birth: date | None = None
    id: int | None = None

    #: The fields a patient may change on their own profile.
    CONTACT_FIELDS = frozenset({"name", "email", "phone"})

    def __post_init__(self) -> None:
        self.validate(today=None)

    def validate(self, today: date | None) -> None:
        self.name = require_text(self.name, "name", 200)
        self.email = normalize_email(self.email)
        self.phone = require_text(self.phone, "phone", 40, allow_empty=True)
        self.insurance_id = require_text(self.insurance_id, "insurance_id", 64, allow_empty=True)
        if today is not None and self.date_of_birth is not None and self.date_of_birth > today:
            raise InvalidInput(
                "date_of_birth is in the future.", {"date_of_birth": ["Must not be in the future."]}
            )
