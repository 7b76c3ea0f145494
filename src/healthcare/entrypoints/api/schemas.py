"""Wire formats: ``...In`` schemas validate what clients send, ``...Out`` schemas shape answers.

Field names are the wire names of SPEC section 2; ``data_key`` maps them to the names the use
cases take. Unknown fields are refused (marshmallow's RAISE), so ``id``, ``created_at`` or
``role`` cannot be slipped into a body that does not declare them. Datetimes must carry an
offset and are answered in UTC (``...Z``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from healthcare.application.ports import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from healthcare.domain.appointments import Status
from healthcare.domain.audit import Action, Outcome, Resource
from healthcare.domain.model import Role

#: Ids are 64-bit in every supported database (PostgreSQL ``bigint``, SQLite ``integer``);
#: a larger one is refused as input instead of overflowing in the database.
MAX_ID = 2**63 - 1
MAX_PAGE = 1_000_000
TEXT = validate.Length(max=20_000)
SHORT = validate.Length(max=200)


#: Instants outside these years are refused: far ones overflow date arithmetic, and no clinic
#: books them.
YEARS = (1900, 2999)


class UtcDateTime(fields.AwareDateTime):
    """ISO 8601 with an offset on input (naive is refused); UTC with ``Z`` on output."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if not YEARS[0] <= parsed.year <= YEARS[1]:
            raise ma.ValidationError(f"Must be between the years {YEARS[0]} and {YEARS[1]}.")
        return parsed.astimezone(dt.UTC)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


class Id(fields.Integer):
    """A positive id within :data:`MAX_ID`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class QueryId(fields.Integer):
    """An id in a query string, where every value arrives as text."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class Text(fields.String):
    """A string the databases can store: bounded, no NUL character, valid Unicode."""

    def __init__(self, limit: validate.Length = SHORT, **kwargs: Any) -> None:
        super().__init__(validate=limit, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ma.ValidationError("Must not contain NUL characters.")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ma.ValidationError("Not valid Unicode text.") from None
        return text


def choice(values: Any) -> validate.OneOf:
    return validate.OneOf([str(v) for v in values])


class Body(ma.Schema):
    """A request body: a JSON object with known fields only."""

    class Meta:
        unknown = ma.RAISE


# -- lists -----------------------------------------------------------------------------------


class ListQuery(ma.Schema):
    """``page`` from 1 and ``page_size`` from 1 to 100; filters come from subclasses."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    page_size = fields.Integer(
        load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(min=1, max=MAX_PAGE_SIZE)
    )


class DoctorQuery(ListQuery):
    specialization = Text()


class UserQuery(ListQuery):
    role = fields.String(validate=choice(Role))


class AvailabilityQuery(ListQuery):
    doctor_id = QueryId(data_key="doctor")
    start = UtcDateTime()
    end = UtcDateTime()


class AppointmentQuery(ListQuery):
    status = fields.String(validate=choice(Status))
    doctor_id = QueryId(data_key="doctor")
    patient_id = QueryId(data_key="patient")
    start = UtcDateTime()
    end = UtcDateTime()


class RecordQuery(ListQuery):
    patient_id = QueryId(data_key="patient")
    doctor_id = QueryId(data_key="doctor")
    appointment_id = QueryId(data_key="appointment")


class AuditQuery(ListQuery):
    actor_id = QueryId(data_key="actor")
    patient_id = QueryId(data_key="patient")
    resource = fields.String(validate=choice(Resource))
    action = fields.String(validate=choice(Action))
    outcome = fields.String(validate=choice(Outcome))
    start = UtcDateTime()
    end = UtcDateTime()


class SlotQuery(ma.Schema):
    start = UtcDateTime(required=True)
    end = UtcDateTime(required=True)


# -- auth ------------------------------------------------------------------------------------


class CredentialsIn(Body):
    email = Text(validate.Length(min=1, max=320), required=True)
    password = Text(validate.Length(min=1, max=1024), required=True)


class RefreshIn(Body):
    refresh = Text(validate.Length(min=1, max=4096), required=True)


class LogoutIn(Body):
    refresh = Text(validate.Length(min=1, max=4096))


class TokensOut(ma.Schema):
    access = fields.String(required=True)
    refresh = fields.String(required=True)


# -- users -----------------------------------------------------------------------------------


class UserOut(ma.Schema):
    id = fields.Integer()
    email = fields.String()
    role = fields.String()
    is_active = fields.Boolean()
    created_at = UtcDateTime()


class UserIn(Body):
    email = Text(validate.Length(max=320), required=True)
    password = Text(validate.Length(max=1024), required=True)
    role = fields.String(required=True, validate=choice(Role))
    #: With a doctor or patient role, also create the profile under this name.
    name = Text()
    specialization = Text()


class UserPatch(Body):
    is_active = fields.Boolean(truthy={True}, falsy={False})
    email = Text(validate.Length(max=320))
    password = Text(validate.Length(max=1024))


class LoginOut(TokensOut):
    user = fields.Nested(UserOut)


# -- doctors ---------------------------------------------------------------------------------


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


class SlotOut(ma.Schema):
    doctor = fields.Integer()
    start = UtcDateTime()
    end = UtcDateTime()
    local_start = fields.String(metadata={"description": "Start in the doctor's time zone."})
    local_end = fields.String(metadata={"description": "End in the doctor's time zone."})
    timezone = fields.String()


# -- patients --------------------------------------------------------------------------------


class PatientOut(ma.Schema):
    id = fields.Integer()
    user_id = fields.Integer(data_key="user")
    name = fields.String()
    email = fields.String()
    phone = fields.String()
    insurance_id = fields.String()
    date_of_birth = fields.Date(allow_none=True)


class PatientPatch(Body):
    name = Text()
    email = Text(validate.Length(max=320))
    phone = Text(validate.Length(max=40))
    insurance_id = Text(validate.Length(max=64))
    date_of_birth = fields.Date(allow_none=True)


class RegisterIn(PatientPatch):
    """A patient signing up: their account and their profile in one."""

    email = Text(validate.Length(max=320), required=True)
    password = Text(validate.Length(max=1024), required=True)
    name = Text(required=True)


class PatientIn(PatientPatch):
    user_id = Id(data_key="user", required=True)
    name = Text(required=True)
    email = Text(validate.Length(max=320), required=True)


class AccountOut(ma.Schema):
    """The signed-in user with their profile (``/api/auth/me/``, ``/api/auth/register/``)."""

    user = fields.Nested(UserOut)
    doctor = fields.Nested(DoctorOut, allow_none=True)
    patient = fields.Nested(PatientOut, allow_none=True)


# -- availability ----------------------------------------------------------------------------


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


# -- appointments ----------------------------------------------------------------------------


class AppointmentOut(ma.Schema):
    id = fields.Integer()
    patient_id = fields.Integer(data_key="patient")
    doctor_id = fields.Integer(data_key="doctor")
    start = UtcDateTime(data_key="datetime")
    end = UtcDateTime()
    status = fields.String()
    reason = fields.String()
    cancellation_reason = fields.String(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class AppointmentIn(Body):
    #: Omitted by a patient: themself. Required from an admin.
    patient_id = Id(data_key="patient")
    doctor_id = Id(data_key="doctor", required=True)
    start = UtcDateTime(data_key="datetime", required=True)
    reason = Text(validate.Length(max=1000))
    #: Only "pending" is accepted (a new appointment is always pending).
    status = Text(validate.Length(max=32))


class AppointmentPatch(Body):
    start = UtcDateTime(data_key="datetime")
    reason = Text(validate.Length(max=1000))
    status = fields.String(validate=choice(Status))
    cancellation_reason = Text(validate.Length(max=1000), allow_none=True)


class CancelIn(Body):
    reason = Text(validate.Length(max=1000), allow_none=True)


# -- medical records -------------------------------------------------------------------------


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


# -- audit -----------------------------------------------------------------------------------


class AuditEventOut(ma.Schema):
    id = fields.Integer()
    at = UtcDateTime()
    actor_id = fields.Integer(data_key="actor", allow_none=True)
    action = fields.String()
    resource = fields.String()
    resource_id = fields.Integer(allow_none=True)
    patient_id = fields.Integer(data_key="patient", allow_none=True)
    outcome = fields.String()


class HealthOut(ma.Schema):
    status = fields.String()
