"""Doctors, their booking policy and their free slots."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from healthcare.domain.policy import LIMITS
from healthcare.entrypoints.api.schemas.common import Body, ListQuery
from healthcare.entrypoints.api.schemas.fields import Id, Text, UtcDateTime


class DoctorQuery(ListQuery):
    specialization = Text()


class DoctorOut(ma.Schema):
    id = fields.Integer()
    user_id = fields.Integer(data_key="user")
    name = fields.String()
    specialization = fields.String()
    appointment_minutes = fields.Integer()
    timezone = fields.String()


class DoctorPatch(Body):
    name = Text()
    specialization = Text()
    appointment_minutes = fields.Integer(strict=True)
    timezone = Text(validate.Length(max=64))


class DoctorIn(DoctorPatch):
    user_id = Id(data_key="user", required=True)
    name = Text(required=True)
    specialization = Text(required=True)


class SlotQuery(ma.Schema):
    start = UtcDateTime(required=True)
    end = UtcDateTime(required=True)


class SlotSearchQuery(ListQuery):
    """Slots across doctors: ``start`` and ``end`` (at most 31 days apart), optionally one
    specialization."""

    start = UtcDateTime(required=True)
    end = UtcDateTime(required=True)
    specialization = Text()


class SlotOut(ma.Schema):
    """A bookable slot in UTC and in the doctor's local time."""

    doctor = fields.Integer()
    start = UtcDateTime()
    end = UtcDateTime()
    local_start = fields.String(metadata={"description": "Start in the doctor's time zone."})
    local_end = fields.String(metadata={"description": "End in the doctor's time zone."})
    timezone = fields.String()


def _policy_field(name: str, **options: Any) -> fields.Integer:
    """A policy field documented and bounded by ``domain.policy.LIMITS``."""
    limit = LIMITS[name]
    return fields.Integer(
        allow_none=True,
        validate=validate.Range(min=limit.low, max=limit.high),
        metadata={"description": limit.description},
        **options,
    )


class PolicyPatch(Body):
    """Set a doctor's own value, or null to go back to the clinic's default."""

    min_notice_minutes = _policy_field("min_notice_minutes", strict=True)
    horizon_days = _policy_field("horizon_days", strict=True)
    buffer_minutes = _policy_field("buffer_minutes", strict=True)
    max_per_day = _policy_field("max_per_day", strict=True)


class PolicyOut(ma.Schema):
    """The booking policy in force for a doctor, and which parts are the doctor's own."""

    doctor = fields.Integer()
    min_notice_minutes = _policy_field("min_notice_minutes")
    horizon_days = _policy_field("horizon_days")
    buffer_minutes = _policy_field("buffer_minutes")
    max_per_day = _policy_field("max_per_day")
    late_cancel_hours = _policy_field("late_cancel_hours")
    overrides = fields.Nested(
        PolicyPatch, metadata={"description": "The doctor's own choices; null: the default."}
    )
