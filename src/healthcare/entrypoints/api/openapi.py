"""The API description and its two readers, Swagger UI and ReDoc, served with no internet access.

The readers' JavaScript and CSS come from the ``openapi-ui-bundles`` package and are served by
this app; the pages name no CDN.
"""

from __future__ import annotations

from typing import Any

import openapi_ui_bundles
from flask import Blueprint, Response, send_from_directory

ASSETS_PREFIX = "/api/docs-assets"
SWAGGER_ASSETS = f"{ASSETS_PREFIX}/swagger-ui/"
REDOC_SCRIPT = f"{ASSETS_PREFIX}/redoc/redoc.standalone.js"

BEARER = "bearerAuth"


def openapi_config(title: str, version: str) -> dict[str, Any]:
    """flask-smorest's settings: where the spec and the readers live, and the security scheme."""
    return {
        "API_TITLE": title,
        "API_VERSION": version,
        "OPENAPI_VERSION": "3.0.3",
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
                "description": (
                    "Appointment scheduling for clinics. Sign in at `/api/auth/jwt/token/` and "
                    "send `Authorization: Bearer <access>`. Every error answers "
                    '`{"code", "status", "message", "errors"?}`.'
                )
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
