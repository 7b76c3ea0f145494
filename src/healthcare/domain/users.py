"""Users: who signs in, and in which role."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# The domain's one dependency beyond the standard library: what an address may look like is
# RFC 5321/5322 and IDNA, which this maintained library knows and a pattern does not.
from email_validator import EmailNotValidError, validate_email

from healthcare.domain.entity import Entity
from healthcare.domain.errors import InvalidInput
from healthcare.domain.time import require_aware

#: RFC 5321's limit on a path, which is what a mail server accepts.
EMAIL_MAX_LENGTH = 254


class Role(StrEnum):
    PATIENT = "patient"
    DOCTOR = "doctor"
    ADMIN = "admin"


def normalize_email(email: str) -> str:
    """The address as stored: valid, normalised, and folded to lower case (emails are unique
    case-insensitively).

    Refused: control and other characters RFC 5322 does not allow, quoted local parts, IP
    literals, display names, and domains without a dot. Domains are IDNA-normalised and the
    address NFC-normalised, so one mailbox has one spelling. Deliverability is not checked (no
    DNS look-up at sign-up), and the reserved ``.test`` names are accepted for test data.
    """
    value = email.strip()
    try:
        checked = validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError as error:
        raise InvalidInput(
            "Not a valid email address.", {"email": [f"Not a valid email address: {error}"]}
        ) from None
    normalized = checked.normalized.lower()
    if len(normalized) > EMAIL_MAX_LENGTH:
        raise InvalidInput(
            "Not a valid email address.",
            {"email": [f"At most {EMAIL_MAX_LENGTH} characters."]},
        )
    return normalized


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
