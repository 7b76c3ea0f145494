"""Patient profiles: protected health information, so every access is audited."""

from __future__ import annotations

from dataclasses import replace

from healthcare.application.commands import CreatePatient, UpdatePatient, given
from healthcare.application.ports import Page, PageRequest, PatientFilter
from healthcare.application.services.base import Service, not_found
from healthcare.application.unit_of_work import UnitOfWork
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

    def get(self, actor: Actor, patient_id: int) -> Patient:
        try:
            with self.uow_factory() as uow:
                patient = self._visible(uow, actor, patient_id)
                self.audit(uow, actor, Action.READ, Resource.PATIENT, [(patient_id, patient_id)])
                uow.commit()
        except NotFound:
            self.audit_denied(actor, Action.READ, Resource.PATIENT, patient_id, None)
            raise
        return patient

    def list(self, actor: Actor, page: PageRequest) -> Page[Patient]:
        if actor.is_admin:
            where = PatientFilter()
        elif actor.is_doctor:
            where = PatientFilter(seen_by_doctor_id=actor.doctor_id or -1)
        else:
            where = PatientFilter(patient_id=actor.patient_id or -1)
        with self.uow_factory() as uow:
            result = uow.patients.list(page, where)
            subjects = [(p.id, p.id) for p in result.items] or [(None, None)]
            self.audit(uow, actor, Action.LIST, Resource.PATIENT, subjects)
            uow.commit()
        return result

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
        if patient is None:
            raise not_found("Patient")
        if actor.is_admin:
            return patient
        if actor.is_patient and actor.patient_id == patient_id:
            return patient
        if actor.is_doctor and actor.doctor_id is not None:
            if uow.appointments.exists_between(actor.doctor_id, patient_id):
                return patient
        raise not_found("Patient")
