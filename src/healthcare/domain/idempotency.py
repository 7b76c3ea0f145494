"""Idempotent booking: a client's retry with the same key and request books nothing new.

The key is the client's (``Idempotency-Key`` header), scoped to the signed-in user. The
fingerprint is of the *command* after it is understood (doctor, start, patient, reason), not
of the HTTP bytes, so a retry that reorders JSON fields or names the patient implicitly is still
the same request.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from healthcare.domain.entity import Entity
from healthcare.domain.errors import IdempotencyKeyReused, InvalidInput
from healthcare.domain.time import require_aware

KEY_MAX = 255


def require_key(key: str) -> str:
    """1 to 255 printable ASCII characters (what an HTTP header carries safely)."""
    if not 1 <= len(key) <= KEY_MAX or not all(" " <= char <= "~" for char in key):
        raise InvalidInput(
            f"Idempotency-Key is 1 to {KEY_MAX} printable ASCII characters.",
            {"Idempotency-Key": [f"1 to {KEY_MAX} printable ASCII characters."]},
        )
    return key


def fingerprint(**fields: object) -> str:
    """A stable digest of a command's meaning; datetimes are compared as UTC instants."""

    def plain(value: object) -> object:
        if isinstance(value, datetime):
            return require_aware(value).isoformat()
        return value

    canonical = json.dumps({k: plain(v) for k, v in fields.items()}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(eq=False)
class IdempotencyRecord(Entity):
    """Which appointment a user's key booked, and for which request."""

    user_id: int
    key: str
    fingerprint: str
    appointment_id: int
    created_at: datetime
    id: int | None = None

    def __post_init__(self) -> None:
        require_key(self.key)
        self.created_at = require_aware(self.created_at, "created_at")

    def replay(self, request_fingerprint: str) -> int:
        """The appointment to answer a retry with; another request under the key is refused."""
        if request_fingerprint != self.fingerprint:
            raise IdempotencyKeyReused()
        return self.appointment_id
