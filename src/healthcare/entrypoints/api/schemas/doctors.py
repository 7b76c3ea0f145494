"""Doctors, their booking policy and their free slots."""

from __future__ import annotations


import marshmallow as ma
from marshmallow import fields, validate

from healthcare.domain.doctors import MAX_APPOINTMENT_MINUTES, MIN_APPOINTMENT_MINUTES
from healthcare.domain.policy import LIMITS
from healthcare.entrypoints.api.schemas.common import ListQuery, Out, Patch
from healthcare.entrypoints.api.schemas.fields import Id, Name, Text, UtcDateTime, Whole


class DoctorQuery(ListQuery):
    specialization = Text()


#: The shape of an IANA zone name. Which names exist is the server's time zone database's to
#: say (``domain.time.zone``), not an enum: it changes with tzdata, and an enum of ~600 names
#: makes generated clients unusable (several names differ only in ``+``/``-``).
TIME_ZONE_PATTERN = r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$"


class DoctorOut(Out):
    id = fields.Integer()
    user_id = fields.Integer(data_key="user")
    name = fields.String()
    specialization = fields.String()
    appointment_minutes = fields.Integer()
    timezone = fields.String(metadata={"description": "An IANA time zone name."})


class DoctorPatch(Patch):
    name = Name()
    specialization = Name()
    appointment_minutes = Whole(
        validate=validate.Range(min=MIN_APPOINTMENT_MINUTES, max=MAX_APPOINTMENT_MINUTES),
        metadata={"description": "How long one appointment lasts; default 30."},
    )
    timezone = Text(
        validate.Length(max=64),
        metadata={
            "description": "An IANA time zone name the server knows, such as Europe/Berlin; "
            "default UTC.",
            "pattern": TIME_ZONE_PATTERN,
        },
    )
    weekly_hours = fields.String(
        validate=validate.OneOf(["keep_local_times"]),
        metadata={
            "description": "With a new time zone while the doctor has weekly hours (required "
            "then, else 409): keep_local_times keeps them at the same local times in the new "
            "zone; refused (409) if an active appointment would then lie outside the calendar."
        },
    )


class DoctorIn(DoctorPatch):
    class Meta(DoctorPatch.Meta):  # type: ignore[name-defined]
        exclude = ("weekly_hours",)

    user_id = Id(data_key="user", required=True)
    name = Name(required=True)
    specialization = Name(required=True)


class SlotQuery(ma.Schema):
    start = UtcDateTime(required=True)
    end = UtcDateTime(required=True)


class SlotSearchQuery(ListQuery):
    """Slots across doctors: ``start`` and ``end`` (at most 31 days apart), optionally one
    specialization."""

    start = UtcDateTime(required=True)
    end = UtcDateTime(required=True)
    specialization = Text()


class SlotOut(Out):
    """A bookable slot in UTC and in the doctor's local time."""

    doctor = fields.Integer()
    start = UtcDateTime()
    end = UtcDateTime()
    local_start = fields.String(metadata={"description": "Start in the doctor's time zone."})
    local_end = fields.String(metadata={"description": "End in the doctor's time zone."})
    timezone = fields.String()


def _policy_field(
    name: str, *, nullable: bool = True, kind: type[fields.Integer] = fields.Integer
) -> fields.Integer:
    """A policy field documented and bounded by ``domain.policy.LIMITS``."""
    limit = LIMITS[name]
    return kind(
        allow_none=nullable,
        validate=validate.Range(min=limit.low, max=limit.high),
        metadata={"description": limit.description},
    )


class PolicyPatch(Patch):
    """Set a doctor's own value, or null to go back to the clinic's default."""

    min_notice_minutes = _policy_field("min_notice_minutes", kind=Whole)
    horizon_days = _policy_field("horizon_days", kind=Whole)
    buffer_minutes = _policy_field("buffer_minutes", kind=Whole)
    max_per_day = _policy_field("max_per_day", kind=Whole)


class PolicyChoicesOut(Out):
    """The doctor's own choices; null: the clinic's default applies."""

    min_notice_minutes = _policy_field("min_notice_minutes")
    horizon_days = _policy_field("horizon_days")
    buffer_minutes = _policy_field("buffer_minutes")
    max_per_day = _policy_field("max_per_day")


class PolicyOut(Out):
    """The booking policy in force for a doctor, and which parts are the doctor's own."""

    doctor = fields.Integer()
    min_notice_minutes = _policy_field("min_notice_minutes", nullable=False)
    horizon_days = _policy_field("horizon_days", nullable=False)
    buffer_minutes = _policy_field("buffer_minutes", nullable=False)
    max_per_day = _policy_field("max_per_day")
    late_cancel_hours = _policy_field("late_cancel_hours", nullable=False)
    overrides = fields.Nested(PolicyChoicesOut)
