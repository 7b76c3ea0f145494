"""Doctor profiles (anyone signed in reads, admins manage) and their free slots."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Response, current_app
from flask.views import MethodView

from healthcare.application.commands import CreateDoctor, UpdateDoctor, UpdatePolicy
from healthcare.application.read_model import doctor_view
from healthcare.application.services import DoctorService, SlotService
from healthcare.application.services.calendar import CalendarService
from healthcare.domain.policy import DOCTOR_CHOICES, BookingPolicy
from healthcare.entrypoints.api.encoding import answer
from healthcare.entrypoints.api.routing import (
    LIST_HEADERS,
    documents,
    page_request,
    paginated,
    resource,
)
from healthcare.entrypoints.api.schemas.doctors import (
    DoctorIn,
    DoctorOut,
    DoctorPatch,
    DoctorQuery,
    PolicyOut,
    PolicyPatch,
    SlotOut,
    SlotQuery,
)
from healthcare.entrypoints.api.security import current_actor, roles, signed_in
from healthcare.entrypoints.api.slots import slot_view

blp = resource("doctors", "/api/doctors", "Doctor profiles and their bookable slots.")

@blp.route("/")
class Doctors(MethodView):
    @signed_in
    @blp.doc(operationId="listDoctors")
    @blp.arguments(DoctorQuery, location="query")
    @blp.response(200, DoctorOut(many=True), headers=LIST_HEADERS)
    @documents(blp, 401)
    @inject
    def get(self, args: dict[str, Any], doctors: DoctorService = Provide["doctor_service"]) -> Any:
        """List doctors, optionally of one specialization"""
        page = page_request(args)
        return paginated(doctors.list(current_actor(), page, args.get("specialization")))

    @roles("admin")
    @blp.doc(operationId="createDoctor")
    @blp.arguments(
        DoctorIn,
        example={"user": 2, "name": "Dr. Smith", "specialization": "Cardiology"},
    )
    @blp.response(201, DoctorOut)
    @documents(blp, 401, 403, 409)
    @inject
    def post(
        self, body: dict[str, Any], doctors: DoctorService = Provide["doctor_service"]
    ) -> Response:
        """Create the doctor profile of a doctor-role user"""
        return answer(doctor_view(doctors.create(current_actor(), CreateDoctor(**body))), 201)


@blp.route("/<id:doctor_id>/")
class DoctorItem(MethodView):
    @signed_in
    @blp.doc(operationId="getDoctor")
    @blp.response(200, DoctorOut)
    @documents(blp, 401, 404)
    @inject
    def get(self, doctor_id: int, doctors: DoctorService = Provide["doctor_service"]) -> Response:
        """Read a doctor"""
        return answer(doctors.get(current_actor(), doctor_id))

    @roles("admin")
    @blp.doc(operationId="updateDoctor")
    @blp.arguments(DoctorPatch, example={"appointment_minutes": 20, "timezone": "Europe/Berlin"})
    @blp.response(200, DoctorOut)
    @documents(blp, 401, 403, 404)
    @inject
    def patch(
        self,
        body: dict[str, Any],
        doctor_id: int,
        doctors: DoctorService = Provide["doctor_service"],
    ) -> Response:
        """Change a doctor's name, specialization, appointment length or time zone"""
        return answer(doctor_view(doctors.update(current_actor(), doctor_id, UpdateDoctor(**body))))

    @roles("admin")
    @blp.doc(operationId="deleteDoctor")
    @blp.response(204)
    @documents(blp, 401, 403, 404, 409)
    @inject
    def delete(
        self, doctor_id: int, doctors: DoctorService = Provide["doctor_service"]
    ) -> Response:
        """Delete a doctor who has no appointments or records"""
        doctors.delete(current_actor(), doctor_id)
        return current_app.response_class(status=204)


@blp.route("/<id:doctor_id>/slots/")
class DoctorSlots(MethodView):
    @signed_in
    @blp.doc(operationId="listDoctorSlots")
    @blp.arguments(SlotQuery, location="query")
    @blp.response(200, SlotOut(many=True))
    @documents(blp, 401, 404)
    @inject
    def get(
        self, args: dict[str, Any], doctor_id: int, slots: SlotService = Provide["slot_service"]
    ) -> Response:
        """The free bookable slots of a doctor between start and end (at most 31 days), in UTC
        and in the doctor's time zone"""
        doctor, free = slots.for_doctor(current_actor(), doctor_id, args["start"], args["end"])
        return answer([slot_view(doctor, slot) for slot in free])


def _policy_body(
    doctor_id: int, policy: tuple[BookingPolicy, BookingPolicy]
) -> dict[str, Any]:
    own, in_force = policy
    choices = {name: getattr(own, name) for name in DOCTOR_CHOICES}
    return {"doctor": doctor_id, **asdict(in_force), "overrides": choices}


@blp.route("/<id:doctor_id>/policy/")
class DoctorPolicy(MethodView):
    @signed_in
    @blp.doc(operationId="getDoctorPolicy")
    @blp.response(200, PolicyOut)
    @documents(blp, 401, 404)
    @inject
    def get(
        self, doctor_id: int, calendar: CalendarService = Provide["calendar_service"]
    ) -> Response:
        """The doctor's booking policy: the clinic's defaults with the doctor's own choices"""
        return answer(_policy_body(doctor_id, calendar.policy_of(current_actor(), doctor_id)))

    @roles("admin")
    @blp.doc(operationId="updateDoctorPolicy")
    @blp.arguments(PolicyPatch, example={"min_notice_minutes": 240, "max_per_day": 12})
    @blp.response(200, PolicyOut)
    @documents(blp, 401, 403, 404)
    @inject
    def patch(
        self,
        body: dict[str, Any],
        doctor_id: int,
        calendar: CalendarService = Provide["calendar_service"],
    ) -> Response:
        """Set the doctor's own notice, horizon, buffer or daily cap (null: the clinic's
        default)"""
        updated = calendar.update_policy(current_actor(), doctor_id, UpdatePolicy(**body))
        return answer(_policy_body(doctor_id, updated))
