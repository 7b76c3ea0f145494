"""The audit trail."""

from __future__ import annotations

from marshmallow import fields

from healthcare.domain.audit import Action, Outcome, Resource
from healthcare.entrypoints.api.schemas.common import ListQuery, Out
from healthcare.entrypoints.api.schemas.fields import QueryId, UtcDateTime, choice


class AuditQuery(ListQuery):
    actor_id = QueryId(data_key="actor")
    patient_id = QueryId(data_key="patient")
    resource = fields.String(validate=choice(Resource))
    action = fields.String(validate=choice(Action))
    outcome = fields.String(validate=choice(Outcome))
    start = UtcDateTime()
    end = UtcDateTime()


class AuditEventOut(Out):
    id = fields.Integer()
    at = UtcDateTime()
    actor_id = fields.Integer(data_key="actor", allow_none=True)
    action = fields.String(validate=choice(Action))
    resource = fields.String(validate=choice(Resource))
    resource_id = fields.Integer(allow_none=True)
    patient_id = fields.Integer(data_key="patient", allow_none=True)
    outcome = fields.String(validate=choice(Outcome))
