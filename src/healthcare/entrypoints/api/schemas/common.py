"""What every resource's schemas share: request bodies, list queries, headers."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from healthcare.application.ports import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from healthcare.entrypoints.api.schemas.fields import MAX_PAGE


class Body(ma.Schema):
    """A request body: a JSON object with known fields only."""

    class Meta:
        unknown = ma.RAISE


class ListQuery(ma.Schema):
    """``page`` from 1 and ``page_size`` from 1 to 100; filters come from subclasses."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    page_size = fields.Integer(
        load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(min=1, max=MAX_PAGE_SIZE)
    )


class IdempotencyHeaders(ma.Schema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        metadata={
            "description": "A key of your own choosing (a UUID), up to 255 printable ASCII "
            "characters, to retry safely: after a timeout, a dropped connection or a 503, send "
            "the same request with the same key. A retry answers what the first request "
            "created (201) and creates nothing new; the same key with another body is 422."
        },
    )


class HealthOut(ma.Schema):
    status = fields.String()
