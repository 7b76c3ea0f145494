"""Users: who signs in, and in which role."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from healthcare.domain.entity import Entity
from healthcare.domain.errors import InvalidInput
from healthcare.domain.time import require_aware

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Role(StrEnum):
    PATIENT = "patient"
    DOCTOR = "doctor"
    ADMIN = "admin"


def normalize_email(email: str) -> str:
    """Emails are unique case-insensitively, so they are stored folded to lower case."""
    value = email.strip().lower()
    if not EMAIL_PATTERN.match(value) or len(value) > 254:
        raise InvalidInput("Not a valid email address.", {"email": ["Not a valid email address."]})
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
