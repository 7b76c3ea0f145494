"""Medical records: written by the appointment's doctor, read by few, every access audited."""

from __future__ import annotations

from healthcare.application.commands import (
    ReviseMedicalRecord,
    WriteMedicalRecord,
    given,
)
from healthcare.application.ports import Page, PageRequest, RecordFilter
from healthcare.application.read_model import View
from healthcare.application.services.base import Service, found, not_found, treats
from healthcare.application.unit_of_work import UnitOfWork
from healthcare.domain.access import Scope
from healthcare.domain.actor import Actor
from healthcare.domain.audit import Action, Resource
from healthcare.domain.errors import NotFound, PermissionDenied, RecordAlreadyExists
from healthcare.domain.events import EventType, record_event
from healthcare.domain.idempotency import claim, owner_of
from healthcare.domain.records import MedicalRecord

RECORD = Resource.MEDICAL_RECORD


class MedicalRecordService(Service):
    def create(
        self, actor: Actor, command: WriteMedicalRecord, idempotency_key: str | None = None
    ) -> MedicalRecord:
        """Write an appointment's record; with an idempotency key, a retry of the same request
        answers the record the first one wrote."""
        request = claim(
            owner_of(actor.user_id),
            idempotency_key,
            "medical_record",
            **vars(command),
        )
        try:
            return self.creating_once(
                request,
                lambda uow: self._write(uow, actor, command),
                lambda uow, record_id: self._visible(uow, actor, record_id),
            )
        except (NotFound, PermissionDenied):
            self.audit_denied(actor, Action.CREATE, RECORD, None, command.patient_id)
            raise

    def _write(self, uow: UnitOfWork, actor: Actor, command: WriteMedicalRecord) -> MedicalRecord:
        if not actor.is_doctor:
            raise PermissionDenied("Only the appointment's doctor writes its record.")
        appointment = uow.appointments.get(command.appointment_id)
        if appointment is None or appointment.is_hold or not appointment.visible_to(actor):
            raise not_found("Appointment")
        record = MedicalRecord.write_for(
            appointment,
            actor,
            self.clock.now(),
            diagnosis=command.diagnosis,
            treatment=command.treatment,
            notes=command.notes,
            patient_id=command.patient_id,
        )
        if uow.records.get_by_appointment(command.appointment_id) is not None:
            raise RecordAlreadyExists()
        record = uow.records.add(record)
        self.audit(uow, actor, Action.CREATE, RECORD, [(record.id, record.patient_id)])
        uow.webhooks.publish(record_event(EventType.MEDICAL_RECORD_CREATED, record, record.created_at))
        return record

    def get(self, actor: Actor, record_id: int) -> View:
        """A record in the actor's scope; the read is audited (``AuditedRead``), a refused one
        as denied."""
        read = self.reads.record(Scope.of(actor), record_id, self.audited_read(actor))
        return found(read, "Medical record")

    def list(
        self, actor: Actor, page: PageRequest, where: RecordFilter = RecordFilter()
    ) -> Page[View]:
        """The records in the actor's scope, narrowed by ``where``; the list is audited."""
        return self.reads.records(Scope.of(actor), page, where, self.audited_read(actor))

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

    @staticmethod
    def _visible(uow: UnitOfWork, actor: Actor, record_id: int) -> MedicalRecord:
        """The patient it is about, doctors who see that patient, and admins."""
        record = uow.records.get(record_id)
        scope = Scope.of(actor)
        if record is not None and scope.sees_record(
            record.patient_id, record.doctor_id, treated=treats(uow, scope, record.patient_id)
        ):
            return record
        raise not_found("Medical record")
