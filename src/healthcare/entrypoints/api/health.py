"""Probes for the orchestrator: the process is up; the database answers."""

from __future__ import annotations

from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Response, current_app
from flask.views import MethodView

from healthcare.application.services import HealthService
from healthcare.entrypoints.api.encoding import answer
from healthcare.entrypoints.api.errors import error_response
from healthcare.entrypoints.api.routing import PUBLIC, documents, resource
from healthcare.entrypoints.api.schemas.common import HealthOut

blp = resource("health", "/", "Liveness and readiness probes.")


@blp.route("/healthz")
class Live(MethodView):
    @blp.doc(operationId="checkLiveness", security=PUBLIC)
    @blp.response(200, HealthOut)
    def get(self) -> Response:
        """The process is up"""
        return answer({"status": "ok"})


@blp.route("/readyz")
class Ready(MethodView):
    @blp.doc(operationId="checkReadiness", security=PUBLIC)
    @blp.response(200, HealthOut)
    @documents(blp, 503)
    @inject
    def get(self, health: HealthService = Provide["health_service"]) -> Any:
        """The database is reachable"""
        if not health.storage_ready():
            retry = str(current_app.config["RETRY_AFTER_SECONDS"])
            return error_response(
                503, "The database is not reachable.", headers={"Retry-After": retry}
            )
        return answer({"status": "ready"})
