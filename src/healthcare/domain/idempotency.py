"""Idempotent creation: a client's retry with the same key and request creates nothing new.

Every operation that creates something a client would retry after a dropped connection (a
booking, a hold, booking a hold, a medical record, a sign-up) takes an ``Idempotency-Key``. The
key belongs to whoever sent it (``Claim.owner``: the signed-in user, or the anonymous sign-up);
the fingerprint is of the *command* once understood (a booking's doctor, start, patient and
reason), not of the HTTP bytes, so a retry that reorders JSON fields or names the patient
implicitly is still the same request.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime

from healthcare.domain.entity import Entity
from healthcare.domain.errors import IdempotencyKeyReused, InvalidInput
from healthcare.domain.time import require_aware

KEY_MAX = 255
#: The owner of the keys sent with sign-ups, which nobody is signed in to send.
SIGN_UP = "sign-up"


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
        if isinstance(value, date):
            return value.isoformat()
        return value

    canonical = json.dumps({k: plain(v) for k, v in fields.items()}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(owner: str | None, key: str | None, resource: str, **request: object) -> Claim | None:
    """A request's claim on ``key``, fingerprinting ``request``: None without a key, or
    without an owner (the clinic's own batch jobs, which do not retry over HTTP)."""
    if key is None:
        return None
    require_key(key)
    if owner is None:
        return None
    return Claim(owner, key, fingerprint(**request), resource)


def owner_of(user_id: int | None) -> str | None:
    """Whose keys a signed-in user's are; None for the clinic itself."""
    return f"user:{user_id}" if user_id is not None else None


@dataclass(frozen=True)
class Claim:
    """A request's claim on a key: whose key, which key, for which request, creating what."""

    owner: str
    key: str
    fingerprint: str
    resource: str

    def __post_init__(self) -> None:
        require_key(self.key)

    def record(self, resource_id: int, at: datetime) -> IdempotencyRecord:
        return IdempotencyRecord(
            owner=self.owner,
            key=self.key,
            fingerprint=self.fingerprint,
            resource=self.resource,
            resource_id=resource_id,
            created_at=at,
        )


@dataclass(eq=False)
class IdempotencyRecord(Entity):
    """What one key created, and for which request."""

    owner: str
    key: str
    fingerprint: str
    resource: str
    resource_id: int
    created_at: datetime
    id: int | None = None

    def __post_init__(self) -> None:
        require_key(self.key)
        self.created_at = require_aware(self.created_at, "created_at")

    def replay(self, claim: Claim) -> int:
        """The id to answer a retry with; another request under the key is refused."""
        if (claim.fingerprint, claim.resource) != (self.fingerprint, self.resource):
            raise IdempotencyKeyReused()
        return self.resource_id
