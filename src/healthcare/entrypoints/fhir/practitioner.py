"""Practitioner: a doctor, with its name and its specialization as a qualification."""

from __future__ import annotations

from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Response

from healthcare.application.read_model import View
from healthcare.application.services import DoctorService
from healthcare.entrypoints.api.security import current_actor
from healthcare.entrypoints.fhir.bundle import searchset
from healthcare.entrypoints.fhir.interface import fhir, fhir_answer
from healthcare.entrypoints.fhir.search import NAME, Search


def practitioner_resource(doctor: View) -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "id": str(doctor["id"]),
        "name": [{"text": doctor["name"]}],
        "qualification": [{"code": {"text": doctor["specialization"]}}],
    }


@fhir.read("Practitioner")
@inject
def read_practitioner(
    resource_id: int, doctors: DoctorService = Provide["doctor_service"]
) -> Response:
    """Read a doctor"""
    return fhir_answer(practitioner_resource(doctors.get(current_actor(), resource_id)))


@fhir.search("Practitioner", NAME)
@inject
def search_practitioners(
    search: Search, doctors: DoctorService = Provide["doctor_service"]
) -> Response:
    """Search doctors by name"""
    found = doctors.list(current_actor(), search.page, name=search.get("name"))
    return fhir_answer(searchset(search, found, practitioner_resource))
