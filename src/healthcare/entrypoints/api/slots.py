"""Free bookable slots across doctors (one doctor's: ``/api/doctors/<id>/slots/``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dependency_injector.wiring import Provide, inject
from flask.views import MethodView

from healthcare.application.services import SlotService
from healthcare.domain.doctors import Doctor
from healthcare.domain.time import Interval, zone
from healthcare.entrypoints.api.routing import (
    LIST_HEADERS,
    documents,
    page_request,
    paginated,
    resource,
)
from healthcare.entrypoints.api.schemas.doctors import SlotOut, SlotSearchQuery
from healthcare.entrypoints.api.security import current_actor, signed_in

blp = resource("slots", "/api/slots", "Free bookable slots across doctors.")


def slot_view(doctor: Doctor, slot: Interval) -> dict[str, Any]:
    """A slot in UTC and in the doctor's own time zone."""
    local = zone(doctor.timezone)
    return {
        "doctor": doctor.id,
        "start": slot.start,
        "end": slot.end,
        "local_start": slot.start.astimezone(local).isoformat(),
        "local_end": slot.end.astimezone(local).isoformat(),
        "timezone": doctor.timezone,
    }


@blp.route("/")
class Slots(MethodView):
    @signed_in
    @blp.doc(operationId="searchSlots")
    @blp.arguments(SlotSearchQuery, location="query")
    @blp.response(200, SlotOut(many=True), headers=LIST_HEADERS)
    @documents(blp, 401)
    @inject
    def get(self, args: dict[str, Any], slots: SlotService = Provide["slot_service"]) -> Any:
        """The free bookable slots of every doctor (optionally of one specialization) between
        start and end (at most 31 days), by start time, in UTC and each doctor's time zone"""
        page = page_request(args)
        found = slots.across(
            current_actor(), page, args["start"], args["end"], args.get("specialization")
        )
        return paginated(replace(found, items=[slot_view(s.doctor, s.interval) for s in found.items]))
