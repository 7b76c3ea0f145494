"""Batch jobs: the same rules as the API, run by the clinic itself (``Actor.system()``).

Each job is idempotent and safe next to a running API: it works in small transactions, and the
storage's guarantees (unique outbox keys, conditional lifecycle moves) settle any race.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from healthcare.application.ports import Clock, MessageSender
from healthcare.application.services.base import Service
from healthcare.application.unit_of_work import UnitOfWorkFactory
from healthcare.domain.actor import Actor
from healthcare.domain.appointments import Status
from healthcare.domain.availability import (
    Availability,
    ensure_no_overlap,
    validate_window,
)
from healthcare.domain.doctors import Doctor
from healthcare.domain.errors import DomainError
from healthcare.domain.events import step_event
from healthcare.domain.notifications import reminder_for
from healthcare.domain.time import Interval, require_aware

Progress = Callable[[int], None]


def _no_progress(_: int) -> None:
    pass


@dataclass(frozen=True)
class NoShowReport:
    marked: int


@dataclass(frozen=True)
class ReminderReport:
    written: int
    already_written: int
    sent: int
    failed: int


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


@dataclass(frozen=True)
class ImportReport:
    imported: int
    errors: list[RowError] = field(default_factory=list)


class NoShowJob(Service):
    """Confirmed appointments that ended more than ``grace`` ago and were never completed."""

    BATCH = 200

    def run(self, grace: timedelta = timedelta(hours=1), progress: Progress = _no_progress) -> NoShowReport:
        actor = Actor.system()
        marked = 0
        while True:
            now = self.clock.now()
            with self.uow_factory() as uow:
                batch = uow.appointments.confirmed_ended_before(now - grace, self.BATCH)
                for appointment in batch:
                    appointment.move_to(Status.NO_SHOW, actor, now)
                    uow.appointments.update(appointment)
                    uow.webhooks.publish(step_event(appointment, now))
                uow.commit()
            marked += len(batch)
            progress(len(batch))
            if len(batch) < self.BATCH:
                return NoShowReport(marked=marked)


class ReminderJob(Service):
    """Writes one reminder per appointment and window to the outbox, then delivers the outbox."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, sender: MessageSender):
        super().__init__(uow_factory, clock)
        self.sender = sender

    def run(self, within: timedelta, progress: Progress = _no_progress) -> ReminderReport:
        window = _label(within)
        now = self.clock.now()
        written = already = 0
        with self.uow_factory() as uow:
            for appointment in uow.appointments.active_starting_between(now, now + within):
                doctor = uow.doctors.get(appointment.doctor_id)
                patient = uow.patients.get(appointment.patient_id)
                if doctor is None or patient is None:  # pragma: no cover - foreign keys forbid it
                    continue
                message = reminder_for(appointment, doctor, patient.email, window, now)
                if uow.outbox.add_if_absent(message):
                    written += 1
                else:
                    already += 1
            uow.commit()
        sent, failed = self.deliver(progress)
        return ReminderReport(written=written, already_written=already, sent=sent, failed=failed)

    def deliver(self, progress: Progress = _no_progress, limit: int = 1000) -> tuple[int, int]:
        """Send what the outbox holds; a failed send stays unsent and is retried next run."""
        with self.uow_factory() as uow:
            pending = uow.outbox.unsent(limit)
        sent = failed = 0
        for message in pending:
            try:
                self.sender.send(message.recipient, message.subject, message.body)
            except Exception:  # noqa: BLE001 - any transport failure means "retry later"
                failed += 1
                continue
            with self.uow_factory() as uow:
                uow.outbox.mark_sent(message.id, self.clock.now())  # type: ignore[arg-type]
                uow.commit()
            sent += 1
            progress(1)
        return sent, failed


class AvailabilityImport(Service):
    """Imports a CSV of windows (``doctor,start_time,end_time``): every row is checked first,
    and the file is imported whole or not at all."""

    COLUMNS = ("doctor", "start_time", "end_time")

    def run(self, text: str) -> ImportReport:
        now = self.clock.now()
        reader = csv.DictReader(io.StringIO(text))
        header = [name.strip() for name in reader.fieldnames or []]
        reader.fieldnames = header
        missing = [c for c in self.COLUMNS if c not in header]
        if missing:
            return ImportReport(0, [RowError(1, f"missing column(s): {', '.join(missing)}")])
        errors: list[RowError] = []
        windows: list[tuple[int, Availability]] = []
        with self.uow_factory() as uow:
            doctors: dict[int, Doctor] = {}
            for line, row in enumerate(reader, start=2):  # line 1 is the header
                try:
                    window = self._parse(row)
                    doctor = doctors.get(window.doctor_id) or uow.doctors.get(window.doctor_id)
                    if doctor is None:
                        raise DomainError(f"no doctor with id {window.doctor_id}")
                    doctors[window.doctor_id] = doctor
                    validate_window(window.interval, doctor.appointment_minutes, now)
                    ensure_no_overlap(
                        window.interval, uow.availabilities.overlapping(window.doctor_id, window.interval)
                    )
                    ensure_no_overlap(
                        window.interval, [w for _, w in windows if w.doctor_id == window.doctor_id]
                    )
                except DomainError as error:
                    errors.append(RowError(line, error.message))
                    continue
                windows.append((line, window))
            if errors:
                return ImportReport(0, errors)
            for _, window in windows:
                uow.availabilities.add(window)
            uow.commit()
        return ImportReport(len(windows))

    @staticmethod
    def _parse(row: dict[str, str]) -> Availability:
        try:
            doctor_id = int((row.get("doctor") or "").strip())
        except ValueError:
            raise DomainError("doctor must be a doctor id (a whole number)") from None
        times = []
        for name in ("start_time", "end_time"):
            raw = (row.get(name) or "").strip()
            try:
                value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                raise DomainError(f"{name} {raw!r} is not an ISO 8601 datetime") from None
            times.append(require_aware(value, name))
        Interval(times[0], times[1])
        return Availability(doctor_id=doctor_id, start=times[0], end=times[1])


def _label(within: timedelta) -> str:
    hours = within.total_seconds() / 3600
    return f"{hours:g}h"


def parse_duration(text: str) -> timedelta:
    """``24h``, ``90m``, ``2d`` → a timedelta; for the command line's ``--within``/``--grace``."""
    units = {"m": "minutes", "h": "hours", "d": "days"}
    text = text.strip().lower()
    if len(text) < 2 or text[-1] not in units:
        raise ValueError(f"{text!r} is not a duration like 30m, 24h or 2d")
    amount = float(text[:-1])
    if amount <= 0:
        raise ValueError("a duration must be positive")
    return timedelta(**{units[text[-1]]: amount})

