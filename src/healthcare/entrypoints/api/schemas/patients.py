"""Patient profiles."""

from __future__ import annotations

from marshmallow import fields, validate

from healthcare.entrypoints.api.schemas.common import Out, Patch
from healthcare.entrypoints.api.schemas.fields import EMAIL, EMAIL_LENGTH, Day, Id, Name, Text


class PatientOut(Out):
    id = fields.Integer()
    user_id = fields.Integer(data_key="user")
    name = fields.String()
    email = fields.String()
    phone = fields.String()
    insurance_id = fields.String()
    date_of_birth = Day(allow_none=True)


class PatientPatch(Patch):
    name = Name()
    email = Text(EMAIL_LENGTH, metadata=EMAIL)
    phone = Text(validate.Length(max=40))
    insurance_id = Text(validate.Length(max=64))
    date_of_birth = Day(allow_none=True, metadata={"description": "Not in the future."})


class PatientIn(PatientPatch):
    user_id = Id(data_key="user", required=True)
    name = Name(required=True)
    email = Text(EMAIL_LENGTH, required=True, metadata=EMAIL)
