"""Schedule: one per doctor (``Schedule/<doctor id>``), its actor the Practitioner, its planning
horizon the booking horizon (from now to the latest start a patient may book)."""

from __future__ import annotations

from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Response

from healthcare.application.ports import Page
from healthcare.application.read_model import View
from healthcare.application.services import DoctorService
from healthcare.application.services.calendar import CalendarService
from healthcare.domain.errors import NotFound
from healthcare.domain.time import Interval
from healthcare.entrypoints.api.security import current_actor
from healthcare.entrypoints.fhir.bundle import page_of, searchset
from healthcare.entrypoints.fhir.interface import fhir, fhir_answer
from healthcare.entrypoints.fhir.search import Search, SearchParameter, reference

ACTOR = SearchParameter(
    "actor", "reference", "The doctor's schedule: Practitioner/<id>.", reference("Practitioner")
)


def schedule_resource(doctor: View, horizon: Interval | None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Schedule",
        "id": str(doctor["id"]),
        "active": True,
        "specialty": [{"text": doctor["specialization"]}],
        "actor": [{"reference": f"Practitioner/{doctor['id']}", "display": doctor["name"]}],
    }
    if horizon is not None:
        resource["planningHorizon"] = {"start": horizon.start, "end": horizon.end}
    return resource


@fhir.read("Schedule")
@inject
def read_schedule(
    resource_id: int,
    doctors: DoctorService = Provide["doctor_service"],
    calendars: CalendarService = Provide["calendar_service"],
) -> Response:
    """Read a doctor's schedule"""
    actor = current_actor()
    doctor = doctors.get(actor, resource_id)
    horizon = calendars.planning_horizons(actor, [resource_id]).get(resource_id)
    return fhir_answer(schedule_resource(doctor, horizon))


@fhir.search("Schedule", ACTOR)
@inject
def search_schedules(
    search: Search,
    doctors: DoctorService = Provide["doctor_service"],
    calendars: CalendarService = Provide["calendar_service"],
) -> Response:
    """Search the doctors' schedules, or one doctor's"""
    actor = current_actor()
    practitioner = search.get("actor")
    found: Page[View]
    if practitioner is None:
        found = doctors.list(actor, search.page)
    else:
        try:
            found = page_of([doctors.get(actor, practitioner)], search.page)
        except NotFound:  # a search for an unknown doctor's schedule finds none
            found = Page.empty(search.page)
    horizons = calendars.planning_horizons(actor, [doctor["id"] for doctor in found.items])
    return fhir_answer(
        searchset(search, found, lambda doctor: schedule_resource(doctor, horizons.get(doctor["id"])))
    )
