"""Blocked periods (holidays, training): they remove time from a doctor's availability."""

from __future__ import annotations

from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Response, current_app
from flask.views import MethodView

from healthcare.application.commands import CreateException
from healthcare.application.ports import ExceptionFilter
from healthcare.application.read_model import blocked_period_view
from healthcare.application.services.calendar import CalendarService
from healthcare.domain.access import Scope
from healthcare.entrypoints.api.encoding import answer
from healthcare.entrypoints.api.routing import (
    LIST_HEADERS,
    documents,
    page_request,
    paginated,
    resource,
)
from healthcare.entrypoints.api.schemas.calendar import (
    ExceptionIn,
    ExceptionOut,
    ExceptionQuery,
)
from healthcare.entrypoints.api.security import current_actor, roles, signed_in

blp = resource(
    "availability-exceptions",
    "/api/availability-exceptions",
    "Doctors' blocked periods. Everyone signed in sees when a doctor is away; the reason only "
    "the doctor and admins. Blocking booked time is refused (409): cancel the bookings first.",
)

SERVICE = "calendar_service"


@blp.route("/")
class Exceptions(MethodView):
    @signed_in
    @blp.doc(operationId="listAvailabilityExceptions")
    @blp.arguments(ExceptionQuery, location="query")
    @blp.response(200, ExceptionOut(many=True), headers=LIST_HEADERS)
    @documents(blp, 401)
    @inject
    def get(self, args: dict[str, Any], calendar: CalendarService = Provide[SERVICE]) -> Any:
        """List blocked periods, by doctor and overlapping [start, end)"""
        page = page_request(args)
        return paginated(calendar.list_exceptions(current_actor(), page, ExceptionFilter(**args)))

    @roles("doctor", "admin")
    @blp.doc(operationId="createAvailabilityException")
    @blp.arguments(
        ExceptionIn,
        example={
            "doctor": 1,
            "start_time": "2031-04-10T00:00:00Z",
            "end_time": "2031-04-11T00:00:00Z",
            "reason": "Holiday",
        },
    )
    @blp.response(201, ExceptionOut)
    @documents(blp, 401, 403, 404, 409)
    @inject
    def post(
        self, body: dict[str, Any], calendar: CalendarService = Provide[SERVICE]
    ) -> Response:
        """Block a period (a doctor: their own; an admin names the doctor)"""
        actor = current_actor()
        blocked = calendar.create_exception(actor, CreateException(**body))
        return answer(blocked_period_view(blocked, Scope.of(actor)), 201)


@blp.route("/<id:period_id>/")
class ExceptionItem(MethodView):
    @signed_in
    @blp.doc(operationId="getAvailabilityException")
    @blp.response(200, ExceptionOut)
    @documents(blp, 401, 404)
    @inject
    def get(
        self, period_id: int, calendar: CalendarService = Provide[SERVICE]
    ) -> Response:
        """Read a blocked period"""
        return answer(calendar.get_exception(current_actor(), period_id))

    @roles("doctor", "admin")
    @blp.doc(operationId="deleteAvailabilityException")
    @blp.response(204)
    @documents(blp, 401, 403, 404)
    @inject
    def delete(self, period_id: int, calendar: CalendarService = Provide[SERVICE]) -> Response:
        """Delete a blocked period (its time is open again)"""
        calendar.delete_exception(current_actor(), period_id)
        return current_app.response_class(status=204)
