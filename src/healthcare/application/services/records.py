"""Medical records: written by the appointment's doctor, read by few, every access audited."""

from __future__ import annotations

from healthcare.application.commands import (
    ReviseMedicalRecord,
    WriteMedicalRecord,
    given,
)
from healthcare.application.ports import Page, PageRequest, RecordFilter
from healthcare.application.services.base import Service, not_found
from healthcare.application.unit_of_work import UnitOfWork
from healthcare.domain.actor import Actor
from healthcare.domain.audit import Action, Resource
from healthcare.domain.errors import NotFound, PermissionDenied, RecordAlreadyExists
from healthcare.domain.events import EventType, record_event
from healthcare.domain.records import MedicalRecord

RECORD = Resource.MEDICAL_RECORD


class MedicalRecordService(Service):
    def create(self, actor: Actor, command: WriteMedicalRecord) -> MedicalRecord:
        now = self.clock.now()
        try:
            with self.uow_factory() as uow:
                if not actor.is_doctor:
                    raise PermissionDenied("Only the appointment's doctor writes its record.")
                appointment = uow.appointments.get(command.appointment_id)
                if appointment is None or not appointment.visible_to(actor):
                    raise not_found("Appointment")
                record = MedicalRecord.write_for(
                    appointment,
                    actor,
                    now,
                    diagnosis=command.diagnosis,
                    treatment=command.treatment,
                    notes=command.notes,
                    patient_id=command.patient_id,
                )
                if uow.records.get_by_appointment(command.appointment_id) is not None:
                    raise RecordAlreadyExists()
                record = uow.records.add(record)
                self.audit(uow, actor, Action.CREATE, RECORD, [(record.id, record.patient_id)])
                uow.webhooks.publish(record_event(EventType.MEDICAL_RECORD_CREATED, record, now))
                uow.commit()
        except (NotFound, PermissionDenied):
            self.audit_denied(actor, Action.CREATE, RECORD, None, command.patient_id)
            raise
        return record

    def get(self, actor: Actor, record_id: int) -> MedicalRecord:
        try:
            with self.uow_factory() as uow:
                record = self._visible(uow, actor, record_id)
                self.audit(uow, actor, Action.READ, RECORD, [(record.id, record.patient_id)])
                uow.commit()
        except NotFound:
            self.audit_denied(actor, Action.READ, RECORD, record_id, None)
            raise
        return record

    def list(
        self, actor: Actor, page: PageRequest, where: RecordFilter = RecordFilter()
    ) -> Page[MedicalRecord]:
        if actor.is_patient:
            if where.patient_id not in (None, actor.patient_id) or actor.patient_id is None:
                return self._audited_empty(actor, page)
            where = RecordFilter(
                patient_id=actor.patient_id,
                doctor_id=where.doctor_id,
                appointment_id=where.appointment_id,
            )
        elif actor.is_doctor:
            where = RecordFilter(
                patient_id=where.patient_id,
                doctor_id=where.doctor_id,
                appointment_id=where.appointment_id,
                visible_to_doctor_id=actor.doctor_id or -1,
            )
        with self.uow_factory() as uow:
            result = uow.records.list(page, where)
            subjects = [(r.id, r.patient_id) for r in result.items] or [(None, where.patient_id)]
            self.audit(uow, actor, Action.LIST, RECORD, subjects)
            uow.commit()
        return result

    def update(self, actor: Actor, record_id: int, command: ReviseMedicalRecord) -> MedicalRecord:
        now = self.clock.now()
        try:
            with self.uow_factory() as uow:
                record = self._visible(uow, actor, record_id)
                record.revise(actor, now, **given(command))
                uow.records.update(record)
                self.audit(uow, actor, Action.UPDATE, RECORD, [(record.id, record.patient_id)])
                uow.webhooks.publish(record_event(EventType.MEDICAL_RECORD_UPDATED, record, now))
                uow.commit()
        except (NotFound, PermissionDenied):
            self.audit_denied(actor, Action.UPDATE, RECORD, record_id, None)
            raise
        return record

    def _audited_empty(self, actor: Actor, page: PageRequest) -> Page[MedicalRecord]:
        with self.uow_factory() as uow:
            self.audit(uow, actor, Action.LIST, RECORD, [(None, None)])
            uow.commit()
        return Page.empty(page)

    @staticmethod
    def _visible(uow: UnitOfWork, actor: Actor, record_id: int) -> MedicalRecord:
        """The patient it is about, doctors who see that patient, and admins."""
        record = uow.records.get(record_id)
        if record is None:
            raise not_found("Medical record")
        if actor.is_admin:
            return record
        if actor.is_patient and actor.patient_id == record.patient_id:
            return record
        if actor.is_doctor and actor.doctor_id is not None:
            if actor.doctor_id == record.doctor_id or uow.appointments.exists_between(
                actor.doctor_id, record.patient_id
            ):
                return record
        raise not_found("Medical record")
