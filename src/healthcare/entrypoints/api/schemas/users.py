"""User accounts (admins)."""

from __future__ import annotations

from marshmallow import fields, validate

from healthcare.domain.users import Role
from healthcare.entrypoints.api.schemas.common import Body, ListQuery, Out, Patch
from healthcare.entrypoints.api.schemas.fields import (
    EMAIL,
    EMAIL_LENGTH,
    NEW_PASSWORD,
    Name,
    Text,
    UtcDateTime,
    choice,
)


class UserQuery(ListQuery):
    role = fields.String(validate=choice(Role))


class UserOut(Out):
    id = fields.Integer()
    email = fields.String()
    role = fields.String(validate=choice(Role))
    is_active = fields.Boolean()
    created_at = UtcDateTime()


class UserIn(Body):
    email = Text(EMAIL_LENGTH, required=True, metadata=EMAIL)
    password = Text(validate.Length(max=1024), required=True, metadata=NEW_PASSWORD)
    role = fields.String(required=True, validate=choice(Role))
    name = Name(
        metadata={"description": "With a doctor or patient role, also create the profile."}
    )
    specialization = Name(
        metadata={"description": "The doctor profile's; omitted: General Practice."}
    )


class UserPatch(Patch):
    is_active = fields.Boolean(truthy={True}, falsy={False})
    email = Text(EMAIL_LENGTH, metadata=EMAIL)
    password = Text(validate.Length(max=1024), metadata=NEW_PASSWORD)
