"""What every resource's schemas share: request bodies, changes, answers, errors, list queries,
headers."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from healthcare.application.ports import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from healthcare.domain.idempotency import KEY_MAX
from healthcare.entrypoints.api.schemas.fields import MAX_PAGE, matching


class Body(ma.Schema):
    """A request body: a JSON object with known fields only."""

    class Meta:
        unknown = ma.RAISE


class Patch(Body):
    """A change (the body of a ``PATCH``): it names at least one field.

    An empty change is refused (422) and writes nothing, rather than answering 200 after
    touching ``updated_at`` or writing an audit event about nothing. The document says so with
    ``minProperties: 1`` (``openapi.SchemaRules``).
    """

    @ma.validates_schema
    def names_a_change(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ma.ValidationError("Name at least one field to change.")


class Out(ma.Schema):
    """An answer. Every field is always present (null where it may be), so the document lists
    each one as ``required`` and a generated client's models have no optional fields."""

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        field_obj.required = True


ERRORS_DESCRIPTION = (
    "What was wrong, by field: each field's wire name (or `Idempotency-Key` for that header) "
    "maps to its messages. Input the document already rules out and rules it cannot express "
    "(a time in the past, an end before its start, a slot outside availability) answer in this "
    "same shape. `_schema` holds messages about the body as a whole (not an object, an empty "
    "change, malformed JSON)."
)


class ErrorOut(ma.Schema):
    """Every error answer: 4xx and 5xx alike."""

    code = fields.Integer(required=True, metadata={"description": "The HTTP status code."})
    status = fields.String(required=True, metadata={"description": "Its reason phrase."})
    message = fields.String(required=True, metadata={"description": "What happened, for people."})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": ERRORS_DESCRIPTION},
    )


class ListQuery(ma.Schema):
    """``page`` from 1 and ``page_size`` from 1 to 100; filters come from subclasses."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    page_size = fields.Integer(
        load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(min=1, max=MAX_PAGE_SIZE)
    )


#: Printable ASCII, not starting or ending with a space (HTTP drops those from header values).
IDEMPOTENCY_KEY_PATTERN = rf"^[!-~]([ -~]{{0,{KEY_MAX - 2}}}[!-~])?$"


class IdempotencyHeaders(ma.Schema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        metadata={
            "description": f"A key of your own choosing (a UUID), 1 to {KEY_MAX} printable "
            "ASCII characters, to retry safely: after a timeout, a dropped connection or a 503, "
            "send the same request with the same key. A retry answers what the first request "
            "created (201) and creates nothing new; the same key with another body is 422.",
            "pattern": IDEMPOTENCY_KEY_PATTERN,
            "minLength": 1,
            "maxLength": KEY_MAX,
        },
    )

    @ma.validates("idempotency_key")
    def printable_ascii(self, value: str, **kwargs: Any) -> None:
        matching(IDEMPOTENCY_KEY_PATTERN, value, f"1 to {KEY_MAX} printable ASCII characters.")


class HealthOut(Out):
    status = fields.String(validate=validate.OneOf(["ok", "ready"]))
