"""The appointment lifecycle through the service: who may, when, and what a refusal says.

An actor who cannot see the appointment hears NotFound (404); one who sees it but may not act
hears PermissionDenied (403); a permitted actor the state forbids hears TransitionNotAllowed (409).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from healthcare.application.commands import BookAppointment, UpdateAppointment
from healthcare.domain.actor import Actor
from healthcare.domain.appointments import Appointment, Status
from healthcare.domain.errors import NotFound, PermissionDenied, TransitionNotAllowed
from tests.use_cases.clinic import OK, ROLES, Clinic, Services, at, outcome, row

#: action: (the status it needs first, the status it leads to, whether it needs the start passed)
ACTIONS = {
    "confirm": (Status.PENDING, Status.CONFIRMED, False),
    "cancel": (Status.CONFIRMED, Status.CANCELLED, False),
    "complete": (Status.CONFIRMED, Status.COMPLETED, True),
    "mark_no_show": (Status.CONFIRMED, Status.NO_SHOW, True),
}
#: What each role hears for each action on the patient's appointment with the doctor.
ACCESS = {
    "confirm":      row(OK, OK, NotFound, PermissionDenied, NotFound),
    "cancel":       row(OK, OK, NotFound, OK,               NotFound),
    "complete":     row(OK, OK, NotFound, PermissionDenied, NotFound),
    "mark_no_show": row(OK, OK, NotFound, PermissionDenied, NotFound),
}  # fmt: skip


def run(services: Services, action: str, actor: Actor, appointment_id: int) -> Appointment:
    return services.appointments.move(actor, appointment_id, ACTIONS[action][1])


@pytest.mark.parametrize("action", ACTIONS)
def test_each_role_may_take_only_its_lifecycle_actions(
    services: Services, clinic: Clinic, clock, action: str
) -> None:
    """Each role acts on an appointment of its own (same doctor and patient, different times)."""
    needs, leads_to, after_start = ACTIONS[action]
    mine = {}
    for role, start in zip(ROLES, [at(9), at(9, 30), at(10), at(10, 30), at(11)], strict=True):
        mine[role] = services.appointments.book(
            clinic.patient, BookAppointment(doctor_id=clinic.doctor.doctor_id, start=start)
        ).id
        if needs is Status.CONFIRMED:
            services.appointments.confirm(clinic.doctor, mine[role])
    if after_start:
        clock.advance(timedelta(hours=3, minutes=10))  # 11:10, every one of them started

    assert {
        role: outcome(lambda r=role: run(services, action, clinic.roles[r], mine[r]))
        for role in ROLES
    } == ACCESS[action]
    statuses = {
        role: services.appointments.get(clinic.admin, mine[role])["status"] for role in ROLES
    }
    assert statuses == {role: leads_to if ACCESS[action][role] == OK else needs for role in ROLES}


@pytest.mark.parametrize("action", ["complete", "mark_no_show"])
def test_an_appointment_is_not_finished_before_it_starts(
    services: Services, clinic: Clinic, booked: Appointment, clock, action: str
) -> None:
    services.appointments.confirm(clinic.doctor, booked.id)
    clock.advance(timedelta(hours=1, minutes=59))  # 09:59
    with pytest.raises(TransitionNotAllowed):
        run(services, action, clinic.doctor, booked.id)
    clock.advance(timedelta(minutes=1))  # 10:00, the start
    assert run(services, action, clinic.doctor, booked.id).status is ACTIONS[action][1]


@pytest.mark.parametrize("action", ["complete", "mark_no_show"])
def test_a_pending_appointment_is_not_finished(
    services: Services, clinic: Clinic, booked: Appointment, clock, action: str
) -> None:
    clock.advance(timedelta(hours=3))
    with pytest.raises(TransitionNotAllowed):
        run(services, action, clinic.admin, booked.id)


def test_a_patient_cannot_cancel_after_the_appointment_started(
    services: Services, clinic: Clinic, booked: Appointment, clock
) -> None:
    clock.advance(timedelta(hours=2))  # 10:00, the start
    with pytest.raises(TransitionNotAllowed):
        services.appointments.cancel(clinic.patient, booked.id, "stuck in traffic")
    assert services.appointments.get(clinic.patient, booked.id)["status"] == Status.PENDING


@pytest.mark.parametrize("role", ["doctor", "admin"])
def test_the_doctor_or_an_admin_cancels_after_the_start_with_a_reason(
    services: Services, clinic: Clinic, booked: Appointment, clock, role: str
) -> None:
    clock.advance(timedelta(hours=2, minutes=5))
    services.appointments.cancel(clinic.roles[role], booked.id, "doctor called away")
    stored = services.appointments.get(clinic.patient, booked.id)
    assert (stored["status"], stored["cancellation_reason"]) == (
        Status.CANCELLED,
        "doctor called away",
    )


@pytest.mark.parametrize("final", ["cancel", "complete", "mark_no_show"])
def test_final_states_are_final(
    services: Services, clinic: Clinic, booked: Appointment, clock, final: str
) -> None:
    services.appointments.confirm(clinic.doctor, booked.id)
    clock.advance(timedelta(hours=3))
    reached = run(services, final, clinic.admin, booked.id).status
    attempts = {
        action: outcome(lambda a=action: run(services, a, clinic.admin, booked.id))
        for action in ACTIONS
    }
    attempts["reschedule"] = outcome(
        lambda: services.appointments.update(
            clinic.admin, booked.id, UpdateAppointment(start=at(10, days=1))
        )
    )
    assert attempts == dict.fromkeys([*ACTIONS, "reschedule"], TransitionNotAllowed)
    assert services.appointments.get(clinic.admin, booked.id)["status"] == reached


def test_an_unknown_appointment_is_not_found_for_every_action(
    services: Services, clinic: Clinic, booked: Appointment
) -> None:
    outcomes = {
        action: outcome(lambda a=action: run(services, a, clinic.admin, booked.id + 1000))
        for action in ACTIONS
    }
    assert outcomes == dict.fromkeys(ACTIONS, NotFound)
