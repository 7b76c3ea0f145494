"""Doctor profiles: anyone signed in reads them; admins manage them."""

from __future__ import annotations

from dataclasses import replace

from healthcare.application.commands import CreateDoctor, UpdateDoctor, given
from healthcare.application.ports import Page, PageRequest
from healthcare.application.read_model import View
from healthcare.application.services.base import Service, found
from healthcare.domain.actor import Actor
from healthcare.domain.doctors import Doctor
from healthcare.domain.errors import InUse, InvalidInput, ProfileAlreadyExists
from healthcare.domain.users import Role


class DoctorService(Service):
    def create(self, actor: Actor, command: CreateDoctor) -> Doctor:
        actor.require_role(Role.ADMIN)
        doctor = Doctor(
            user_id=command.user_id,
            name=command.name,
            specialization=command.specialization,
            appointment_minutes=command.appointment_minutes,
            timezone=command.timezone,
        )
        with self.uow_factory() as uow:
            user = uow.users.get(command.user_id)
            if user is None or user.role is not Role.DOCTOR:
                raise InvalidInput(
                    "user must be an existing doctor-role user.",
                    {"user": ["Not a doctor-role user."]},
                )
            if uow.doctors.get_by_user(command.user_id) is not None:
                raise ProfileAlreadyExists("doctor")
            doctor = uow.doctors.add(doctor)
            uow.commit()
        return doctor

    def get(self, actor: Actor, doctor_id: int) -> View:
        return found(self.reads.doctor(doctor_id), "Doctor")

    def list(
        self,
        actor: Actor,
        page: PageRequest,
        specialization: str | None = None,
        name: str | None = None,
    ) -> Page[View]:
        """Doctors of one specialization and/or whose name contains ``name`` (both compared
        case-insensitively)."""
        return self.reads.doctors(page, specialization, name)

    def update(self, actor: Actor, doctor_id: int, command: UpdateDoctor) -> Doctor:
        actor.require_role(Role.ADMIN)
        with self.uow_factory() as uow:
            doctor = found(uow.doctors.get(doctor_id), "Doctor")
            doctor = replace(doctor, **given(command))  # replace() re-runs validation
            uow.doctors.update(doctor)
            uow.commit()
        return doctor

    def delete(self, actor: Actor, doctor_id: int) -> None:
        """Refused while appointments or records name the doctor: history is never erased."""
        actor.require_role(Role.ADMIN)
        with self.uow_factory() as uow:
            found(uow.doctors.get(doctor_id), "Doctor")
            if uow.doctors.is_referenced(doctor_id):
                raise InUse("The doctor has appointments or medical records; deactivate the user.")
            uow.doctors.delete(doctor_id)
            uow.commit()
