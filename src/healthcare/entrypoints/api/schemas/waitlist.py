"""The waitlist (SPEC section 8): patients waiting for an earlier slot."""

from __future__ import annotations

from marshmallow import fields

from healthcare.domain.waitlist import EntryStatus
from healthcare.entrypoints.api.schemas.common import Body, ListQuery, Out
from healthcare.entrypoints.api.schemas.fields import Id, UtcDateTime, choice


class WaitlistQuery(ListQuery):
    pass


class WaitlistOut(Out):
    id = fields.Integer()
    doctor = fields.Integer()
    patient = fields.Integer()
    start = UtcDateTime()
    end = UtcDateTime()
    status = fields.String(validate=choice(EntryStatus))
    created_at = UtcDateTime()
    hold = fields.Integer(
        allow_none=True,
        metadata={"description": "The offer: a hold to book (POST /api/holds/{id}/book/)."},
    )


class WaitlistIn(Body):
    #: Omitted by a patient: themself. Required from an admin.
    patient_id = Id(data_key="patient")
    doctor_id = Id(data_key="doctor", required=True)
    start = UtcDateTime(
        required=True, metadata={"description": "Any slot starting at or after this..."}
    )
    end = UtcDateTime(required=True, metadata={"description": "...and before this will do."})
