"""Medical records."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from healthcare.entrypoints.api.schemas.common import Body, ListQuery
from healthcare.entrypoints.api.schemas.fields import (
    TEXT,
    Id,
    QueryId,
    Text,
    UtcDateTime,
)


class RecordQuery(ListQuery):
    patient_id = QueryId(data_key="patient")
    doctor_id = QueryId(data_key="doctor")
    appointment_id = QueryId(data_key="appointment")


class MedicalRecordOut(ma.Schema):
    id = fields.Integer()
    patient_id = fields.Integer(data_key="patient")
    appointment_id = fields.Integer(data_key="appointment")
    doctor_id = fields.Integer(data_key="doctor")
    diagnosis = fields.String()
    treatment = fields.String()
    notes = fields.String()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class MedicalRecordPatch(Body):
    diagnosis = Text(TEXT)
    treatment = Text(TEXT)
    notes = Text(TEXT)


class MedicalRecordIn(MedicalRecordPatch):
    appointment_id = Id(data_key="appointment", required=True)
    #: Optional; when given it must be the appointment's patient.
    patient_id = Id(data_key="patient")
    diagnosis = Text(TEXT, required=True)
