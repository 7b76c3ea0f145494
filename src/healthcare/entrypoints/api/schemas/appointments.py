"""Appointments: booking, changes and the lifecycle."""

from __future__ import annotations

from marshmallow import fields, validate

from healthcare.domain.appointments import Status
from healthcare.entrypoints.api.schemas.common import Body, ListQuery, Out, Patch
from healthcare.entrypoints.api.schemas.fields import (
    Id,
    QueryId,
    Text,
    UtcDateTime,
    choice,
)


class AppointmentQuery(ListQuery):
    status = fields.String(validate=choice(Status))
    doctor_id = QueryId(data_key="doctor")
    patient_id = QueryId(data_key="patient")
    start = UtcDateTime()
    end = UtcDateTime()
    include_history = fields.Boolean(
        data_key="history",
        metadata={"description": "Also list the cancelled copies reschedules leave behind."},
    )


class AppointmentOut(Out):
    id = fields.Integer()
    patient_id = fields.Integer(data_key="patient")
    doctor_id = fields.Integer(data_key="doctor")
    start = UtcDateTime(data_key="datetime")
    end = UtcDateTime()
    status = fields.String(validate=choice(Status))
    reason = fields.String()
    cancellation_reason = fields.String(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    late_cancellation = fields.Boolean(
        metadata={"description": "Cancelled inside the clinic's late-cancellation cut-off."}
    )
    rescheduled_from = fields.Integer(
        allow_none=True,
        metadata={"description": "The cancelled copy of the slot this appointment moved from."},
    )


class AppointmentIn(Body):
    #: Omitted by a patient: themself. Required from an admin.
    patient_id = Id(data_key="patient")
    doctor_id = Id(data_key="doctor", required=True)
    start = UtcDateTime(data_key="datetime", required=True)
    reason = Text(validate.Length(max=1000))
    status = fields.String(
        validate=validate.OneOf([Status.PENDING]),
        metadata={"description": "A new appointment is always pending; nothing else is accepted."},
    )


class AppointmentPatch(Patch):
    start = UtcDateTime(data_key="datetime")
    reason = Text(validate.Length(max=1000))
    status = fields.String(validate=choice(Status))
    cancellation_reason = Text(validate.Length(max=1000), allow_none=True)


class CancelIn(Body):
    reason = Text(validate.Length(max=1000), allow_none=True)
