"""Webhook endpoints and their delivery log."""

from __future__ import annotations

from marshmallow import fields, validate

from healthcare.domain.events import EVERY_EVENT, EventType
from healthcare.domain.webhooks import DESCRIPTION_MAX, URL_MAX
from healthcare.entrypoints.api.schemas.common import Body, Out, Patch
from healthcare.entrypoints.api.schemas.fields import Text, UtcDateTime, choice

EVENT_NAMES = [EVERY_EVENT, *(str(t) for t in EventType)]
EVENTS = {
    "description": 'The event types to receive, or ["*"] for all (alone).',
    "example": ["appointment.booked", "appointment.cancelled"],
}


class WebhookIn(Body):
    url = Text(
        validate.Length(max=URL_MAX),
        required=True,
        metadata={"description": "https; http only to a private address where allowed."},
    )
    events = fields.List(
        fields.String(validate=choice(EVENT_NAMES)),
        required=True,
        validate=validate.Length(min=1, max=len(EVENT_NAMES)),
        metadata=EVENTS,
    )
    description = Text(validate.Length(max=DESCRIPTION_MAX))


class WebhookPatch(Patch):
    url = Text(validate.Length(max=URL_MAX))
    events = fields.List(
        fields.String(validate=choice(EVENT_NAMES)),
        validate=validate.Length(min=1, max=len(EVENT_NAMES)),
        metadata=EVENTS,
    )
    description = Text(validate.Length(max=DESCRIPTION_MAX), allow_none=True)
    is_active = fields.Boolean(
        metadata={"description": "true again after a 410 disabled it: undelivered events resume."}
    )


class WebhookOut(Out):
    id = fields.Integer()
    url = fields.String()
    events = fields.List(fields.String())
    description = fields.String()
    is_active = fields.Boolean()
    created_at = UtcDateTime()


class WebhookWithSecretOut(WebhookOut):
    secret = fields.String(
        metadata={
            "description": "whsec_ and base64 of 32 random bytes: verify signatures with it. "
            "Shown only when the endpoint is created and when its secret is rotated."
        }
    )


class AttemptOut(Out):
    event_id = fields.String(metadata={"description": "The webhook-id header of the attempt."})
    type = fields.String()
    attempt = fields.Integer(metadata={"description": "1 for the first attempt."})
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True, metadata={"description": "A timeout, a refused connection."})
    at = UtcDateTime()
    next_attempt_at = UtcDateTime(
        allow_none=True, metadata={"description": "When it is tried again; null: delivered or failed."}
    )
