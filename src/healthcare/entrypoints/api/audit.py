"""The audit trail of access to patient data, for admins."""

from __future__ import annotations

from typing import Any

from dependency_injector.wiring import Provide, inject
from flask.views import MethodView

from healthcare.application.ports import AuditFilter
from healthcare.application.services import AuditService
from healthcare.domain.audit import Action, Outcome, Resource
from healthcare.entrypoints.api.routing import (
    LIST_HEADERS,
    documents,
    page_request,
    paginated,
    resource,
)
from healthcare.entrypoints.api.schemas.audit import AuditEventOut, AuditQuery
from healthcare.entrypoints.api.security import current_actor, roles

blp = resource("audit-events", "/api/audit-events", "Who read or changed patient data (admins).")

ENUMS = {"resource": Resource, "action": Action, "outcome": Outcome}


@blp.route("/")
class AuditEvents(MethodView):
    @roles("admin")
    @blp.doc(operationId="listAuditEvents")
    @blp.arguments(AuditQuery, location="query")
    @blp.response(200, AuditEventOut(many=True), headers=LIST_HEADERS)
    @documents(blp, 401, 403)
    @inject
    def get(self, args: dict[str, Any], audit: AuditService = Provide["audit_service"]) -> Any:
        """List audit events, newest first, by actor, patient, resource, action and outcome"""
        page = page_request(args)
        where = {key: ENUMS[key](value) if key in ENUMS else value for key, value in args.items()}
        return paginated(audit.list(current_actor(), page, AuditFilter(**where)))
