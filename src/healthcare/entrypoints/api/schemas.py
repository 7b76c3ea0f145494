"""Wire formats: ``...In`` schemas validate what clients send, ``...Out`` schemas shape answers.

Field names are the wire names of SPEC section 2; ``data_key`` maps them to the names the use
cases take. Unknown fields are refused (marshmallow's RAISE), so ``id``, ``created_at`` or
``role`` cannot be slipped into a body that does not declare them. Datetimes must carry an
offset and are answered in UTC (``...Z``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any, NamedTuple

import marshmallow as ma
import marshmallow.decorators
import marshmallow.utils
from marshmallow import fields, validate

from healthcare.application.ports import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from healthcare.application.services.accounts import PASSWORD_MAX, PASSWORD_MIN
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
#: The same bound in the OpenAPI document, so clients (and fuzzers) know it.
YEARS_PATTERN = r"^(19[0-9]{2}|2[0-9]{3})-"
#: What the domain accepts as an email (``domain.model.normalize_email``, which strips the
#: surrounding blanks first), documented.
EMAIL = {"pattern": r"^\s*[^@\s\u0000]+@[^@\s\u0000]+\.[^@\s\u0000]+\s*$"}
EMAIL_LENGTH = validate.Length(max=254)
#: What ``check_password_strength`` accepts, documented; the rule itself stays in the use case.
NEW_PASSWORD = {"minLength": PASSWORD_MIN, "maxLength": PASSWORD_MAX}


class UtcDateTime(fields.AwareDateTime):
    """ISO 8601 with an offset on input (naive is refused); UTC with ``Z`` on output."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {"pattern": YEARS_PATTERN, **kwargs.get("metadata", {})}
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if not YEARS[0] <= parsed.year <= YEARS[1]:
            raise ma.ValidationError(f"Must be between the years {YEARS[0]} and {YEARS[1]}.")
        return parsed.astimezone(dt.UTC)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        if value.tzinfo is not dt.UTC:  # what the repositories return is UTC already
            value = value.astimezone(dt.UTC)
        return value.isoformat().replace("+00:00", "Z")


class Id(fields.Integer):
    """A positive id within :data:`MAX_ID`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class QueryId(fields.Integer):
    """An id in a query string, where every value arrives as text."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


#: No NUL character (PostgreSQL's text cannot hold one), said in the OpenAPI document too.
NO_NUL_PATTERN = r"^[^\u0000]*$"


class Text(fields.String):
    """A string the databases can store: bounded, no NUL character, valid Unicode."""

    def __init__(self, limit: validate.Length = SHORT, **kwargs: Any) -> None:
        kwargs["metadata"] = {"pattern": NO_NUL_PATTERN, **kwargs.get("metadata", {})}
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


class OutSchema(ma.Schema):
    """An answer's shape, dumped by a plan made once per schema from its own fields.

    marshmallow's ``dump`` walks, for every field of every item, an accessor, a missing-value
    check and the field's ``serialize``: most of the CPU of a page of 50 appointments. The plan
    reads each attribute (or dict key) directly and calls only the field's own conversion, with
    the same result (``tests/e2e/test_wire_formats.py`` compares the two on every answer schema).
    Other containers, and schemas with dump hooks, take marshmallow's own path.
    """

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        many = self.many if many is None else bool(many)
        if obj is None or self._hooks[ma.decorators.PRE_DUMP] or self._hooks[ma.decorators.POST_DUMP]:
            return super().dump(obj, many=many)
        dump_one = self.__dict__.get("_dump_one") or self._compile()
        return [dump_one(item) for item in obj] if many else dump_one(obj)

    def _compile(self) -> Callable[[Any], Any]:
        steps = [_DumpStep.of(name, field) for name, field in self.dump_fields.items()]
        serialize = super()._serialize
        if self.dict_class is not dict:
            return serialize  # type: ignore[no-any-return]
        accessor, missing = self.get_attribute, ma.missing

        def dump_one(obj: Any) -> Any:
            if type(obj) is dict:  # marshmallow's own look-up: the key, else an attribute
                read = ma.utils.get_value
            elif hasattr(obj, "__getitem__"):  # another container: marshmallow's own path
                return serialize(obj)
            else:
                read = getattr
            out = {}
            for key, name, field, source, convert in steps:
                if source is None:
                    value = field.serialize(name, obj, accessor=accessor)
                    if value is missing:
                        continue
                else:
                    value = read(obj, source, missing)
                    if value is missing:
                        continue
                    value = convert(value, name, obj)
                out[key] = value
            return out

        self._dump_one = dump_one
        return dump_one


class _DumpStep(NamedTuple):
    """One field of an :class:`OutSchema`'s plan: where its value comes from and how it is
    converted."""

    key: str
    name: str
    field: fields.Field
    source: str | None  # the attribute read directly; None: the field's full ``serialize``
    convert: Callable[..., Any]

    @classmethod
    def of(cls, name: str, field: fields.Field) -> _DumpStep:
        key = field.data_key if field.data_key is not None else name
        source = field.attribute if field.attribute is not None else name
        direct = (
            field._CHECK_ATTRIBUTE
            and field.dump_default is ma.missing
            and type(field).get_value is fields.Field.get_value
            and "." not in source
        )
        convert: Callable[..., Any] = field._serialize
        if type(field) is fields.Integer and not field.as_string:
            convert = _to_int
        elif type(field) is fields.String:
            convert = _to_text
        return cls(key, name, field, source if direct else None, convert)


def _to_int(value: Any, attr: str, obj: Any) -> int | None:
    return None if value is None else int(value)


def _to_text(value: Any, attr: str, obj: Any) -> str | None:
    return None if value is None else ma.utils.ensure_text_type(value)


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
    include_history = fields.Boolean(
        data_key="history",
        metadata={"description": "Also list the cancelled copies reschedules leave behind."},
    )


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


class SlotSearchQuery(ListQuery):
    """Slots across doctors: ``start`` and ``end`` (at most 31 days apart), optionally one
    specialization."""

    start = UtcDateTime(required=True)
    end = UtcDateTime(required=True)
    specialization = Text()


class RuleQuery(ListQuery):
    doctor_id = QueryId(data_key="doctor")


class ExceptionQuery(ListQuery):
    doctor_id = QueryId(data_key="doctor")
    start = UtcDateTime()
    end = UtcDateTime()


# -- auth ------------------------------------------------------------------------------------


class CredentialsIn(Body):
    email = Text(validate.Length(min=1, max=320), required=True)
    password = Text(validate.Length(min=1, max=1024), required=True)


class RefreshIn(Body):
    refresh = Text(validate.Length(min=1, max=4096), required=True)


class LogoutIn(Body):
    refresh = Text(validate.Length(min=1, max=4096))


class TokensOut(OutSchema):
    access = fields.String(required=True)
    refresh = fields.String(required=True)


# -- users -----------------------------------------------------------------------------------


class UserOut(OutSchema):
    id = fields.Integer()
    email = fields.String()
    role = fields.String()
    is_active = fields.Boolean()
    created_at = UtcDateTime()


class UserIn(Body):
    email = Text(EMAIL_LENGTH, required=True, metadata=EMAIL)
    password = Text(validate.Length(max=1024), required=True, metadata=NEW_PASSWORD)
    role = fields.String(required=True, validate=choice(Role))
    #: With a doctor or patient role, also create the profile under this name.
    name = Text()
    specialization = Text()


class UserPatch(Body):
    is_active = fields.Boolean(truthy={True}, falsy={False})
    email = Text(EMAIL_LENGTH, metadata=EMAIL)
    password = Text(validate.Length(max=1024), metadata=NEW_PASSWORD)


class LoginOut(TokensOut):
    user = fields.Nested(UserOut)


# -- doctors ---------------------------------------------------------------------------------


class DoctorOut(OutSchema):
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


class SlotOut(OutSchema):
    """A bookable slot in UTC and in the doctor's local time."""

    doctor = fields.Integer()
    start = UtcDateTime()
    end = UtcDateTime()
    local_start = fields.String(metadata={"description": "Start in the doctor's time zone."})
    local_end = fields.String(metadata={"description": "End in the doctor's time zone."})
    timezone = fields.String()


# -- patients --------------------------------------------------------------------------------


class PatientOut(OutSchema):
    id = fields.Integer()
    user_id = fields.Integer(data_key="user")
    name = fields.String()
    email = fields.String()
    phone = fields.String()
    insurance_id = fields.String()
    date_of_birth = fields.Date(allow_none=True)


class PatientPatch(Body):
    name = Text()
    email = Text(EMAIL_LENGTH, metadata=EMAIL)
    phone = Text(validate.Length(max=40))
    insurance_id = Text(validate.Length(max=64))
    date_of_birth = fields.Date(allow_none=True)


class RegisterIn(PatientPatch):
    """A patient signing up: their account and their profile in one."""

    email = Text(EMAIL_LENGTH, required=True, metadata=EMAIL)
    password = Text(validate.Length(max=1024), required=True, metadata=NEW_PASSWORD)
    name = Text(required=True)


class PatientIn(PatientPatch):
    user_id = Id(data_key="user", required=True)
    name = Text(required=True)
    email = Text(EMAIL_LENGTH, required=True, metadata=EMAIL)


class AccountOut(OutSchema):
    """The signed-in user with their profile (``/api/auth/me/``, ``/api/auth/register/``)."""

    user = fields.Nested(UserOut)
    doctor = fields.Nested(DoctorOut, allow_none=True)
    patient = fields.Nested(PatientOut, allow_none=True)


# -- availability ----------------------------------------------------------------------------


class AvailabilityOut(OutSchema):
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


#: Wall-clock times of weekly hours, in the doctor's time zone: "09:00" or "09:00:00".
LOCAL_TIME = {"description": "Local wall-clock time in the doctor's time zone.", "example": "09:00"}
LOCAL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"


class LocalTime(fields.Time):
    """``HH:MM`` or ``HH:MM:SS``, exactly as documented (``time.fromisoformat`` alone would also
    take ``"12"``, fractions and offsets, which the document does not promise)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {**LOCAL_TIME, "pattern": LOCAL_TIME_PATTERN}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.time:
        # The pattern applies to the text sent; validators would only see the parsed time.
        if not isinstance(value, str) or not re.match(LOCAL_TIME_PATTERN, value):
            raise ma.ValidationError("Not a time of day as HH:MM or HH:MM:SS.")
        return super()._deserialize(value, attr, data, **kwargs)  # type: ignore[no-any-return]


class RuleOut(OutSchema):
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


class ExceptionOut(OutSchema):
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


POLICY_FIELDS = {
    "min_notice_minutes": "Minimum notice for a patient's booking, in minutes.",
    "horizon_days": "How far ahead a patient may book, in days.",
    "buffer_minutes": "Free time kept after each appointment, in minutes (binds everyone).",
    "max_per_day": "Most active appointments per local day; null: no cap.",
}


class PolicyOut(OutSchema):
    """The booking policy in force for a doctor, and which parts are the doctor's own."""

    doctor = fields.Integer()
    min_notice_minutes = fields.Integer(metadata={"description": POLICY_FIELDS["min_notice_minutes"]})
    horizon_days = fields.Integer(metadata={"description": POLICY_FIELDS["horizon_days"]})
    buffer_minutes = fields.Integer(metadata={"description": POLICY_FIELDS["buffer_minutes"]})
    max_per_day = fields.Integer(
        allow_none=True, metadata={"description": POLICY_FIELDS["max_per_day"]}
    )
    late_cancel_hours = fields.Integer(
        metadata={"description": "Cancelling closer to the start than this is recorded as late."}
    )
    overrides = fields.Nested(
        "PolicyPatch", metadata={"description": "The doctor's own choices; null: the default."}
    )


class PolicyPatch(Body):
    """Set a doctor's own value, or null to go back to the clinic's default."""

    min_notice_minutes = fields.Integer(strict=True, allow_none=True)
    horizon_days = fields.Integer(strict=True, allow_none=True)
    buffer_minutes = fields.Integer(strict=True, allow_none=True)
    max_per_day = fields.Integer(strict=True, allow_none=True)


class IdempotencyHeaders(ma.Schema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        metadata={
            "description": "Up to 255 printable ASCII characters. A retry with the same key and "
            "body returns the original appointment (201) and books nothing new; the same key "
            "with another body is 422."
        },
    )


# -- appointments ----------------------------------------------------------------------------


class AppointmentOut(OutSchema):
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


class MedicalRecordOut(OutSchema):
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


class AuditEventOut(OutSchema):
    id = fields.Integer()
    at = UtcDateTime()
    actor_id = fields.Integer(data_key="actor", allow_none=True)
    action = fields.String()
    resource = fields.String()
    resource_id = fields.Integer(allow_none=True)
    patient_id = fields.Integer(data_key="patient", allow_none=True)
    outcome = fields.String()


class HealthOut(OutSchema):
    status = fields.String()
