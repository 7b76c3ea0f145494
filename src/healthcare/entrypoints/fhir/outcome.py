"""Errors as FHIR OperationOutcome resources.

The status code and message are the REST API's (``entrypoints.api.errors`` maps domain errors
by category, and the JWT layer answers 401): only the body differs. The first issue carries the
message; each detail (``{where: [what]}``) is an issue of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Response

from healthcare.entrypoints.fhir.interface import fhir_answer

#: HTTP status -> FHIR's IssueType.
ISSUE_TYPES = {
    400: "structure",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    413: "too-long",
    415: "not-supported",
    422: "invalid",
    429: "throttled",
    503: "transient",
}
#: An outcome lists at most this many details.
MAX_DETAILS = 50


def operation_outcome(code: int, message: str, errors: Any = None) -> dict[str, Any]:
    kind = ISSUE_TYPES.get(code, "exception" if code >= 500 else "processing")
    severity = "fatal" if code >= 500 else "error"
    issues = [{"severity": severity, "code": kind, "diagnostics": message}]
    for number, (where, what) in enumerate(_details(errors)):
        if number == MAX_DETAILS:
            break
        issues.append({"severity": severity, "code": kind, "diagnostics": f"{where}: {what}"})
    return {"resourceType": "OperationOutcome", "issue": issues}


def outcome_response(code: int, message: str, errors: Any = None) -> Response:
    return fhir_answer(operation_outcome(code, message, errors), code)


def _details(errors: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """``(where, what)`` for each message in an error's details, however nested."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            yield from _details(value, f"{where}.{key}" if where else str(key))
    elif isinstance(errors, list | tuple):
        for value in errors:
            yield from _details(value, where)
    elif errors not in (None, ""):
        yield where or "request", str(errors)
