"""Medical records: written by the appointment's doctor, read by few, every access audited."""

from __future__ import annotations

from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Response
from flask.views import MethodView

from healthcare.application.commands import ReviseMedicalRecord, WriteMedicalRecord
from healthcare.application.ports import RecordFilter
from healthcare.application.read_model import record_view
from healthcare.application.services import MedicalRecordService
from healthcare.entrypoints.api.encoding import answer
from healthcare.entrypoints.api.routing import (
    LIST_HEADERS,
    documents,
    page_request,
    paginated,
    resource,
)
from healthcare.entrypoints.api.schemas.common import IdempotencyHeaders
from healthcare.entrypoints.api.schemas.records import (
    MedicalRecordIn,
    MedicalRecordOut,
    MedicalRecordPatch,
    RecordQuery,
)
from healthcare.entrypoints.api.security import current_actor, roles, signed_in

blp = resource(
    "medical-records", "/api/medical-records", "Medical records (every access is audited)."
)

SERVICE = "medical_record_service"


@blp.route("/")
class MedicalRecords(MethodView):
    @signed_in
    @blp.doc(operationId="listMedicalRecords")
    @blp.arguments(RecordQuery, location="query")
    @blp.response(200, MedicalRecordOut(many=True), headers=LIST_HEADERS)
    @documents(blp, 401)
    @inject
    def get(self, args: dict[str, Any], records: MedicalRecordService = Provide[SERVICE]) -> Any:
        """List the records the caller may read, by patient, doctor and appointment"""
        page = page_request(args)
        return paginated(records.list(current_actor(), page, RecordFilter(**args)))

    @roles("doctor")
    @blp.doc(operationId="writeMedicalRecord")
    @blp.arguments(IdempotencyHeaders, location="headers")
    @blp.arguments(
        MedicalRecordIn,
        example={"appointment": 1, "diagnosis": "Stable angina", "treatment": "Beta blocker"},
    )
    @blp.response(201, MedicalRecordOut)
    @documents(blp, 401, 403, 404, 409)
    @inject
    def post(
        self,
        headers: dict[str, Any],
        body: dict[str, Any],
        records: MedicalRecordService = Provide[SERVICE],
    ) -> Response:
        """Write the record of an appointment (its doctor; one per appointment); an
        Idempotency-Key makes retries safe"""
        written = records.create(
            current_actor(), WriteMedicalRecord(**body), headers.get("idempotency_key")
        )
        return answer(record_view(written), 201)


@blp.route("/<id:record_id>/")
class MedicalRecordItem(MethodView):
    @signed_in
    @blp.doc(operationId="getMedicalRecord")
    @blp.response(200, MedicalRecordOut)
    @documents(blp, 401, 404)
    @inject
    def get(
        self, record_id: int, records: MedicalRecordService = Provide[SERVICE]
    ) -> Response:
        """Read a record (its patient, doctors who see that patient, admins)"""
        return answer(records.get(current_actor(), record_id))

    @signed_in
    @blp.doc(operationId="reviseMedicalRecord")
    @blp.arguments(MedicalRecordPatch, example={"notes": "Follow up in three months."})
    @blp.response(200, MedicalRecordOut)
    @documents(blp, 401, 403, 404)
    @inject
    def patch(
        self,
        body: dict[str, Any],
        record_id: int,
        records: MedicalRecordService = Provide[SERVICE],
    ) -> Response:
        """Revise a record (its author)"""
        revised = records.update(current_actor(), record_id, ReviseMedicalRecord(**body))
        return answer(record_view(revised))
