"""The one place errors become HTTP responses, all in one body shape:
``{"code": 404, "status": "Not Found", "message": "...", "errors": {...}}``.

``errors`` is keyed by field name, whether input validation or a domain rule refused the field
(``schemas.common.ErrorOut`` documents it).

Domain errors map by category, so a new rule never needs a new mapping here. Nothing a client
sends may reach the last-resort 500 handler; it exists so a bug still answers JSON, and logs.

An interface with an error format of its own (FHIR's OperationOutcome) registers it for its
paths (``register_error_body``): every error under them, the JWT layer's 401s included, is then
written in that format, with the same status code and message.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, has_request_context, jsonify, request
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


#: ``(code, message, errors) -> Response``: an error body in another format.
ErrorBody = Callable[[int, str, Any], Response]
#: ``app.extensions`` key: path prefix -> that interface's ErrorBody.
ERROR_BODIES = "healthcare.error_bodies"


def register_error_body(app: Flask, prefix: str, body: ErrorBody) -> None:
    """Errors on ``prefix`` and the paths under it are written by ``body``."""
    app.extensions.setdefault(ERROR_BODIES, {})[prefix.rstrip("/")] = body


def error_response(
    code: int,
    message: str | None = None,
    errors: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[Response, int, dict[str, str]]:
    status = HTTPStatus(code)
    message = message or status.description or status.phrase
    other_format = _error_body_of_path()
    if other_format is not None:
        return other_format(code, message, errors), code, headers or {}
    body: dict[str, Any] = {"code": code, "status": status.phrase, "message": message}
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


def by_field(messages: dict[str, Any]) -> dict[str, list[str]]:
    """webargs' errors without their location (``{"json": {"datetime": [...]}}``), keyed by field
    name as a rule's are. A location's own messages (a body that is not JSON) go under
    ``_schema``, marshmallow's key for the body as a whole; an item's or a nested field's under
    its dotted path (``events.1``), so every value is a list of messages as documented."""
    errors: dict[str, list[str]] = {}
    for found in messages.values():
        if isinstance(found, dict):
            _flatten(found, "", errors)
        else:
            errors.setdefault("_schema", []).extend(found)
    return errors


def _flatten(found: dict[Any, Any], prefix: str, into: dict[str, list[str]]) -> None:
    for key, value in found.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            _flatten(value, path + ".", into)
        elif isinstance(value, (list, tuple)):
            for message in value:
                if isinstance(message, dict):
                    _flatten(message, path + ".", into)
                else:
                    into.setdefault(path, []).append(str(message))
        else:
            into.setdefault(path, []).append(str(value))


def handle_unexpected(error: Exception) -> tuple[Response, int, dict[str, str]]:
    log.exception("unhandled error")
    return error_response(500, "An unexpected error occurred; it has been logged.")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(StorageUnavailable, handle_storage_unavailable)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)


def _error_body_of_path() -> ErrorBody | None:
    if not has_request_context():
        return None
    path = request.path
    for prefix, body in current_app.extensions.get(ERROR_BODIES, {}).items():
        if path == prefix or path.startswith(prefix + "/"):
            return body  # type: ignore[no-any-return]
    return None


def _body_discarded() -> bool:
    """Whether nothing of the refused request's body is left on the connection."""
    return isinstance(request, BoundedRequest) and request.discard_unread_body()


def _message(error: HTTPException) -> str:
    if error.code == 400:
        return "The request is malformed."
    if error.code == 413:
        return "The request body is too large."
    return error.description or HTTPStatus(error.code or 500).phrase
