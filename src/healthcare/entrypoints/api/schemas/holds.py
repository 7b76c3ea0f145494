"""Holds (SPEC section 8): a slot kept for a patient while they finish booking."""

from __future__ import annotations

from marshmallow import fields, validate

from healthcare.entrypoints.api.schemas.common import Body, ListQuery, Out
from healthcare.entrypoints.api.schemas.fields import Id, Text, UtcDateTime


class HoldQuery(ListQuery):
    pass


class HoldOut(Out):
    id = fields.Integer()
    doctor = fields.Integer()
    patient = fields.Integer()
    start = UtcDateTime()
    end = UtcDateTime()
    expires_at = UtcDateTime(
        metadata={"description": "Until then the slot is kept; after it, booking is refused."}
    )


class HoldIn(Body):
    #: Omitted by a patient: themself. Required from an admin.
    patient_id = Id(data_key="patient")
    doctor_id = Id(data_key="doctor", required=True)
    start = UtcDateTime(
        data_key="datetime",
        required=True,
        metadata={"description": "A slot start, as the slot search returns them."},
    )


class BookHoldIn(Body):
    reason = Text(validate.Length(max=1000))
