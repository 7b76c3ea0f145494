"""Patient profiles: protected health information, so every access is audited."""

from __future__ import annotations

from dataclasses import replace

from healthcare.application.commands import CreatePatient, UpdatePatient, given
from healthcare.application.ports import Page, PageRequest
from healthcare.application.read_model import View
from healthcare.application.services.base import Service, found, not_found, treats
from healthcare.application.unit_of_work import UnitOfWork
from healthcare.domain.access import Scope
from healthcare.domain.actor import Actor
from healthcare.domain.audit import Action, Resource
from healthcare.domain.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    ProfileAlreadyExists,
)
from healthcare.domain.patients import Patient
from healthcare.domain.users import Role


class PatientService(Service):
    def create(self, actor: Actor, command: CreatePatient) -> Patient:
        try:
            actor.require_role(Role.ADMIN)
        except PermissionDenied:
            self.audit_denied(actor, Action.CREATE, Resource.PATIENT, None, None)
            raise
        now = self.clock.now()
        patient = Patient(
            user_id=command.user_id,
            name=command.name,
            email=command.email,
            phone=command.phone,
            insurance_id=command.insurance_id,
            date_of_birth=command.date_of_birth,
        )
        patient.validate(today=now.date())
        with self.uow_factory() as uow:
            user = uow.users.get(command.user_id)
            if user is None or user.role is not Role.PATIENT:
                raise InvalidInput(
                    "user must be an existing patient-role user.",
                    {"user": ["Not a patient-role user."]},
                )
            if uow.patients.get_by_user(command.user_id) is not None:
                raise ProfileAlreadyExists("patient")
            patient = uow.patients.add(patient)
            self.audit(uow, actor, Action.CREATE, Resource.PATIENT, [(patient.id, patient.id)])
            uow.commit()
        return patient

    def get(self, actor: Actor, patient_id: int) -> View:
        """A patient profile in the actor's scope; the read is audited (``AuditedRead``),
        a refused one as denied."""
        read = self.reads.patient(Scope.of(actor), patient_id, self.audited_read(actor))
        return found(read, "Patient")

    def list(self, actor: Actor, page: PageRequest, name: str | None = None) -> Page[View]:
        """The patients in the actor's scope (whose name contains ``name``, compared
        case-insensitively); the list is audited (``AuditedRead``)."""
        return self.reads.patients(Scope.of(actor), page, self.audited_read(actor), name)

    def update(self, actor: Actor, patient_id: int, command: UpdatePatient) -> Patient:
        changes = given(command)
        now = self.clock.now()
        try:
            with self.uow_factory() as uow:
                patient = self._visible(uow, actor, patient_id)
                if actor.is_doctor:
                    raise PermissionDenied("Doctors do not edit patient profiles.")
                if actor.is_patient and not set(changes) <= Patient.CONTACT_FIELDS:
                    raise PermissionDenied(
                        "A patient may change only their name, email and phone.",
                    )
                patient = replace(patient, **changes)
                patient.validate(today=now.date())
                uow.patients.update(patient)
                self.audit(uow, actor, Action.UPDATE, Resource.PATIENT, [(patient_id, patient_id)])
                uow.commit()
        except (NotFound, PermissionDenied):
            self.audit_denied(actor, Action.UPDATE, Resource.PATIENT, patient_id, None)
            raise
        return patient

    @staticmethod
    def _visible(uow: UnitOfWork, actor: Actor, patient_id: int) -> Patient:
        patient = uow.patients.get(patient_id)
        scope = Scope.of(actor)
        if patient is not None and scope.sees_patient(
            patient_id, treated=treats(uow, scope, patient_id)
        ):
            return patient
        raise not_found("Patient")

