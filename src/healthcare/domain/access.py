"""Whose clinical data an actor sees. The storage puts this scope in the WHERE clause of every
read; the same rule, as written here, decides for one entity already in hand.

A resource outside the scope is absent to the actor (404), never forbidden (403).
"""

from __future__ import annotations

from dataclasses import dataclass

from healthcare.domain.actor import Actor


@dataclass(frozen=True)
class Scope:
    """Admins (and the clinic's own jobs) see everyone's data; a doctor their own appointments,
    the patients they treat (have or had an appointment with) and those patients' records; a
    patient their own. A doctor or patient account without a profile sees nothing."""

    everyone: bool = False
    doctor_id: int | None = None
    patient_id: int | None = None

    @classmethod
    def of(cls, actor: Actor) -> Scope:
        if actor.is_admin:
            return cls(everyone=True)
        if actor.is_doctor:
            return cls(doctor_id=actor.doctor_id)
        return cls(patient_id=actor.patient_id)

    def sees_appointment(self, doctor_id: int, patient_id: int) -> bool:
        return self.everyone or self._is_doctor(doctor_id) or self._is_patient(patient_id)

    def sees_patient(self, patient_id: int, *, treated: bool) -> bool:
        """``treated``: the scope's doctor has (had) an appointment with the patient."""
        return self.everyone or self._is_patient(patient_id) or (self.doctor_id is not None and treated)

    def sees_record(self, patient_id: int, author_id: int, *, treated: bool) -> bool:
        """A doctor reads the records of the patients they treat, whoever wrote them
        (continuity of care), and their own."""
        return self.sees_patient(patient_id, treated=treated) or self._is_doctor(author_id)

    def sees_blocked_reason(self, doctor_id: int) -> bool:
        """Everyone signed in sees when a doctor is away; only the doctor and admins see why
        (the reason may be personal)."""
        return self.everyone or self._is_doctor(doctor_id)

    def _is_doctor(self, doctor_id: int) -> bool:
        return self.doctor_id is not None and self.doctor_id == doctor_id

    def _is_patient(self, patient_id: int) -> bool:
        return self.patient_id is not None and self.patient_id == patient_id
