"""The audit trail, for admins."""

from __future__ import annotations

from healthcare.application.ports import AuditFilter, Page, PageRequest
from healthcare.application.services.base import Service
from healthcare.domain.actor import Actor
from healthcare.domain.audit import AuditEvent
from healthcare.domain.users import Role


class AuditService(Service):
    def list(
        self, actor: Actor, page: PageRequest, where: AuditFilter = AuditFilter()
    ) -> Page[AuditEvent]:
        actor.require_role(Role.ADMIN)
        with self.uow_factory() as uow:
            return uow.audit.list(page, where)
