"""The FHIR R4 scheduling interface (SPEC 9.3) at ``/fhir/R4``: a second driving adapter of the
same use cases as the REST API, with the same tokens, access rules and audit.

One module per resource maps the use cases' answers to FHIR JSON and holds that resource's
views: ``practitioner``, ``patient``, ``schedule``, ``slot``, ``appointment``; ``bundle`` makes
search answers, ``outcome`` errors, ``capability`` the CapabilityStatement.
"""

from __future__ import annotations

from flask import Flask

from healthcare.entrypoints.api.errors import register_error_body
from healthcare.entrypoints.fhir import (  # noqa: F401 - each module registers its views
    appointment,
    capability,
    patient,
    practitioner,
    schedule,
    slot,
)
from healthcare.entrypoints.fhir.interface import fhir
from healthcare.entrypoints.fhir.outcome import outcome_response


def init_app(app: Flask) -> None:
    """Serve the interface, every error on its paths as an OperationOutcome."""
    app.register_blueprint(fhir.blueprint)
    register_error_body(app, fhir.url_prefix, outcome_response)
