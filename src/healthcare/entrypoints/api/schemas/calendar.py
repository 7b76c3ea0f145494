"""A doctor's calendar: availability windows, weekly hours and blocked periods."""

from __future__ import annotations

from marshmallow import fields, validate

from healthcare.entrypoints.api.schemas.common import Body, ListQuery, Out, Patch
from healthcare.entrypoints.api.schemas.fields import (
    Day,
    Id,
    LocalTime,
    QueryId,
    Text,
    UtcDateTime,
    Whole,
)


class AvailabilityQuery(ListQuery):
    doctor_id = QueryId(data_key="doctor")
    start = UtcDateTime()
    end = UtcDateTime()


class AvailabilityOut(Out):
    id = fields.Integer()
    doctor_id = fields.Integer(data_key="doctor")
    start = UtcDateTime(data_key="start_time")
    end = UtcDateTime(data_key="end_time")


class AvailabilityPatch(Patch):
    start = UtcDateTime(data_key="start_time")
    end = UtcDateTime(data_key="end_time")


class AvailabilityIn(AvailabilityPatch):
    #: Omitted by a doctor: their own profile.
    doctor_id = Id(data_key="doctor")
    start = UtcDateTime(data_key="start_time", required=True)
    end = UtcDateTime(data_key="end_time", required=True)


class RuleQuery(ListQuery):
    doctor_id = QueryId(data_key="doctor")


WEEKDAY = {"description": "0 = Monday … 6 = Sunday."}


class RuleOut(Out):
    id = fields.Integer()
    doctor_id = fields.Integer(data_key="doctor")
    weekday = fields.Integer(validate=validate.Range(min=0, max=6), metadata=WEEKDAY)
    start_time = LocalTime()
    end_time = LocalTime()
    valid_from = Day()
    valid_until = Day(allow_none=True, metadata={"description": "Null: open-ended."})


class RulePatch(Patch):
    weekday = Whole(validate=validate.Range(min=0, max=6), metadata=WEEKDAY)
    start_time = LocalTime()
    end_time = LocalTime()
    valid_from = Day()
    valid_until = Day(allow_none=True, metadata={"description": "Null: open-ended."})


class RuleIn(RulePatch):
    #: Omitted by a doctor: their own profile.
    doctor_id = Id(data_key="doctor")
    weekday = Whole(required=True, validate=validate.Range(min=0, max=6), metadata=WEEKDAY)
    start_time = LocalTime(required=True)
    end_time = LocalTime(required=True)
    valid_from = Day(metadata={"description": "Omitted: today, in the doctor's zone."})


class ExceptionQuery(ListQuery):
    doctor_id = QueryId(data_key="doctor")
    start = UtcDateTime()
    end = UtcDateTime()


class ExceptionOut(Out):
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
