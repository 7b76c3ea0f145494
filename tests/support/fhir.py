"""FHIR answers checked as a FHIR client would: the media type, and every resource (a Bundle's
entries too) validated by the maintained ``fhir.resources`` R4B models."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from werkzeug.test import TestResponse

FHIR_JSON = "application/fhir+json"
BASE = "/fhir/R4"


def valid_resource(resource: Any) -> dict[str, Any]:
    """``resource``, after the R4B model of its type accepted it (raises otherwise)."""
    assert isinstance(resource, dict) and "resourceType" in resource, resource
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    for entry in resource.get("entry", []) if resource["resourceType"] == "Bundle" else []:
        valid_resource(entry["resource"])
    return resource


def expect_fhir(response: TestResponse, status: int, resource_type: str | None = None) -> Any:
    """The answer's resource, after checking its status, media type and validity; an error is
    an OperationOutcome whose issues are errors."""
    body = response.get_data(as_text=True)
    assert response.status_code == status, (response.status_code, body)
    assert response.mimetype == FHIR_JSON, (response.mimetype, body)
    resource = valid_resource(response.get_json())
    if status >= 400:
        assert resource["resourceType"] == "OperationOutcome", resource
        assert resource["issue"] and all(
            issue["severity"] in ("error", "fatal") for issue in resource["issue"]
        )
    elif resource_type is not None:
        assert resource["resourceType"] == resource_type, resource
    return resource


def entries(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """A searchset Bundle's resources."""
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset", bundle
    return [entry["resource"] for entry in bundle.get("entry", [])]


def link(bundle: dict[str, Any], relation: str) -> str | None:
    return next((l["url"] for l in bundle["link"] if l["relation"] == relation), None)


def diagnostics(outcome: dict[str, Any]) -> str:
    """Every issue's diagnostics, one per line."""
    return "\n".join(issue.get("diagnostics", "") for issue in outcome["issue"])
