"""The appointment state machine: every action, by every role, from every status, before and at
the start.

The expectations come from three small tables copied from SPEC section 3 (who may act, where each
action leads, when it may happen), so each of the 250 cases is a row one can check by eye.
A refused actor is told so (PermissionDenied, 403) whatever the status; a permitted actor whose
action the status or the time forbids hears TransitionNotAllowed (409); a refusal changes nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from healthcare.domain.actor import Actor
from healthcare.domain.appointments import Appointment, Status
from healthcare.domain.errors import PermissionDenied, TransitionNotAllowed
from healthcare.domain.time import Interval
from tests.factories import AppointmentFactory
from tests.unit.cast import (
    ADMIN,
    DOCTOR,
    OTHER_DOCTOR,
    OTHER_PATIENT,
    PATIENT,
    ROLES,
    at,
)

START = at(10)
NEW_SLOT = Interval(at(10, days=1), at(10, 30, days=1))

P, C, D, X, N = (
    Status.PENDING,
    Status.CONFIRMED,
    Status.COMPLETED,
    Status.CANCELLED,
    Status.NO_SHOW,
)
ACTIONS: dict[str, Callable[[Appointment, Actor, datetime], None]] = {
    "confirm": lambda a, actor, now: a.move_to(Status.CONFIRMED, actor, now),
    "cancel": lambda a, actor, now: a.move_to(Status.CANCELLED, actor, now, reason="changed plans"),
    "complete": lambda a, actor, now: a.move_to(Status.COMPLETED, actor, now),
    "no_show": lambda a, actor, now: a.move_to(Status.NO_SHOW, actor, now),
    "reschedule": lambda a, actor, now: a.reschedule(actor, NEW_SLOT, now),
}

Y, _ = True, False
#: Who may take each action, whatever the status.
WHO = {
    #              admin doctor other_doctor patient other_patient
    "confirm":    (Y,    Y,     _,           _,      _),
    "cancel":     (Y,    Y,     _,           Y,      _),
    "complete":   (Y,    Y,     _,           _,      _),
    "no_show":    (Y,    Y,     _,           _,      _),
    "reschedule": (Y,    _,     _,           Y,      _),
}  # fmt: skip

#: Where each action leads from each status; None is a refused transition.
LEADS_TO = {
    #       confirm cancel complete no_show reschedule
    P:     (C,      X,     None,    None,   P),
    C:     (None,   X,     D,       N,      P),
    D:     (None,   None,  None,    None,   None),
    X:     (None,   None,  None,    None,   None),
    N:     (None,   None,  None,    None,   None),
}  # fmt: skip

#: (action, role) pairs the time forbids: before the start, and from the start on.
TOO_EARLY = {(action, role) for action in ("complete", "no_show") for role in ROLES}
TOO_LATE = {("cancel", "patient")}

MOMENTS = {"a-minute-before-the-start": START - timedelta(minutes=1), "at-the-start": START}


def expected(action: str, role: str, status: Status, moment: str) -> Status | type[Exception]:
    if not WHO[action][list(ROLES).index(role)]:
        return PermissionDenied
    started = MOMENTS[moment] >= START
    if (action, role) in (TOO_LATE if started else TOO_EARLY):
        return TransitionNotAllowed
    target = LEADS_TO[status][list(ACTIONS).index(action)]
    return TransitionNotAllowed if target is None else target


def appointment(status: Status = P) -> Appointment:
    return AppointmentFactory(
        id=1,
        doctor_id=DOCTOR.doctor_id,
        patient_id=PATIENT.patient_id,
        start=START,
        status=status,
        created_at=at(7),
    )


CASES = list(itertools.product(ACTIONS, ROLES, Status, MOMENTS))


@pytest.mark.parametrize(
    ("action", "role", "status", "moment"), CASES, ids=["-".join(c) for c in CASES]
)
def test_every_transition_by_every_role_follows_the_lifecycle(
    action: str, role: str, status: Status, moment: str
) -> None:
    subject = appointment(status)
    before = (subject.status, subject.start, subject.end, subject.updated_at)
    now = MOMENTS[moment]
    outcome = expected(action, role, status, moment)

    if isinstance(outcome, Status):
        ACTIONS[action](subject, ROLES[role], now)
        assert subject.status is outcome
        assert subject.updated_at == now
    else:
        with pytest.raises(outcome):
            ACTIONS[action](subject, ROLES[role], now)
        assert (subject.status, subject.start, subject.end, subject.updated_at) == before


def test_the_table_covers_every_action_role_status_and_moment() -> None:
    assert len(CASES) == 5 * 5 * 5 * 2
    allowed = [c for c in CASES if isinstance(expected(*c), Status)]
    # admin and doctor: confirm, cancel x2 moments, complete/no_show at the start; admin and
    # patient: reschedule x2 moments x2 statuses; patient cancels pending/confirmed before start.
    assert len(allowed) == 2 * (2 + 4 + 2) + 2 * 4 + 2


def test_a_patient_cannot_cancel_after_the_appointment_started() -> None:
    subject = appointment(C)
    with pytest.raises(TransitionNotAllowed):
        subject.move_to(Status.CANCELLED, PATIENT, START + timedelta(minutes=5))
    assert subject.status is C


@pytest.mark.parametrize("actor", [DOCTOR, ADMIN], ids=["doctor", "admin"])
def test_the_doctor_or_an_admin_may_cancel_after_the_appointment_started(actor: Actor) -> None:
    subject = appointment(C)
    subject.move_to(Status.CANCELLED, actor, START + timedelta(minutes=5), reason="ran late")
    assert (subject.status, subject.cancellation_reason) == (X, "ran late")


@pytest.mark.parametrize("finish", ["complete", "no_show"])
def test_an_appointment_is_completed_or_marked_no_show_only_once_it_started(finish: str) -> None:
    subject = appointment(C)
    with pytest.raises(TransitionNotAllowed):
        ACTIONS[finish](subject, DOCTOR, START - timedelta(seconds=1))
    ACTIONS[finish](subject, DOCTOR, START + timedelta(hours=3))
    assert subject.status is {"complete": D, "no_show": N}[finish]


def test_rescheduling_moves_the_appointment_and_returns_it_to_pending() -> None:
    subject = appointment(C)
    subject.reschedule(PATIENT, NEW_SLOT, at(9))
    assert (subject.start, subject.end, subject.status) == (NEW_SLOT.start, NEW_SLOT.end, P)
    assert subject.updated_at == at(9)


@pytest.mark.parametrize(
    ("reason", "kept"),
    [(" too ill to come ", "too ill to come"), ("", None), (None, None), ("   ", None)],
)
def test_a_cancellation_keeps_its_reason_and_a_blank_one_as_none(
    reason: str | None, kept: str | None
) -> None:
    subject = appointment(P)
    subject.move_to(Status.CANCELLED, PATIENT, at(9), reason=reason)
    assert subject.cancellation_reason == kept


@pytest.mark.parametrize(
    ("actor", "may"),
    [
        (ADMIN, True),
        (PATIENT, True),
        (DOCTOR, False),
        (OTHER_DOCTOR, False),
        (OTHER_PATIENT, False),
    ],
    ids=["admin", "patient", "doctor", "other_doctor", "other_patient"],
)
def test_only_its_patient_or_an_admin_edits_the_reason(actor: Actor, may: bool) -> None:
    subject = appointment(P)
    if may:
        subject.change_reason(actor, "  follow-up  ", at(9))
        assert subject.reason == "follow-up"
    else:
        with pytest.raises(PermissionDenied):
            subject.change_reason(actor, "follow-up", at(9))


@pytest.mark.parametrize(
    ("actor", "sees"),
    [
        (ADMIN, True),
        (DOCTOR, True),
        (PATIENT, True),
        (OTHER_DOCTOR, False),
        (OTHER_PATIENT, False),
        (Actor(user_id=9, role=DOCTOR.role), False),  # a doctor account without a profile
        (Actor(user_id=9, role=PATIENT.role), False),  # a patient account without a profile
    ],
    ids=[
        "admin",
        "doctor",
        "patient",
        "other_doctor",
        "other_patient",
        "bare_doctor",
        "bare_patient",
    ],
)
def test_an_appointment_is_visible_to_admins_its_doctor_and_its_patient_only(
    actor: Actor, sees: bool
) -> None:
    assert appointment().visible_to(actor) is sees


@pytest.mark.parametrize(
    ("status", "active"), [(P, True), (C, True), (D, False), (X, False), (N, False)]
)
def test_only_pending_and_confirmed_appointments_hold_their_slot(
    status: Status, active: bool
) -> None:
    assert appointment(status).is_active is active
