"""Batch jobs on the same use cases as the API: no-shows, reminders, availability import."""

from __future__ import annotations

from datetime import timedelta

import pytest

from healthcare.application.commands import (
    BookAppointment,
    CreateAvailability,
    CreateUser,
    RegisterPatient,
    UpdateAppointment,
)
from healthcare.application.ports import PageRequest
from healthcare.application.services import (
    AppointmentService,
    AvailabilityService,
)
from healthcare.application.services.jobs import (
    AvailabilityImport,
    NoShowJob,
    ReminderJob,
    parse_duration,
)
from healthcare.domain.actor import Actor
from healthcare.domain.appointments import Status
from tests.conftest import NOW
from tests.support.sign_in import account_service

ADMIN = Actor.system()


class RecordingSender:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.fail = fail

    def send(self, recipient: str, subject: str, body: str) -> None:
        if self.fail:
            raise OSError("mail server down")
        self.sent.append((recipient, subject, body))


@pytest.fixture
def clinic(uow_factory, clock, hasher):
    accounts = account_service(uow_factory, clock, hasher)
    doctor = accounts.create_user(
        ADMIN, CreateUser("house@clinic.test", "password123", "doctor", name="Dr. House")
    ).doctor
    patient = accounts.register_patient(
        RegisterPatient("pat@mail.test", "password123", "Pat Doe", phone="555-0100")
    ).patient
    AvailabilityService(uow_factory, clock).create(
        ADMIN, CreateAvailability(NOW + timedelta(hours=1), NOW + timedelta(hours=9), doctor.id)
    )
    return doctor, patient


def book(uow_factory, clock, doctor, patient, hours_from_now: float):
    return AppointmentService(uow_factory, clock).book(
        ADMIN,
        BookAppointment(doctor.id, NOW + timedelta(hours=hours_from_now), patient_id=patient.id),
    )


def test_no_show_marks_confirmed_appointments_that_ended_past_the_grace_period(
    uow_factory, read_model, clock, clinic
):
    doctor, patient = clinic
    appointments = AppointmentService(uow_factory, clock, read_model)
    confirmed = book(uow_factory, clock, doctor, patient, 1)
    appointments.confirm(ADMIN, confirmed.id)
    still_pending = book(uow_factory, clock, doctor, patient, 2)

    clock.advance(timedelta(hours=1, minutes=45))  # confirmed ended 15 minutes ago
    assert NoShowJob(uow_factory, clock).run(grace=timedelta(hours=1)).marked == 0

    clock.advance(timedelta(hours=1))
    assert NoShowJob(uow_factory, clock).run(grace=timedelta(hours=1)).marked == 1
    assert appointments.get(ADMIN, confirmed.id)["status"] == Status.NO_SHOW
    assert appointments.get(ADMIN, still_pending.id)["status"] == Status.PENDING
    # Idempotent: nothing left to mark.
    assert NoShowJob(uow_factory, clock).run(grace=timedelta(hours=1)).marked == 0


def test_reminders_are_written_once_and_a_second_run_sends_nothing_new(uow_factory, clock, clinic):
    doctor, patient = clinic
    soon = book(uow_factory, clock, doctor, patient, 2)
    book(uow_factory, clock, doctor, patient, 4)
    cancelled = book(uow_factory, clock, doctor, patient, 6)
    AppointmentService(uow_factory, clock).cancel(ADMIN, cancelled.id)
    sender = RecordingSender()
    job = ReminderJob(uow_factory, clock, sender)

    first = job.run(within=timedelta(hours=5))
    second = job.run(within=timedelta(hours=5))

    assert (first.written, first.sent) == (2, 2)
    assert (second.written, second.already_written, second.sent) == (0, 2, 0)
    assert [recipient for recipient, _, _ in sender.sent] == [patient.email, patient.email]
    body = sender.sent[0][2]
    assert "Dr. House" in body and "Pat Doe" not in body
    assert soon.start.strftime("%H:%M") in body


def test_a_reminder_that_fails_to_send_stays_in_the_outbox_and_goes_out_next_run(
    uow_factory, clock, clinic
):
    doctor, patient = clinic
    book(uow_factory, clock, doctor, patient, 2)

    failed = ReminderJob(uow_factory, clock, RecordingSender(fail=True)).run(timedelta(hours=24))
    sender = RecordingSender()
    retried = ReminderJob(uow_factory, clock, sender).run(timedelta(hours=24))

    assert (failed.written, failed.sent, failed.failed) == (1, 0, 1)
    assert (retried.written, retried.sent) == (0, 1)
    assert len(sender.sent) == 1


def test_a_rescheduled_appointment_gets_a_reminder_for_its_new_time(uow_factory, clock, clinic):
    doctor, patient = clinic
    appointment = book(uow_factory, clock, doctor, patient, 2)
    sender = RecordingSender()
    ReminderJob(uow_factory, clock, sender).run(timedelta(hours=24))
    AppointmentService(uow_factory, clock).update(
        ADMIN, appointment.id, UpdateAppointment(start=NOW + timedelta(hours=3))
    )

    report = ReminderJob(uow_factory, clock, sender).run(timedelta(hours=24))

    assert report.written == 1
    assert len(sender.sent) == 2


def test_availability_import_takes_a_valid_file_whole(uow_factory, read_model, clock, clinic):
    doctor, _ = clinic
    day = (NOW + timedelta(days=1)).date().isoformat()
    text = (
        "doctor,start_time,end_time\n"
        f"{doctor.id},{day}T09:00:00Z,{day}T12:00:00Z\n"
        f"{doctor.id},{day}T13:00:00+00:00,{day}T17:00:00+00:00\n"
    )

    report = AvailabilityImport(uow_factory, clock).run(text)

    assert report.imported == 2 and report.errors == []
    windows = AvailabilityService(uow_factory, clock, read_model).list(ADMIN, PageRequest(1, 100))
    assert windows.total == 3  # the fixture's window and the two imported


def test_availability_import_reports_every_bad_row_and_imports_nothing(
    uow_factory, read_model, clock, clinic
):
    doctor, _ = clinic
    day = (NOW + timedelta(days=1)).date().isoformat()
    text = (
        "doctor,start_time,end_time\n"
        f"{doctor.id},{day}T09:00:00Z,{day}T12:00:00Z\n"  # fine
        f"{doctor.id},{day}T11:00:00Z,{day}T13:00:00Z\n"  # overlaps the row above
        f"{doctor.id},{day}T09:00:00,{day}T12:00:00\n"  # naive
        f"9999,{day}T09:00:00Z,{day}T12:00:00Z\n"  # no such doctor
        f"x,{day}T09:00:00Z,{day}T12:00:00Z\n"  # not an id
        f"{doctor.id},yesterday,{day}T12:00:00Z\n"  # not a datetime
    )

    report = AvailabilityImport(uow_factory, clock).run(text)

    assert report.imported == 0
    assert [error.line for error in report.errors] == [3, 4, 5, 6, 7]
    windows = AvailabilityService(uow_factory, clock, read_model).list(ADMIN, PageRequest(1, 100))
    assert windows.total == 1


def test_availability_import_names_a_missing_column(uow_factory, clock):
    report = AvailabilityImport(uow_factory, clock).run("doctor,start\n1,2030-01-01T00:00:00Z\n")
    assert report.imported == 0
    assert report.errors[0].line == 1 and "end_time" in report.errors[0].reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [("24h", timedelta(hours=24)), ("90m", timedelta(minutes=90)), ("2d", timedelta(days=2))],
)
def test_durations_on_the_command_line_parse(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "24", "h", "-1h", "0h", "tomorrow"])
def test_a_bad_duration_is_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)

