"""Medical records."""

from __future__ import annotations

from marshmallow import fields

from healthcare.entrypoints.api.schemas.common import ListQuery, Out, Patch
from healthcare.entrypoints.api.schemas.fields import (
    TEXT,
    Id,
    Name,
    QueryId,
    Text,
    UtcDateTime,
)


class RecordQuery(ListQuery):
    patient_id = QueryId(data_key="patient")
    doctor_id = QueryId(data_key="doctor")
    appointment_id = QueryId(data_key="appointment")


class MedicalRecordOut(Out):
    id = fields.Integer()
    patient_id = fields.Integer(data_key="patient")
    appointment_id = fields.Integer(data_key="appointment")
    doctor_id = fields.Integer(data_key="doctor")
    diagnosis = fields.String()
    treatment = fields.String()
    notes = fields.String()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class MedicalRecordPatch(Patch):
    diagnosis = Name(TEXT)
    treatment = Text(TEXT)
    notes = Text(TEXT)


class MedicalRecordIn(MedicalRecordPatch):
    appointment_id = Id(data_key="appointment", required=True)
    #: Optional; when given it must be the appointment's patient.
    patient_id = Id(data_key="patient")
    diagnosis = Name(TEXT, required=True)
