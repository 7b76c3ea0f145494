"""A doctor's calendar: availability windows, weekly hours and blocked periods."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from healthcare.entrypoints.api.schemas.common import Body, ListQuery
from healthcare.entrypoints.api.schemas.fields import (
    Id,
    LocalTime,
    QueryId,
    Text,
    UtcDateTime,
)


class AvailabilityQuery(ListQuery):
    doctor_id = QueryId(data_key="doctor")
    start = UtcDateTime()
    end = UtcDateTime()


class AvailabilityOut(ma.Schema):
    id = fields.Integer()
    doctor_id = fields.Integer(data_key="doctor")
    start = UtcDateTime(data_key="start_time")
    end = UtcDateTime(data_key="end_time")


class AvailabilityPatch(Body):
    start = UtcDateTime(data_key="start_time")
    end = UtcDateTime(data_key="end_time")


class AvailabilityIn(AvailabilityPatch):
    #: Omitted by a doctor: their own profile.
    doctor_id = Id(data_key="doctor")
    start = UtcDateTime(data_key="start_time", required=True)
    end = UtcDateTime(data_key="end_time", required=True)


class RuleQuery(ListQuery):
    doctor_id = QueryId(data_key="doctor")


class RuleOut(ma.Schema):
    id = fields.Integer()
    doctor_id = fields.Integer(data_key="doctor")
    weekday = fields.Integer(metadata={"description": "0 = Monday … 6 = Sunday."})
    start_time = LocalTime()
    end_time = LocalTime()
    valid_from = fields.Date()
    valid_until = fields.Date(allow_none=True)


class RulePatch(Body):
    weekday = fields.Integer(
        strict=True, validate=validate.Range(min=0, max=6), metadata={"description": "0 = Monday."}
    )
    start_time = LocalTime()
    end_time = LocalTime()
    valid_from = fields.Date()
    valid_until = fields.Date(allow_none=True, metadata={"description": "Null: open-ended."})


class RuleIn(RulePatch):
    #: Omitted by a doctor: their own profile.
    doctor_id = Id(data_key="doctor")
    weekday = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=0, max=6),
        metadata={"description": "0 = Monday … 6 = Sunday."},
    )
    start_time = LocalTime(required=True)
    end_time = LocalTime(required=True)
    valid_from = fields.Date(metadata={"description": "Omitted: today, in the doctor's zone."})


class ExceptionQuery(ListQuery):
    doctor_id = QueryId(data_key="doctor")
    start = UtcDateTime()
    end = UtcDateTime()


class ExceptionOut(ma.Schema):
    id = fields.Integer()
    doctor_id = fields.Integer(data_key="doctor")
    start = UtcDateTime(data_key="start_time")
    end = UtcDateTime(data_key="end_time")
    reason = fields.String(
        allow_none=True,
        metadata={"description": "Shown to the doctor and admins only; null to others."},
    )


class ExceptionIn(Body):
    #: Omitted by a doctor: their own profile.
    doctor_id = Id(data_key="doctor")
    start = UtcDateTime(data_key="start_time", required=True)
    end = UtcDateTime(data_key="end_time", required=True)
    reason = Text(validate.Length(max=500))
