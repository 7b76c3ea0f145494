"""Webhook endpoints (admins): where the clinic sends its events, signed (SPEC section 9.1)."""

from __future__ import annotations

from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Response, current_app
from flask.views import MethodView

from healthcare.application.commands import ChangeWebhook, CreateWebhook
from healthcare.application.services.webhooks import WebhookService
from healthcare.domain.webhooks import WebhookEndpoint
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
    @blp.arguments(ListQuery, location="query")
    @blp.response(200, WebhookOut(many=True), headers=LIST_HEADERS)
    @documents(blp, 401, 403)
    @inject
    def get(self, args: dict[str, Any], webhooks: WebhookService = Provide[SERVICE]) -> Any:
        """List webhook endpoints"""
        return paginated(webhooks.list(current_actor(), page_request(args)))

    @roles("admin")
    @blp.arguments(WebhookIn)
    @blp.response(201, WebhookWithSecretOut)
    @documents(blp, 401, 403, 422)
    @inject
    def post(self, body: dict[str, Any], webhooks: WebhookService = Provide[SERVICE]) -> WebhookEndpoint:
        """Subscribe an endpoint to events; the answer shows its signing secret, once"""
        return webhooks.create(current_actor(), CreateWebhook(**body))


@blp.route("/<id:endpoint_id>/")
class WebhookItem(MethodView):
    @roles("admin")
    @blp.response(200, WebhookOut)
    @documents(blp, 401, 403, 404)
    @inject
    def get(self, endpoint_id: int, webhooks: WebhookService = Provide[SERVICE]) -> WebhookEndpoint:
        """Read a webhook endpoint"""
        return webhooks.get(current_actor(), endpoint_id)

    @roles("admin")
    @blp.arguments(WebhookPatch)
    @blp.response(200, WebhookOut)
    @documents(blp, 401, 403, 404, 422)
    @inject
    def patch(
        self, body: dict[str, Any], endpoint_id: int, webhooks: WebhookService = Provide[SERVICE]
    ) -> WebhookEndpoint:
        """Change a webhook endpoint's URL, events or description, or enable it again"""
        return webhooks.update(current_actor(), endpoint_id, ChangeWebhook(**body))

    @roles("admin")
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
    @blp.response(200, WebhookWithSecretOut)
    @documents(blp, 401, 403, 404)
    @inject
    def post(self, endpoint_id: int, webhooks: WebhookService = Provide[SERVICE]) -> WebhookEndpoint:
        """Replace the endpoint's signing secret; the answer shows the new one, once"""
        return webhooks.rotate_secret(current_actor(), endpoint_id)


@blp.route("/<id:endpoint_id>/deliveries/")
class Deliveries(MethodView):
    @roles("admin")
    @blp.arguments(ListQuery, location="query")
    @blp.response(200, AttemptOut(many=True), headers=LIST_HEADERS)
    @documents(blp, 401, 403, 404)
    @inject
    def get(
        self, args: dict[str, Any], endpoint_id: int, webhooks: WebhookService = Provide[SERVICE]
    ) -> Any:
        """The endpoint's delivery attempts, newest first (no bodies)"""
        return paginated(webhooks.deliveries(current_actor(), endpoint_id, page_request(args)))
