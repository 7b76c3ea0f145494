"""Appointments: booking, reading, and the lifecycle (confirm, cancel, complete, no-show)."""

from __future__ import annotations

from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Response
from flask.views import MethodView

from healthcare.application.commands import BookAppointment, UpdateAppointment
from healthcare.application.ports import AppointmentFilter
from healthcare.application.read_model import appointment_view
from healthcare.application.services import AppointmentService
from healthcare.domain.appointments import Status
from healthcare.entrypoints.api.encoding import answer
from healthcare.entrypoints.api.routing import (
    LIST_HEADERS,
    documents,
    page_request,
    paginated,
    resource,
)
from healthcare.entrypoints.api.schemas.appointments import (
    AppointmentIn,
    AppointmentOut,
    AppointmentPatch,
    AppointmentQuery,
    CancelIn,
)
from healthcare.entrypoints.api.schemas.common import IdempotencyHeaders
from healthcare.entrypoints.api.security import current_actor, roles, signed_in

blp = resource("appointments", "/api/appointments", "Booking and the appointment lifecycle.")

SERVICE = "appointment_service"


@blp.route("/")
class Appointments(MethodView):
    @signed_in
    @blp.doc(operationId="listAppointments")
    @blp.arguments(AppointmentQuery, location="query")
    @blp.response(200, AppointmentOut(many=True), headers=LIST_HEADERS)
    @documents(blp, 401)
    @inject
    def get(self, args: dict[str, Any], appointments: AppointmentService = Provide[SERVICE]) -> Any:
        """List the caller's appointments (admins: all) by status, doctor, patient, start, end"""
        page = page_request(args)
        if args.get("status"):
            args["status"] = Status(args["status"])
        return paginated(appointments.list(current_actor(), page, AppointmentFilter(**args)))

    @roles("patient", "admin")
    @blp.doc(operationId="bookAppointment")
    @blp.arguments(IdempotencyHeaders, location="headers")
    @blp.arguments(
        AppointmentIn,
        example={"patient": 1, "doctor": 1, "datetime": "2031-04-03T10:30:00Z", "status": "pending"},
    )
    @blp.response(201, AppointmentOut)
    @documents(blp, 401, 403, 404, 409)
    @inject
    def post(
        self,
        headers: dict[str, Any],
        body: dict[str, Any],
        appointments: AppointmentService = Provide[SERVICE],
    ) -> Response:
        """Book an appointment inside the doctor's availability (a patient: for themself);
        an Idempotency-Key makes retries safe"""
        booked = appointments.book(
            current_actor(), BookAppointment(**body), headers.get("idempotency_key")
        )
        return answer(appointment_view(booked), 201)


@blp.route("/<id:appointment_id>/")
class AppointmentItem(MethodView):
    @signed_in
    @blp.doc(operationId="getAppointment")
    @blp.response(200, AppointmentOut)
    @documents(blp, 401, 404)
    @inject
    def get(
        self, appointment_id: int, appointments: AppointmentService = Provide[SERVICE]
    ) -> Response:
        """Read an appointment"""
        return answer(appointments.get(current_actor(), appointment_id))

    @signed_in
    @blp.doc(operationId="updateAppointment")
    @blp.arguments(AppointmentPatch, example={"datetime": "2031-04-03T11:00:00Z"})
    @blp.response(200, AppointmentOut)
    @documents(blp, 401, 403, 404, 409)
    @inject
    def patch(
        self,
        body: dict[str, Any],
        appointment_id: int,
        appointments: AppointmentService = Provide[SERVICE],
    ) -> Response:
        """Change an appointment: a new datetime reschedules, a status runs that lifecycle step"""
        changed = appointments.update(current_actor(), appointment_id, UpdateAppointment(**body))
        return answer(appointment_view(changed))


@blp.route("/<id:appointment_id>/confirm/")
class Confirm(MethodView):
    @signed_in
    @blp.doc(operationId="confirmAppointment")
    @blp.response(200, AppointmentOut)
    @documents(blp, 401, 403, 404, 409)
    @inject
    def post(
        self, appointment_id: int, appointments: AppointmentService = Provide[SERVICE]
    ) -> Response:
        """Confirm a pending appointment (its doctor or an admin)"""
        moved = appointments.move(current_actor(), appointment_id, Status.CONFIRMED)
        return answer(appointment_view(moved))


@blp.route("/<id:appointment_id>/complete/")
class Complete(MethodView):
    @signed_in
    @blp.doc(operationId="completeAppointment")
    @blp.response(200, AppointmentOut)
    @documents(blp, 401, 403, 404, 409)
    @inject
    def post(
        self, appointment_id: int, appointments: AppointmentService = Provide[SERVICE]
    ) -> Response:
        """Mark a confirmed appointment completed once it has started (its doctor or an admin)"""
        moved = appointments.move(current_actor(), appointment_id, Status.COMPLETED)
        return answer(appointment_view(moved))


@blp.route("/<id:appointment_id>/no-show/")
class NoShow(MethodView):
    @signed_in
    @blp.doc(operationId="markAppointmentNoShow")
    @blp.response(200, AppointmentOut)
    @documents(blp, 401, 403, 404, 409)
    @inject
    def post(
        self, appointment_id: int, appointments: AppointmentService = Provide[SERVICE]
    ) -> Response:
        """Mark a confirmed appointment a no-show once it has started (its doctor or an admin)"""
        moved = appointments.move(current_actor(), appointment_id, Status.NO_SHOW)
        return answer(appointment_view(moved))


@blp.route("/<id:appointment_id>/cancel/")
class Cancel(MethodView):
    @signed_in
    @blp.doc(operationId="cancelAppointment")
    @blp.arguments(CancelIn, required=False, example={"reason": "Feeling better"})
    @blp.response(200, AppointmentOut)
    @documents(blp, 401, 403, 404, 409)
    @inject
    def post(
        self,
        body: dict[str, Any],
        appointment_id: int,
        appointments: AppointmentService = Provide[SERVICE],
    ) -> Response:
        """Cancel an appointment, with an optional reason (its patient before it starts, its
        doctor, an admin)"""
        cancelled = appointments.cancel(current_actor(), appointment_id, body.get("reason"))
        return answer(appointment_view(cancelled))
