"""The one place errors become HTTP responses, all in one body shape:
``{"code": 404, "status": "Not Found", "message": "...", "errors": {...}}``.

``errors`` is keyed by field name, whether input validation or a domain rule refused the field
(``schemas.common.ErrorOut`` documents it).

Domain errors map by category, so a new rule never needs a new mapping here. Nothing a client
sends may reach the last-resort 500 handler; it exists so a bug still answers JSON, and logs.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from healthcare.application.ports import StorageUnavailable
from healthcare.domain.errors import (
    AuthenticationFailed,
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Throttled,
)
from healthcare.entrypoints.api.bodies import BoundedRequest

log = logging.getLogger(__name__)

#: The message of a 422 from input validation: the request broke what the OpenAPI document
#: says. A 422 from a rule the document cannot express says which rule instead.
INVALID_INPUT = "The request does not match the API's description; see errors."

#: Category -> status. Order matters only if a rule ever inherits from two categories.
DOMAIN_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (InvalidInput, 422),
    (NotFound, 404),
    (PermissionDenied, 403),
    (Conflict, 409),
    (AuthenticationFailed, 401),
    (Throttled, 429),
)


def error_response(
    code: int,
    message: str | None = None,
    errors: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[Response, int, dict[str, str]]:
    status = HTTPStatus(code)
    body: dict[str, Any] = {
        "code": code,
        "status": status.phrase,
        "message": message or status.description or status.phrase,
    }
    if errors:
        body["errors"] = errors
    return jsonify(body), code, headers or {}


def status_for(error: DomainError) -> int:
    for category, code in DOMAIN_STATUS:
        if isinstance(error, category):
            return code
    return 422  # pragma: no cover - every DomainError has a category


def handle_domain_error(error: DomainError) -> tuple[Response, int, dict[str, str]]:
    headers: dict[str, str] = {}
    if isinstance(error, Throttled):
        headers["Retry-After"] = str(error.retry_after_seconds)
    return error_response(status_for(error), error.message, error.errors, headers)


def handle_storage_unavailable(error: StorageUnavailable) -> tuple[Response, int, dict[str, str]]:
    log.warning("storage unavailable: %s", error)
    retry = str(current_app.config.get("RETRY_AFTER_SECONDS", 5))
    return error_response(
        503,
        "The service is briefly unavailable; try again shortly.",
        headers={"Retry-After": retry},
    )


def handle_http_exception(error: HTTPException) -> tuple[Response, int, dict[str, str]]:
    code = error.code or 500
    if code >= 500:
        log.error("HTTP %s: %s", code, error)
    data = getattr(error, "data", None) or {}
    message = data.get("message") or _message(error)
    errors = data.get("errors")
    if data.get("messages"):  # webargs: input validation
        errors = by_field(data["messages"])
        if code == 422:
            message = data.get("message") or INVALID_INPUT
    headers = dict(data.get("headers") or {})
    for name, value in error.get_headers():
        if name.lower() == "allow":  # keep werkzeug's Allow header on 405
            headers["Allow"] = value
    if isinstance(error, RequestEntityTooLarge) and not _body_discarded():
        # The rest of the body is still coming: this connection cannot carry another request.
        headers["Connection"] = "close"
    return error_response(code, message, errors, headers)


def by_field(messages: dict[str, Any]) -> dict[str, Any]:
    """webargs' errors without their location (``{"json": {"datetime": [...]}}``), keyed by field
    name as a rule's are. A location's own messages (a body that is not JSON) go under
    ``_schema``, marshmallow's key for the body as a whole."""
    errors: dict[str, Any] = {}
    for found in messages.values():
        if isinstance(found, dict):
            errors.update(found)
        else:
            errors.setdefault("_schema", []).extend(found)
    return errors


def handle_unexpected(error: Exception) -> tuple[Response, int, dict[str, str]]:
    log.exception("unhandled error")
    return error_response(500, "An unexpected error occurred; it has been logged.")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(StorageUnavailable, handle_storage_unavailable)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)


def _body_discarded() -> bool:
    """Whether nothing of the refused request's body is left on the connection."""
    return isinstance(request, BoundedRequest) and request.discard_unread_body()


def _message(error: HTTPException) -> str:
    if error.code == 400:
        return "The request is malformed."
    if error.code == 413:
        return "The request body is too large."
    return error.description or HTTPStatus(error.code or 500).phrase
