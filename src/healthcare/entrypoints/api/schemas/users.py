"""User accounts (admins)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from healthcare.domain.users import Role
from healthcare.entrypoints.api.schemas.common import Body, ListQuery
from healthcare.entrypoints.api.schemas.fields import (
    EMAIL,
    EMAIL_LENGTH,
    NEW_PASSWORD,
    Text,
    UtcDateTime,
    choice,
)


class UserQuery(ListQuery):
    role = fields.String(validate=choice(Role))


class UserOut(ma.Schema):
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
