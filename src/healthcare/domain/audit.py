"""Audit trail of every access to protected health information."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from healthcare.domain.entity import Entity


class Action(StrEnum):
    READ = "read"
    LIST = "list"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"


class Resource(StrEnum):
    MEDICAL_RECORD = "medical_record"
    PATIENT = "patient"
    #: A fetch of a doctor's calendar feed, which names their patients.
    CALENDAR_FEED = "calendar_feed"


@dataclass(eq=False)
class AuditEvent(Entity):
    at: datetime
    actor_id: int | None
    action: Action
    resource: Resource
    resource_id: int | None
    patient_id: int | None
    outcome: Outcome = Outcome.ALLOWED
    id: int | None = None
