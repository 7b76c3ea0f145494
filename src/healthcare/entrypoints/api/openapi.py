"""The API description and its two readers, Swagger UI and ReDoc, served with no internet access.

``HealthcareApi`` is flask-smorest's Api with this API's error schema and the schema-wide rules
marshmallow fields cannot document (``SchemaRules``).

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

Every error answers `{"code", "status", "message", "errors"?}` (the `ErrorOut` schema), with
`errors` keyed by field name. A request that breaks this document is 422 before anything is read
or written. Some rules cannot be said in OpenAPI and also answer 422 in the same shape: a time in
the past or outside the doctor's availability, a blocked period already over, an end before its
start (`valid_until` before `valid_from`), a window longer than 24 hours, hours or a window
shorter than one appointment of that doctor, a slot search over 31 days, a date of birth in the
future, an admin booking without naming the patient, `cancellation_reason` without cancelling,
a record's `patient` other than the appointment's, a `user` that is not a user of the profile's
role, an unknown IANA time zone, deactivating your own account. A request that conflicts with what is
stored (a slot taken, an overlap, a refused transition, a duplicate) is 409.

Times are RFC 3339 with `Z` or an offset and at most 6 fractional digits, answered in UTC with
`Z`. A `PATCH` names at least one field."""


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
