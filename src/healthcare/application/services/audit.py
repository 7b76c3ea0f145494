"""The audit trail, for admins."""

from __future__ import annotations

from healthcare.application.ports import AuditFilter, Page, PageRequest
from healthcare.application.read_model import View
from healthcare.application.services.base import Service
from healthcare.domain.actor import Actor
from healthcare.domain.users import Role


class AuditService(Service):
    def list(
        self, actor: Actor, page: PageRequest, where: AuditFilter = AuditFilter()
    ) -> Page[View]:
        actor.require_role(Role.ADMIN)
        return self.reads.audit_events(page, where)
