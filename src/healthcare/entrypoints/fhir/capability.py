"""``GET [base]/metadata``: the CapabilityStatement, generated from the interactions and
search parameters registered on the interface, so it lists exactly what has a route."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response

import healthcare
from healthcare.entrypoints.fhir.interface import FHIR_JSON, PATCH_TYPES, FhirInterface, fhir, fhir_answer

#: The FHIR version the interface speaks (R4).
FHIR_VERSION = "4.0.1"


def capability_statement(interface: FhirInterface) -> dict[str, Any]:
    resources = [
        {
            "type": resource_type,
            "interaction": [{"code": code} for code in codes],
            **_search_parameters(interface, resource_type),
        }
        for resource_type, codes in interface.interactions.items()
    ]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": datetime.now(UTC),
        "publisher": "healthcare",
        "kind": "instance",
        "software": {"name": "healthcare", "version": healthcare.__version__},
        "implementation": {
            "description": "Appointment scheduling: practitioners, patients, schedules, free "
            "slots and appointments",
            "url": interface.base_url(),
        },
        "fhirVersion": FHIR_VERSION,
        "format": [FHIR_JSON, "json"],
        "patchFormat": [PATCH_TYPES[0]],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "Every interaction but this statement needs a Bearer token "
                    "from POST /api/auth/jwt/token/ (the REST API's); a resource the caller may "
                    "not see answers 404."
                },
                "resource": resources,
            }
        ],
    }


def _search_parameters(interface: FhirInterface, resource_type: str) -> dict[str, Any]:
    parameters = interface.search_parameters.get(resource_type)
    if not parameters:
        return {}
    return {
        "searchParam": [
            {"name": p.name, "type": p.type, "documentation": p.documentation} for p in parameters
        ]
    }


@fhir.blueprint.get("/metadata")
def metadata() -> Response:
    """What this FHIR server does (no token needed)"""
    return fhir_answer(capability_statement(fhir))
