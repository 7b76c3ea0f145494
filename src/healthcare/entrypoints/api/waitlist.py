"""The waitlist (SPEC section 8): wait for an earlier slot; an offer arrives as a hold."""

from __future__ import annotations

from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Response, current_app
from flask.views import MethodView

from healthcare.application.commands import JoinWaitlist
from healthcare.application.read_model import waitlist_view
from healthcare.application.services import WaitlistService
from healthcare.entrypoints.api.encoding import answer
from healthcare.entrypoints.api.routing import (
    LIST_HEADERS,
    documents,
    page_request,
    paginated,
    resource,
)
from healthcare.entrypoints.api.schemas.common import IdempotencyHeaders
from healthcare.entrypoints.api.schemas.waitlist import (
    WaitlistIn,
    WaitlistOut,
    WaitlistQuery,
)
from healthcare.entrypoints.api.security import current_actor, roles, signed_in

blp = resource(
    "waitlist", "/api/waitlist", "Waiting for an earlier slot; offers come as holds (section 8)."
)

SERVICE = "waitlist_service"


@blp.route("/")
class Waitlist(MethodView):
    @signed_in
    @blp.doc(operationId="listWaitlist")
    @blp.arguments(WaitlistQuery, location="query")
    @blp.response(200, WaitlistOut(many=True), headers=LIST_HEADERS)
    @documents(blp, 401)
    @inject
    def get(self, args: dict[str, Any], waitlist: WaitlistService = Provide[SERVICE]) -> Any:
        """List waitlist entries: a patient's own, a doctor's, an admin's all"""
        return paginated(waitlist.list(current_actor(), page_request(args)))

    @roles("patient", "admin")
    @blp.doc(operationId="joinWaitlist")
    @blp.arguments(IdempotencyHeaders, location="headers")
    @blp.arguments(
        WaitlistIn,
        example={"doctor": 1, "start": "2031-04-03T09:00:00Z", "end": "2031-04-03T12:00:00Z"},
    )
    @blp.response(201, WaitlistOut)
    @documents(blp, 401, 403, 404)
    @inject
    def post(
        self,
        headers: dict[str, Any],
        body: dict[str, Any],
        waitlist: WaitlistService = Provide[SERVICE],
    ) -> Response:
        """Wait for any slot of a doctor starting in [start, end) (a patient: for themself);
        an Idempotency-Key makes retries safe"""
        entry = waitlist.join(current_actor(), JoinWaitlist(**body), headers.get("idempotency_key"))
        return answer(waitlist_view(entry), 201)


@blp.route("/<id:entry_id>/")
class WaitlistItem(MethodView):
    @signed_in
    @blp.doc(operationId="getWaitlistEntry")
    @blp.response(200, WaitlistOut)
    @documents(blp, 401, 404)
    @inject
    def get(self, entry_id: int, waitlist: WaitlistService = Provide[SERVICE]) -> Response:
        """Read a waitlist entry"""
        return answer(waitlist.get(current_actor(), entry_id))

    @signed_in
    @blp.doc(operationId="leaveWaitlist")
    @blp.response(204)
    @documents(blp, 401, 403, 404)
    @inject
    def delete(self, entry_id: int, waitlist: WaitlistService = Provide[SERVICE]) -> Response:
        """Leave the waitlist (its patient or an admin); an offer it holds passes on"""
        waitlist.leave(current_actor(), entry_id)
        return current_app.response_class(status=204)
