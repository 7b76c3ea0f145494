"""Appointment: read, search, create (the REST booking's use case: the same rules, grid,
policy, idempotency and races) and cancel by JSON Patch.

Status map (SPEC 9.3): pending -> proposed, confirmed -> booked, cancelled -> cancelled,
completed -> fulfilled, no_show -> noshow. The participants are the Patient (accepted) and the
Practitioner (needs-action until the appointment is confirmed).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jsonpatch
import jsonpointer
from dependency_injector.wiring import Provide, inject
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from flask import Response, request
from flask_smorest import abort
from pydantic import ValidationError

from healthcare.application.commands import BookAppointment
from healthcare.application.ports import AppointmentFilter, Page
from healthcare.application.read_model import View, appointment_view
from healthcare.application.services import AppointmentService
from healthcare.domain.appointments import Status
from healthcare.domain.errors import Conflict, DomainError, InvalidInput
from healthcare.entrypoints.api.schemas.fields import YEARS
from healthcare.entrypoints.api.security import current_actor
from healthcare.entrypoints.fhir.bundle import searchset
from healthcare.entrypoints.fhir.interface import (
    as_json,
    fhir,
    fhir_answer,
    patch_body,
    problems,
    resource_body,
)
from healthcare.entrypoints.fhir.search import (
    Search,
    SearchParameter,
    code,
    instant_range,
    local_id,
    reference,
)

SERVICE = "appointment_service"

FHIR_STATUS = {
    Status.PENDING: "proposed",
    Status.CONFIRMED: "booked",
    Status.CANCELLED: "cancelled",
    Status.COMPLETED: "fulfilled",
    Status.NO_SHOW: "noshow",
}
STATUS_OF = {fhir_code: status for status, fhir_code in FHIR_STATUS.items()}
#: FHIR's other appointment statuses: a search for one of them finds nothing here.
UNUSED_STATUSES = ("pending", "arrived", "checked-in", "entered-in-error", "waitlist")

#: The elements a booking keeps; anything else a client sends would be lost, so it is refused.
KEPT = frozenset({"resourceType", "status", "start", "end", "participant", "reasonCode"})
#: The server's own: FHIR's create ignores a client's ``id``, and ``meta`` is the server's.
IGNORED = frozenset({"id", "meta"})

#: The booking rules name the REST API's fields; a FHIR client reads the Appointment's elements.
ELEMENTS = {
    "datetime": "Appointment.start",
    "end": "Appointment.end",
    "status": "Appointment.status",
    "patient": "Appointment.participant",
    "doctor": "Appointment.participant",
    "reason": "Appointment.reasonCode",
}

PATIENT = SearchParameter("patient", "reference", "Patient/<id>.", reference("Patient"))
PRACTITIONER = SearchParameter(
    "practitioner", "reference", "Practitioner/<id>.", reference("Practitioner")
)
DATE = SearchParameter(
    "date", "date", "The start: date=ge<date> and/or date=lt<date>.", instant_range()
)
STATUS = SearchParameter(
    "status",
    "token",
    "One of proposed, booked, cancelled, fulfilled, noshow.",
    code(*STATUS_OF, *UNUSED_STATUSES),
)


def appointment_resource(appointment: View) -> dict[str, Any]:
    status = Status(appointment["status"])
    doctor_reply = "needs-action" if status is Status.PENDING else "accepted"
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(appointment["id"]),
        "meta": {"lastUpdated": appointment["updated_at"]},
        "status": FHIR_STATUS[status],
        "start": appointment["datetime"],
        "end": appointment["end"],
        "created": appointment["created_at"],
        "participant": [
            {"actor": {"reference": f"Patient/{appointment['patient']}"}, "status": "accepted"},
            {
                "actor": {"reference": f"Practitioner/{appointment['doctor']}"},
                "status": doctor_reply,
            },
        ],
    }
    if appointment["reason"]:
        resource["reasonCode"] = [{"text": appointment["reason"]}]
    if appointment["cancellation_reason"]:
        resource["cancelationReason"] = {"text": appointment["cancellation_reason"]}
    return resource


# -- what a client sends ---------------------------------------------------------------------


def booking(sent: dict[str, Any], parsed: FhirAppointment) -> BookAppointment:
    """The booking an Appointment asks for (already valid FHIR): its Practitioner, its Patient
    (omitted by a patient: themself), start, end, status and reason. 422 for what this server
    would not keep or cannot book."""
    errors: dict[str, list[str]] = {}
    for element in sorted(set(sent) - KEPT - IGNORED):
        errors[f"Appointment.{element}"] = ["Not kept by this server: leave it out."]
    status = STATUS_OF.get(parsed.status or "")
    if status is None:
        errors["Appointment.status"] = ["A new appointment is proposed."]
    patient_id, doctor_id = _participants(sent.get("participant") or [], errors)
    start = _instant(parsed.start, "Appointment.start", errors, required=True)
    end = _instant(parsed.end, "Appointment.end", errors)
    reason = _reason(sent.get("reasonCode") or [], errors)
    if errors:
        raise InvalidInput("The appointment cannot be booked as sent.", errors)
    return BookAppointment(
        doctor_id=doctor_id,  # type: ignore[arg-type]
        start=start,  # type: ignore[arg-type]
        patient_id=patient_id,
        reason=reason,
        status=str(status),
        end=end,
    )


def _participants(
    participants: list[dict[str, Any]], errors: dict[str, list[str]]
) -> tuple[int | None, int | None]:
    """The Patient's and the Practitioner's ids; each at most once, the Practitioner required."""
    found: dict[str, list[int]] = {"Patient": [], "Practitioner": []}
    for number, participant in enumerate(participants):
        where = f"Appointment.participant[{number}]"
        for element in sorted(set(participant) - {"actor", "status"}):
            errors[f"{where}.{element}"] = ["Not kept by this server: leave it out."]
        actor = participant.get("actor") or {}
        for element in sorted(set(actor) - {"reference", "display"}):
            errors[f"{where}.actor.{element}"] = ["Not kept by this server: leave it out."]
        kind = str(actor.get("reference", "")).partition("/")[0]
        if kind not in found:
            errors[f"{where}.actor"] = ["A reference to a Patient or a Practitioner."]
            continue
        try:
            found[kind].append(local_id(actor["reference"], kind))
        except ValueError as error:
            errors[f"{where}.actor"] = [str(error)]
    if len(found["Practitioner"]) != 1:
        errors["Appointment.participant"] = ["Exactly one Practitioner (the doctor)."]
    if len(found["Patient"]) > 1:
        errors["Appointment.participant"] = ["At most one Patient."]
    patient = found["Patient"][0] if found["Patient"] else None
    doctor = found["Practitioner"][0] if found["Practitioner"] else None
    return patient, doctor


def _instant(
    value: datetime | None, where: str, errors: dict[str, list[str]], *, required: bool = False
) -> datetime | None:
    if value is None:
        if required:
            errors[where] = ["Required."]
        return None
    if not YEARS[0] <= value.year <= YEARS[1]:
        errors[where] = [f"A year from {YEARS[0]} to {YEARS[1]}."]
        return None
    return value.astimezone(UTC)


def _reason(codes: list[dict[str, Any]], errors: dict[str, list[str]]) -> str:
    """The reason: one reasonCode, as text."""
    if len(codes) > 1 or any(set(concept) != {"text"} for concept in codes):
        errors["Appointment.reasonCode"] = ["At most one, with only its text."]
        return ""
    return str(codes[0]["text"]) if codes else ""


def cancels(current: dict[str, Any], operations: list[dict[str, Any]]) -> bool:
    """Whether a JSON Patch cancels the appointment (``current``, as its FHIR JSON reads).
    Applied, it must leave a valid Appointment that differs at most in its status, and then
    only to cancelled: anything else is 422 (400 for a malformed patch, 409 when it does not
    apply to the appointment as it is, a failed ``test`` included)."""
    try:
        patched = jsonpatch.JsonPatch(operations).apply(current)
    except (jsonpatch.InvalidJsonPatch, jsonpointer.JsonPointerException) as error:
        abort(400, message=f"The JSON Patch is malformed: {error}")
    except (jsonpatch.JsonPatchConflict, jsonpatch.JsonPatchTestFailed) as error:
        raise Conflict(f"The JSON Patch does not apply to this appointment: {error}") from None
    try:
        FhirAppointment.model_validate(patched)
    except ValidationError as error:
        raise InvalidInput(
            "The patched appointment is not a valid FHIR R4 Appointment.",
            problems("Appointment", error),
        ) from None
    if not isinstance(patched, dict) or _besides_status(patched) != _besides_status(current):
        raise InvalidInput(
            "Only the status may change, to cancelled.",
            {"Appointment": ["Replace /status by cancelled; nothing else changes here."]},
        )
    if patched.get("status") == current["status"]:
        return False
    if patched.get("status") != FHIR_STATUS[Status.CANCELLED]:
        raise InvalidInput(
            "The status changes only to cancelled.",
            {"Appointment.status": ["Only cancelled."]},
        )
    return True


def _besides_status(resource: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in resource.items() if name != "status"}


# -- views -----------------------------------------------------------------------------------


@fhir.read("Appointment")
@inject
def read_appointment(
    resource_id: int, appointments: AppointmentService = Provide[SERVICE]
) -> Response:
    """Read an appointment of the caller's (admins: any)"""
    return fhir_answer(appointment_resource(appointments.get(current_actor(), resource_id)))


@fhir.search("Appointment", PATIENT, PRACTITIONER, DATE, STATUS)
@inject
def search_appointments(
    search: Search, appointments: AppointmentService = Provide[SERVICE]
) -> Response:
    """Search the caller's appointments (admins: all) by patient, practitioner, start date and
    status"""
    status_code = search.get("status")
    found: Page[View]
    if status_code is not None and status_code not in STATUS_OF:
        found = Page.empty(search.page)  # a FHIR status no appointment here has
    else:
        start, end = search.get("date", (None, None))
        where = AppointmentFilter(
            doctor_id=search.get("practitioner"),
            patient_id=search.get("patient"),
            status=STATUS_OF.get(status_code) if status_code else None,
            start=start,
            end=end,
        )
        found = appointments.list(current_actor(), search.page, where)
    return fhir_answer(searchset(search, found, appointment_resource))


@fhir.create("Appointment")
@inject
def create_appointment(appointments: AppointmentService = Provide[SERVICE]) -> Response:
    """Book an appointment (a patient: for themself); an Idempotency-Key makes retries safe"""
    sent, parsed = resource_body(FhirAppointment)
    try:
        booked = appointments.book(
            current_actor(), booking(sent, parsed), request.headers.get("Idempotency-Key")
        )
    except DomainError as refused:
        if refused.errors:
            refused.errors = {ELEMENTS.get(k, k): v for k, v in refused.errors.items()}
        raise
    location = fhir.url_of("Appointment", booked.id)
    return fhir_answer(
        appointment_resource(appointment_view(booked)), 201, {"Location": str(location)}
    )


@fhir.patch("Appointment")
@inject
def patch_appointment(
    resource_id: int, appointments: AppointmentService = Provide[SERVICE]
) -> Response:
    """Cancel an appointment with a JSON Patch replacing /status by cancelled (its patient
    before it starts, its doctor, an admin)"""
    actor = current_actor()
    operations = patch_body()
    current = as_json(appointment_resource(appointments.get(actor, resource_id)))
    if not cancels(current, operations):
        return fhir_answer(current)
    cancelled = appointments.cancel(actor, resource_id)
    return fhir_answer(appointment_resource(appointment_view(cancelled)))
