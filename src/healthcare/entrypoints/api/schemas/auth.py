"""Signing in, refreshing, signing up, and the signed-in account."""

from __future__ import annotations

from marshmallow import fields, validate

from healthcare.entrypoints.api.schemas.common import Body, Out
from healthcare.entrypoints.api.schemas.doctors import DoctorOut
from healthcare.entrypoints.api.schemas.fields import (
    EMAIL,
    EMAIL_LENGTH,
    NEW_PASSWORD,
    Name,
    Text,
)
from healthcare.entrypoints.api.schemas.patients import PatientOut, PatientPatch
from healthcare.entrypoints.api.schemas.users import UserOut


class CredentialsIn(Body):
    email = Text(validate.Length(min=1, max=320), required=True)
    password = Text(validate.Length(min=1, max=1024), required=True)


class RefreshIn(Body):
    refresh = Text(validate.Length(min=1, max=4096), required=True)


class LogoutIn(Body):
    refresh = Text(validate.Length(min=1, max=4096))


class TokensOut(Out):
    access = fields.String()
    refresh = fields.String()


class LoginOut(TokensOut):
    user = fields.Nested(UserOut)


class RegisterIn(PatientPatch):
    """A patient signing up: their account and their profile in one."""

    email = Text(EMAIL_LENGTH, required=True, metadata=EMAIL)
    password = Text(validate.Length(max=1024), required=True, metadata=NEW_PASSWORD)
    name = Name(required=True)


class AccountOut(Out):
    """The signed-in user with their profile (``/api/auth/me/``, ``/api/auth/register/``)."""

    user = fields.Nested(UserOut)
    doctor = fields.Nested(DoctorOut, allow_none=True)
    patient = fields.Nested(PatientOut, allow_none=True)
