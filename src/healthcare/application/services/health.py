"""Readiness: whether the storage answers right now."""

from __future__ import annotations

import logging

from healthcare.application.services.base import Service

log = logging.getLogger(__name__)


class HealthService(Service):
    def storage_ready(self) -> bool:
        """Run one trivial query through a unit of work; any failure means not ready."""
        try:
            with self.uow_factory() as uow:
                uow.revocations.any_revoked(["readiness-probe"])
        except Exception:  # a probe reports every storage failure, whatever the driver raised
            log.warning("readiness probe: storage unavailable", exc_info=True)
            return False
        return True
