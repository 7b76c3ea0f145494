"""Who is acting: every use case takes an Actor, so API and batch jobs obey the same rules."""

from __future__ import annotations

from dataclasses import dataclass

from healthcare.domain.errors import PermissionDenied
from healthcare.domain.users import Role


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    role: Role
    #: The actor's own profile ids, when their role has one.
    doctor_id: int | None = None
    patient_id: int | None = None

    @classmethod
    def system(cls) -> Actor:
        """Batch jobs act as the clinic itself: admin rights, no user behind them."""
        return cls(user_id=None, role=Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_doctor(self) -> bool:
        return self.role is Role.DOCTOR

    @property
    def is_patient(self) -> bool:
        return self.role is Role.PATIENT

    def require_role(self, *roles: Role) -> None:
        if self.role not in roles:
            raise PermissionDenied("Your role may not do this.")

    def require_calendar_of(self, doctor_id: int) -> int:
        """A doctor manages only their own calendar (windows, weekly hours, blocked periods);
        an admin anyone's."""
        if self.is_doctor and doctor_id != self.doctor_id:
            raise PermissionDenied("A doctor manages only their own availability.")
        return doctor_id
