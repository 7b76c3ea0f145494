"""Slot: the free slots of the slot search, computed (not stored), so searched but not read.

``Slot?schedule=Schedule/<doctor id>&start=ge<t>&start=lt<t>[&status=free]`` answers what the
REST slot search answers for the caller (at most 31 days); without ``schedule``, every doctor's.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Response

from healthcare.application.services import SlotService
from healthcare.domain.errors import NotFound
from healthcare.domain.time import Interval
from healthcare.entrypoints.api.security import current_actor
from healthcare.entrypoints.fhir.bundle import page_of, searchset
from healthcare.entrypoints.fhir.interface import fhir, fhir_answer
from healthcare.entrypoints.fhir.search import (
    Search,
    SearchParameter,
    code,
    instant_range,
    reference,
)

SCHEDULE = SearchParameter(
    "schedule", "reference", "The doctor's schedule: Schedule/<id>.", reference("Schedule")
)
START = SearchParameter(
    "start",
    "date",
    "Required: start=ge<instant>&start=lt<instant>, at most 31 days apart.",
    instant_range(both=True),
    required=True,
)
STATUS = SearchParameter(
    "status", "token", "free: the slot search finds only free slots.", code("free")
)


def slot_resource(doctor_id: int, slot: Interval) -> dict[str, Any]:
    return {
        "resourceType": "Slot",
        # Stable while the slot exists: the doctor and the start.
        "id": f"{doctor_id}-{slot.start:%Y%m%dT%H%M%S}",
        "schedule": {"reference": f"Schedule/{doctor_id}"},
        "status": "free",
        "start": slot.start,
        "end": slot.end,
    }


@fhir.search("Slot", SCHEDULE, START, STATUS)
@inject
def search_slots(search: Search, slots: SlotService = Provide["slot_service"]) -> Response:
    """The free slots the caller may book, of one doctor or of all, in a range of at most 31
    days"""
    start, end = search.get("start")
    actor = current_actor()
    doctor_id = search.get("schedule")
    if doctor_id is None:
        across = slots.across(actor, search.page, start, end)
        found = replace(across, items=[(s.doctor.id, s.interval) for s in across.items])
    else:
        try:
            doctor, free = slots.for_doctor(actor, doctor_id, start, end)
            matches = [(doctor_id, slot) for slot in free]
        except NotFound:  # an unknown schedule has no slots
            matches = []
        found = page_of(matches, search.page)
    return fhir_answer(searchset(search, found, lambda item: slot_resource(*item)))

