"""Weekly hours: anyone signed in reads them; a doctor manages their own, an admin anyone's."""

from __future__ import annotations

from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Response, current_app
from flask.views import MethodView

from healthcare.application.commands import CreateRule, UpdateRule
from healthcare.application.ports import RuleFilter
from healthcare.application.read_model import rule_view
from healthcare.application.services.calendar import CalendarService
from healthcare.entrypoints.api.encoding import answer
from healthcare.entrypoints.api.routing import (
    LIST_HEADERS,
    documents,
    page_request,
    paginated,
    resource,
)
from healthcare.entrypoints.api.schemas.calendar import (
    RuleIn,
    RuleOut,
    RulePatch,
    RuleQuery,
)
from healthcare.entrypoints.api.security import current_actor, roles, signed_in

blp = resource(
    "availability-rules",
    "/api/availability-rules",
    "Doctors' weekly hours: local wall-clock times in the doctor's time zone, so 09:00 stays "
    "09:00 across daylight-saving changes. Overlapping hours of one doctor are refused (409).",
)

SERVICE = "calendar_service"


@blp.route("/")
class Rules(MethodView):
    @signed_in
    @blp.doc(operationId="listAvailabilityRules")
    @blp.arguments(RuleQuery, location="query")
    @blp.response(200, RuleOut(many=True), headers=LIST_HEADERS)
    @documents(blp, 401)
    @inject
    def get(self, args: dict[str, Any], calendar: CalendarService = Provide[SERVICE]) -> Any:
        """List weekly hours, optionally of one doctor"""
        page = page_request(args)
        return paginated(calendar.list_rules(current_actor(), page, RuleFilter(**args)))

    @roles("doctor", "admin")
    @blp.doc(operationId="createAvailabilityRule")
    @blp.arguments(
        RuleIn,
        example={
            "doctor": 1,
            "weekday": 0,
            "start_time": "09:00",
            "end_time": "17:00",
            "valid_from": "2031-01-01",
        },
    )
    @blp.response(201, RuleOut)
    @documents(blp, 401, 403, 404, 409)
    @inject
    def post(
        self, body: dict[str, Any], calendar: CalendarService = Provide[SERVICE]
    ) -> Response:
        """Add weekly hours (a doctor: their own; an admin names the doctor)"""
        return answer(rule_view(calendar.create_rule(current_actor(), CreateRule(**body))), 201)


@blp.route("/<id:rule_id>/")
class RuleItem(MethodView):
    @signed_in
    @blp.doc(operationId="getAvailabilityRule")
    @blp.response(200, RuleOut)
    @documents(blp, 401, 404)
    @inject
    def get(self, rule_id: int, calendar: CalendarService = Provide[SERVICE]) -> Response:
        """Read weekly hours"""
        return answer(calendar.get_rule(current_actor(), rule_id))

    @roles("doctor", "admin")
    @blp.doc(operationId="updateAvailabilityRule")
    @blp.arguments(RulePatch, example={"end_time": "16:00"})
    @blp.response(200, RuleOut)
    @documents(blp, 401, 403, 404, 409)
    @inject
    def patch(
        self, body: dict[str, Any], rule_id: int, calendar: CalendarService = Provide[SERVICE]
    ) -> Response:
        """Change weekly hours (refused if it would strand a booking)"""
        return answer(rule_view(calendar.update_rule(current_actor(), rule_id, UpdateRule(**body))))

    @roles("doctor", "admin")
    @blp.doc(operationId="deleteAvailabilityRule")
    @blp.response(204)
    @documents(blp, 401, 403, 404, 409)
    @inject
    def delete(self, rule_id: int, calendar: CalendarService = Provide[SERVICE]) -> Response:
        """Delete weekly hours (refused if it would strand a booking)"""
        calendar.delete_rule(current_actor(), rule_id)
        return current_app.response_class(status=204)
