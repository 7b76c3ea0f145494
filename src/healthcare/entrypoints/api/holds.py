"""Holds (SPEC section 8): keep a slot while finishing a booking, book it, or let it go."""

from __future__ import annotations

from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Response, current_app
from flask.views import MethodView

from healthcare.application.commands import PlaceHold
from healthcare.application.read_model import appointment_view, hold_view
from healthcare.application.services import HoldService
from healthcare.entrypoints.api.encoding import answer
from healthcare.entrypoints.api.routing import (
    LIST_HEADERS,
    documents,
    page_request,
    paginated,
    resource,
)
from healthcare.entrypoints.api.schemas.appointments import AppointmentOut
from healthcare.entrypoints.api.schemas.common import IdempotencyHeaders
from healthcare.entrypoints.api.schemas.holds import (
    BookHoldIn,
    HoldIn,
    HoldOut,
    HoldQuery,
)
from healthcare.entrypoints.api.security import current_actor, roles, signed_in

blp = resource(
    "holds", "/api/holds", "Slots kept for a patient while they finish booking (section 8)."
)

SERVICE = "hold_service"


@blp.route("/")
class Holds(MethodView):
    @signed_in
    @blp.doc(operationId="listHolds")
    @blp.arguments(HoldQuery, location="query")
    @blp.response(200, HoldOut(many=True), headers=LIST_HEADERS)
    @documents(blp, 401)
    @inject
    def get(self, args: dict[str, Any], holds: HoldService = Provide[SERVICE]) -> Any:
        """List the caller's live holds (admins: all)"""
        return paginated(holds.list(current_actor(), page_request(args)))

    @roles("patient", "admin")
    @blp.doc(operationId="createHold")
    @blp.arguments(IdempotencyHeaders, location="headers")
    @blp.arguments(HoldIn, example={"doctor": 1, "datetime": "2031-04-03T10:30:00Z"})
    @blp.response(201, HoldOut)
    @documents(blp, 401, 403, 404, 409)
    @inject
    def post(
        self, headers: dict[str, Any], body: dict[str, Any], holds: HoldService = Provide[SERVICE]
    ) -> Response:
        """Hold a slot for HOLD_MINUTES, checked like a booking (a patient: for themself); an
        Idempotency-Key makes retries safe"""
        held = holds.place(current_actor(), PlaceHold(**body), headers.get("idempotency_key"))
        return answer(hold_view(held), 201)


@blp.route("/<id:hold_id>/")
class HoldItem(MethodView):
    @signed_in
    @blp.doc(operationId="getHold")
    @blp.response(200, HoldOut)
    @documents(blp, 401, 404)
    @inject
    def get(self, hold_id: int, holds: HoldService = Provide[SERVICE]) -> Response:
        """Read a hold (its patient or an admin), until it is booked"""
        return answer(holds.get(current_actor(), hold_id))

    @signed_in
    @blp.doc(operationId="deleteHold")
    @blp.response(204)
    @documents(blp, 401, 404)
    @inject
    def delete(self, hold_id: int, holds: HoldService = Provide[SERVICE]) -> Response:
        """Give a held slot back"""
        holds.release(current_actor(), hold_id)
        return current_app.response_class(status=204)


@blp.route("/<id:hold_id>/book/")
class BookHold(MethodView):
    @signed_in
    @blp.doc(operationId="bookHold")
    @blp.arguments(IdempotencyHeaders, location="headers")
    @blp.arguments(BookHoldIn, example={"reason": "Checkup"})
    @blp.response(201, AppointmentOut)
    @documents(blp, 401, 404, 409)
    @inject
    def post(
        self,
        headers: dict[str, Any],
        body: dict[str, Any],
        hold_id: int,
        holds: HoldService = Provide[SERVICE],
    ) -> Response:
        """Book the held slot: the pending appointment (its patient or an admin; 409 once
        expired); an Idempotency-Key makes retries safe"""
        booked = holds.book(
            current_actor(), hold_id, body.get("reason", ""), headers.get("idempotency_key")
        )
        return answer(appointment_view(booked), 201)
