"""The API description and its two readers, Swagger UI and ReDoc, served with no internet access.

The readers' JavaScript and CSS come from the ``openapi-ui-bundles`` package and are served by
this app; the pages name no CDN.
"""

from __future__ import annotations

from typing import Any

import openapi_ui_bundles
from apispec import BasePlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Blueprint, Flask, Response, send_from_directory
from flask_smorest import Api

from healthcare.entrypoints.api.schemas.common import ErrorOut, Patch

ASSETS_PREFIX = "/api/docs-assets"
SWAGGER_ASSETS = f"{ASSETS_PREFIX}/swagger-ui/"
REDOC_SCRIPT = f"{ASSETS_PREFIX}/redoc/redoc.standalone.js"

BEARER = "bearerAuth"

DESCRIPTION = """Appointment scheduling for clinics. Sign in at `/api/auth/jwt/token/` and send
`Authorization: Bearer <access>`.

Every error answers `{"code", "status", "message", "errors"?}` (the `Error` schema). `errors`
maps each field's wire name to its messages, whether the field broke what this document says
(422 before anything is read or written) or a rule the document cannot express. Those rules
answer 422 too: a time in the past or not on a doctor's hours, an end before its start, a date of
birth in the future, an admin booking without naming the patient, `cancellation_reason` without
cancelling, hours shorter than one appointment of that doctor. A request for something that
conflicts with what is stored (a slot taken, an overlap, a refused transition) is 409.

Times are RFC 3339 with `Z` or an offset, at most 6 fractional digits, answered in UTC with `Z`.
A `PATCH` names at least one field."""


def openapi_config(title: str, version: str) -> dict[str, Any]:
    """flask-smorest's settings: where the spec and the readers live, and the security scheme."""
    return {
        "API_TITLE": title,
        "API_VERSION": version,
        # 3.1: a nullable object is ``anyOf: [{$ref}, {type: null}]``, which generated clients
        # read as "this model or None"; 3.0 can only say it with a nullable untyped object.
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/swagger/",
        "OPENAPI_SWAGGER_UI_URL": SWAGGER_ASSETS,
        # No validator badge: it would call validator.swagger.io.
        "OPENAPI_SWAGGER_UI_CONFIG": {"validatorUrl": None, "deepLinking": True},
        "OPENAPI_REDOC_PATH": "/redoc/",
        "OPENAPI_REDOC_URL": REDOC_SCRIPT,
        "API_SPEC_OPTIONS": {
            "info": {
                "description": DESCRIPTION
            },
            "components": {
                "securitySchemes": {
                    BEARER: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
            "security": [{BEARER: []}],
        },
    }


assets = Blueprint("docs_assets", __name__, url_prefix=ASSETS_PREFIX)


@assets.get("/swagger-ui/<path:filename>")
def swagger_ui_asset(filename: str) -> Response:
    return send_from_directory(openapi_ui_bundles.swagger_ui.static_path, filename, max_age=86400)


@assets.get("/redoc/<path:filename>")
def redoc_asset(filename: str) -> Response:
    return send_from_directory(openapi_ui_bundles.redoc.static_path, filename, max_age=86400)


class SchemaRules(BasePlugin):
    """Schema-wide rules the marshmallow converter does not document: a change names at least
    one field (``schemas.common.Patch``). A body with required fields says so already."""

    def schema_helper(self, name: str, definition: dict[str, Any], **kwargs: Any) -> dict | None:
        schema = kwargs.get("schema")
        if schema is None or definition.get("required"):
            return None
        if issubclass(resolve_schema_cls(schema), Patch):
            return {"minProperties": 1}
        return None


class HealthcareApi(Api):
    """flask-smorest's Api with this API's error body and schema rules in the document."""

    ERROR_SCHEMA = ErrorOut

    def __init__(self, app: Flask) -> None:
        super().__init__(app, spec_kwargs={"extra_plugins": [SchemaRules()]})
