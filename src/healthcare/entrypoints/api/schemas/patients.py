"""Patient profiles."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from healthcare.entrypoints.api.schemas.common import Body
from healthcare.entrypoints.api.schemas.fields import EMAIL, EMAIL_LENGTH, Id, Text


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
    email = Text(EMAIL_LENGTH, metadata=EMAIL)
    phone = Text(validate.Length(max=40))
    insurance_id = Text(validate.Length(max=64))
    date_of_birth = fields.Date(allow_none=True)


class PatientIn(PatientPatch):
    user_id = Id(data_key="user", required=True)
    name = Text(required=True)
    email = Text(EMAIL_LENGTH, required=True, metadata=EMAIL)
