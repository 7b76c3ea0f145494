"""Availability windows: anyone signed in reads; a doctor manages their own, an admin anyone's."""

from __future__ import annotations

from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Response, current_app
from flask.views import MethodView

from healthcare.application.commands import CreateAvailability, UpdateAvailability
from healthcare.application.ports import AvailabilityFilter
from healthcare.application.read_model import window_view
from healthcare.application.services import AvailabilityService
from healthcare.entrypoints.api.encoding import answer
from healthcare.entrypoints.api.routing import (
    LIST_HEADERS,
    documents,
    page_request,
    paginated,
    resource,
)
from healthcare.entrypoints.api.schemas.calendar import (
    AvailabilityIn,
    AvailabilityOut,
    AvailabilityPatch,
    AvailabilityQuery,
)
from healthcare.entrypoints.api.security import current_actor, roles, signed_in

blp = resource("availabilities", "/api/availabilities", "Doctors' availability windows.")

SERVICE = "availability_service"


@blp.route("/")
class Availabilities(MethodView):
    @signed_in
    @blp.doc(operationId="listAvailabilities")
    @blp.arguments(AvailabilityQuery, location="query")
    @blp.response(200, AvailabilityOut(many=True), headers=LIST_HEADERS)
    @documents(blp, 401)
    @inject
    def get(self, args: dict[str, Any], windows: AvailabilityService = Provide[SERVICE]) -> Any:
        """List windows, by doctor and overlapping [start, end)"""
        page = page_request(args)
        return paginated(windows.list(current_actor(), page, AvailabilityFilter(**args)))

    @roles("doctor", "admin")
    @blp.doc(operationId="createAvailability")
    @blp.arguments(
        AvailabilityIn,
        example={"start_time": "2031-04-03T09:00:00Z", "end_time": "2031-04-03T17:00:00Z"},
    )
    @blp.response(201, AvailabilityOut)
    @documents(blp, 401, 403, 404, 409)
    @inject
    def post(
        self, body: dict[str, Any], windows: AvailabilityService = Provide[SERVICE]
    ) -> Response:
        """Open a window (a doctor: their own; an admin names the doctor)"""
        return answer(window_view(windows.create(current_actor(), CreateAvailability(**body))), 201)


@blp.route("/<id:window_id>/")
class AvailabilityItem(MethodView):
    @signed_in
    @blp.doc(operationId="getAvailability")
    @blp.response(200, AvailabilityOut)
    @documents(blp, 401, 404)
    @inject
    def get(self, window_id: int, windows: AvailabilityService = Provide[SERVICE]) -> Response:
        """Read a window"""
        return answer(windows.get(current_actor(), window_id))

    @roles("doctor", "admin")
    @blp.doc(operationId="updateAvailability")
    @blp.arguments(AvailabilityPatch, example={"end_time": "2031-04-03T18:00:00Z"})
    @blp.response(200, AvailabilityOut)
    @documents(blp, 401, 403, 404, 409)
    @inject
    def patch(
        self,
        body: dict[str, Any],
        window_id: int,
        windows: AvailabilityService = Provide[SERVICE],
    ) -> Response:
        """Move or resize a window (refused if it would strand a booking)"""
        changed = windows.update(current_actor(), window_id, UpdateAvailability(**body))
        return answer(window_view(changed))

    @roles("doctor", "admin")
    @blp.doc(operationId="deleteAvailability")
    @blp.response(204)
    @documents(blp, 401, 403, 404, 409)
    @inject
    def delete(self, window_id: int, windows: AvailabilityService = Provide[SERVICE]) -> Response:
        """Delete a window (refused if it would strand a booking)"""
        windows.delete(current_actor(), window_id)
        return current_app.response_class(status=204)
