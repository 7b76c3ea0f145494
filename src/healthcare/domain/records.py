"""Medical records and who may write or read them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from healthcare.domain.actor import Actor
from healthcare.domain.appointments import Appointment, Status
from healthcare.domain.entity import Entity
from healthcare.domain.errors import (
    InvalidInput,
    PermissionDenied,
    TransitionNotAllowed,
)
from healthcare.domain.text import require_text

TEXT_MAX = 20_000


@dataclass(eq=False)
class MedicalRecord(Entity):
    patient_id: int
    appointment_id: int
    doctor_id: int
    diagnosis: str
    created_at: datetime
    updated_at: datetime
    treatment: str = ""
    notes: str = ""
    id: int | None = None

    def __post_init__(self) -> None:
        self.diagnosis = require_text(self.diagnosis, "diagnosis", TEXT_MAX)
        self.treatment = require_text(self.treatment or "", "treatment", TEXT_MAX, allow_empty=True)
        self.notes = require_text(self.notes or "", "notes", TEXT_MAX, allow_empty=True)

    @classmethod
    def write_for(
        cls,
        appointment: Appointment,
        actor: Actor,
        now: datetime,
        *,
        diagnosis: str,
        treatment: str = "",
        notes: str = "",
        patient_id: int | None = None,
    ) -> MedicalRecord:
        """Only the appointment's doctor writes, for that appointment's patient, once it stands."""
        if not (actor.is_doctor and actor.doctor_id == appointment.doctor_id):
            raise PermissionDenied("Only the appointment's doctor writes its medical record.")
        if patient_id is not None and patient_id != appointment.patient_id:
            raise InvalidInput(
                "The record's patient must be the appointment's patient.",
                {"patient": ["Not the appointment's patient."]},
            )
        if appointment.status is Status.CANCELLED:
            raise TransitionNotAllowed(
                appointment.status, "recorded", "a cancelled appointment has no record"
            )
        assert appointment.id is not None
        return cls(
            patient_id=appointment.patient_id,
            appointment_id=appointment.id,
            doctor_id=appointment.doctor_id,
            diagnosis=diagnosis,
            treatment=treatment,
            notes=notes,
            created_at=now,
            updated_at=now,
        )

    def is_author(self, actor: Actor) -> bool:
        return actor.is_doctor and actor.doctor_id == self.doctor_id

    def revise(self, actor: Actor, now: datetime, **changes: str) -> None:
        if not self.is_author(actor):
            raise PermissionDenied("Only the author updates a medical record.")
        for name in ("diagnosis", "treatment", "notes"):
            if name in changes and changes[name] is not None:
                setattr(self, name, changes[name])
        self.__post_init__()
        self.updated_at = now
