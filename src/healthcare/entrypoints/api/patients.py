"""Patient profiles: admins see all, doctors their patients, a patient themself. All audited."""

from __future__ import annotations

from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Response
from flask.views import MethodView

from healthcare.application.commands import CreatePatient, UpdatePatient
from healthcare.application.read_model import patient_view
from healthcare.application.services import PatientService
from healthcare.entrypoints.api.encoding import answer
from healthcare.entrypoints.api.routing import (
    LIST_HEADERS,
    documents,
    page_request,
    paginated,
    resource,
)
from healthcare.entrypoints.api.schemas.common import ListQuery
from healthcare.entrypoints.api.schemas.patients import (
    PatientIn,
    PatientOut,
    PatientPatch,
)
from healthcare.entrypoints.api.security import current_actor, roles, signed_in

blp = resource("patients", "/api/patients", "Patient profiles (every access is audited).")


@blp.route("/")
class Patients(MethodView):
    @signed_in
    @blp.doc(operationId="listPatients")
    @blp.arguments(ListQuery, location="query")
    @blp.response(200, PatientOut(many=True), headers=LIST_HEADERS)
    @documents(blp, 401)
    @inject
    def get(
        self, args: dict[str, Any], patients: PatientService = Provide["patient_service"]
    ) -> Any:
        """List the patients the caller may see"""
        return paginated(patients.list(current_actor(), page_request(args)))

    @roles("admin")
    @blp.doc(operationId="createPatient")
    @blp.arguments(
        PatientIn,
        example={
            "user": 3,
            "name": "Pat Lee",
            "email": "pat@example.com",
            "phone": "+1 555 0100",
            "insurance_id": "INS-20931",
            "date_of_birth": "1985-02-03",
        },
    )
    @blp.response(201, PatientOut)
    @documents(blp, 401, 403, 409)
    @inject
    def post(
        self, body: dict[str, Any], patients: PatientService = Provide["patient_service"]
    ) -> Response:
        """Create the profile of a patient-role user (patients sign up at /api/auth/register/)"""
        created = patients.create(current_actor(), CreatePatient(**body))
        return answer(patient_view(created), 201)


@blp.route("/<id:patient_id>/")
class PatientItem(MethodView):
    @signed_in
    @blp.doc(operationId="getPatient")
    @blp.response(200, PatientOut)
    @documents(blp, 401, 404)
    @inject
    def get(
        self, patient_id: int, patients: PatientService = Provide["patient_service"]
    ) -> Response:
        """Read a patient profile"""
        return answer(patients.get(current_actor(), patient_id))

    @signed_in
    @blp.doc(operationId="updatePatient")
    @blp.arguments(PatientPatch, example={"phone": "+1 555 0199"})
    @blp.response(200, PatientOut)
    @documents(blp, 401, 403, 404)
    @inject
    def patch(
        self,
        body: dict[str, Any],
        patient_id: int,
        patients: PatientService = Provide["patient_service"],
    ) -> Response:
        """Change a patient profile (a patient: only their own name, email and phone)"""
        changed = patients.update(current_actor(), patient_id, UpdatePatient(**body))
        return answer(patient_view(changed))
