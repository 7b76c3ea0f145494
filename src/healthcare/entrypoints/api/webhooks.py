"""Webhook endpoints (admins): where the clinic sends its events, signed (SPEC section 9.1)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Response, current_app
from flask.views import MethodView

from healthcare.application.commands import ChangeWebhook, CreateWebhook
from healthcare.application.read_model import attempt_view, webhook_view
from healthcare.application.services.webhooks import WebhookService
from healthcare.entrypoints.api.encoding import answer
from healthcare.entrypoints.api.routing import (
    LIST_HEADERS,
    documents,
    page_request,
    paginated,
    resource,
)
from healthcare.entrypoints.api.schemas.common import ListQuery
from healthcare.entrypoints.api.schemas.webhooks import (
    AttemptOut,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
    WebhookWithSecretOut,
)
from healthcare.entrypoints.api.security import current_actor, roles

blp = resource(
    "webhooks",
    "/api/webhooks",
    "Webhook endpoints: each event is POSTed, signed as the Standard Webhooks specification "
    "says, to every active endpoint subscribed to it; retried for about 28 hours; a 410 "
    "answer disables the endpoint.",
)

SERVICE = "webhook_service"


@blp.route("/")
class Webhooks(MethodView):
    @roles("admin")
    @blp.doc(operationId="listWebhooks")
    @blp.arguments(ListQuery, location="query")
    @blp.response(200, WebhookOut(many=True), headers=LIST_HEADERS)
    @documents(blp, 401, 403)
    @inject
    def get(self, args: dict[str, Any], webhooks: WebhookService = Provide[SERVICE]) -> Response:
        """List webhook endpoints"""
        found = webhooks.list(current_actor(), page_request(args))
        return paginated(replace(found, items=[webhook_view(e) for e in found.items]))

    @roles("admin")
    @blp.doc(operationId="createWebhook")
    @blp.arguments(
        WebhookIn,
        example={
            "url": "https://crm.example.com/hooks/clinic",
            "events": ["appointment.booked", "appointment.cancelled"],
            "description": "CRM",
        },
    )
    @blp.response(201, WebhookWithSecretOut)
    @documents(blp, 401, 403, 422)
    @inject
    def post(self, body: dict[str, Any], webhooks: WebhookService = Provide[SERVICE]) -> Response:
        """Subscribe an endpoint to events; the answer shows its signing secret, once"""
        created = webhooks.create(current_actor(), CreateWebhook(**body))
        return answer(webhook_view(created, with_secret=True), 201)


@blp.route("/<id:endpoint_id>/")
class WebhookItem(MethodView):
    @roles("admin")
    @blp.doc(operationId="getWebhook")
    @blp.response(200, WebhookOut)
    @documents(blp, 401, 403, 404)
    @inject
    def get(self, endpoint_id: int, webhooks: WebhookService = Provide[SERVICE]) -> Response:
        """Read a webhook endpoint"""
        return answer(webhook_view(webhooks.get(current_actor(), endpoint_id)))

    @roles("admin")
    @blp.doc(operationId="changeWebhook")
    @blp.arguments(WebhookPatch, example={"is_active": True})
    @blp.response(200, WebhookOut)
    @documents(blp, 401, 403, 404, 422)
    @inject
    def patch(
        self, body: dict[str, Any], endpoint_id: int, webhooks: WebhookService = Provide[SERVICE]
    ) -> Response:
        """Change a webhook endpoint's URL, events or description, or enable it again"""
        changed = webhooks.update(current_actor(), endpoint_id, ChangeWebhook(**body))
        return answer(webhook_view(changed))

    @roles("admin")
    @blp.doc(operationId="deleteWebhook")
    @blp.response(204)
    @documents(blp, 401, 403, 404)
    @inject
    def delete(self, endpoint_id: int, webhooks: WebhookService = Provide[SERVICE]) -> Response:
        """Delete a webhook endpoint, its undelivered events and its delivery log"""
        webhooks.delete(current_actor(), endpoint_id)
        return current_app.response_class(status=204)


@blp.route("/<id:endpoint_id>/rotate-secret/")
class RotateSecret(MethodView):
    @roles("admin")
    @blp.doc(operationId="rotateWebhookSecret")
    @blp.response(200, WebhookWithSecretOut)
    @documents(blp, 401, 403, 404)
    @inject
    def post(self, endpoint_id: int, webhooks: WebhookService = Provide[SERVICE]) -> Response:
        """Replace the endpoint's signing secret; the answer shows the new one, once"""
        rotated = webhooks.rotate_secret(current_actor(), endpoint_id)
        return answer(webhook_view(rotated, with_secret=True))


@blp.route("/<id:endpoint_id>/deliveries/")
class Deliveries(MethodView):
    @roles("admin")
    @blp.doc(operationId="listWebhookDeliveries")
    @blp.arguments(ListQuery, location="query")
    @blp.response(200, AttemptOut(many=True), headers=LIST_HEADERS)
    @documents(blp, 401, 403, 404)
    @inject
    def get(
        self, args: dict[str, Any], endpoint_id: int, webhooks: WebhookService = Provide[SERVICE]
    ) -> Response:
        """The endpoint's delivery attempts, newest first (no bodies)"""
        found = webhooks.deliveries(current_actor(), endpoint_id, page_request(args))
        return paginated(replace(found, items=[attempt_view(a) for a in found.items]))
