"""Patient: name, telecom (email, phone), birth date, and the insurance id as an identifier.

Reads and searches go through the patient use cases, so they are scoped (a patient sees
themself, a doctor the patients they treat) and audited exactly like the REST API's.
"""

from __future__ import annotations

from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Response

from healthcare.application.read_model import View
from healthcare.application.services import PatientService
from healthcare.entrypoints.api.security import current_actor
from healthcare.entrypoints.fhir.bundle import searchset
from healthcare.entrypoints.fhir.interface import fhir, fhir_answer
from healthcare.entrypoints.fhir.search import NAME, Search

#: The insurance id's identifier type: HL7 v2 table 0203's "Member Number".
INSURANCE_ID = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
            "code": "MB",
            "display": "Member Number",
        }
    ],
    "text": "Insurance ID",
}


def patient_resource(patient: View) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(patient["id"]),
        "name": [{"text": patient["name"]}],
    }
    if patient["insurance_id"]:
        resource["identifier"] = [{"type": INSURANCE_ID, "value": patient["insurance_id"]}]
    telecom = [
        {"system": system, "value": patient[field]}
        for system, field in (("email", "email"), ("phone", "phone"))
        if patient[field]
    ]
    if telecom:
        resource["telecom"] = telecom
    if patient["date_of_birth"] is not None:
        resource["birthDate"] = patient["date_of_birth"]
    return resource


@fhir.read("Patient")
@inject
def read_patient(
    resource_id: int, patients: PatientService = Provide["patient_service"]
) -> Response:
    """Read a patient the caller may see (audited)"""
    return fhir_answer(patient_resource(patients.get(current_actor(), resource_id)))


@fhir.search("Patient", NAME)
@inject
def search_patients(
    search: Search, patients: PatientService = Provide["patient_service"]
) -> Response:
    """Search the patients the caller may see by name (audited)"""
    found = patients.list(current_actor(), search.page, search.get("name"))
    return fhir_answer(searchset(search, found, patient_resource))
