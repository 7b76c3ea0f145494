"""Patients: whose appointments and records these are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from healthcare.domain.entity import Entity
from healthcare.domain.errors import InvalidInput
from healthcare.domain.text import require_text
from healthcare.domain.users import normalize_email


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
