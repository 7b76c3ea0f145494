"""Bulk loading: a whole clinic (demo data, benchmark data, an import from another system) in
large batches.

Every rule a single write obeys is checked first, in memory, on the whole load: windows of one
doctor do not overlap and hold at least one appointment, each appointment lies inside one window
of its doctor, no doctor and no patient has two overlapping pending/confirmed appointments, a
medical record belongs to a visit that was not cancelled and is the only one for it. Only then is
anything written, through the repositories' ``add_many`` (one multi-row INSERT per batch), all in
one transaction: a load is stored whole or not at all. The storage's own guarantees (unique
emails, no overlap) still apply, so a clash with rows stored before the load is refused too.

References inside a load are positions: ``NewWindow(doctor=3)`` is the fourth doctor of the same
load, ``NewRecord(appointment=10)`` its eleventh appointment. Histories load as they happened, so
windows and appointments may lie in the past (the "not in the past" rule binds new bookings, not
records of old ones). Hashing a password costs tens of milliseconds by design, so every user of a
load shares one password, hashed once.

A load publishes no webhook events (SPEC section 9.1): it brings in history that happened
elsewhere, not changes made in this clinic, and thousands of ``appointment.booked`` events
for visits booked years ago would tell receivers nothing true. Receivers that need the loaded
data read it through the API.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from typing import Any, TypeVar

from healthcare.application.ports import Clock, PasswordHasher
from healthcare.application.services.accounts import check_password_strength
from healthcare.application.services.base import Service
from healthcare.application.unit_of_work import UnitOfWorkFactory
from healthcare.domain.actor import Actor
from healthcare.domain.appointments import ACTIVE, Appointment, Status, slot_for
from healthcare.domain.audit import Action, Resource
from healthcare.domain.availability import Availability, validate_window
from healthcare.domain.doctors import Doctor
from healthcare.domain.errors import (
    DomainError,
    DuplicateEmail,
    InvalidInput,
    OutsideAvailability,
    OverlappingAvailability,
    PatientDoubleBooked,
    RecordAlreadyExists,
    SlotUnavailable,
    TransitionNotAllowed,
)
from healthcare.domain.patients import Patient
from healthcare.domain.records import MedicalRecord
from healthcare.domain.time import Interval
from healthcare.domain.users import Role, User, normalize_email

T = TypeVar("T")

DEFAULT_BATCH = 5000


# -- the load ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewDoctor:
    email: str
    name: str
    specialization: str
    appointment_minutes: int = 30
    timezone: str = "UTC"


@dataclass(frozen=True)
class NewPatient:
    email: str
    name: str
    phone: str = ""
    insurance_id: str = ""
    date_of_birth: date | None = None


@dataclass(frozen=True)
class NewWindow:
    #: Position of the doctor in ``LoadClinic.doctors``.
    doctor: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class NewAppointment:
    #: Positions in ``LoadClinic.doctors`` and ``LoadClinic.patients``.
    doctor: int
    patient: int
    start: datetime
    status: Status = Status.PENDING
    reason: str = ""
    cancellation_reason: str | None = None
    #: When it was booked (``created_at``); the load's present when omitted.
    booked_at: datetime | None = None
    #: When its status last changed (``updated_at``); ``booked_at`` when omitted.
    changed_at: datetime | None = None


@dataclass(frozen=True)
class NewRecord:
    #: Position of the visit in ``LoadClinic.appointments``; its doctor writes the record.
    appointment: int
    diagnosis: str
    treatment: str = ""
    notes: str = ""
    #: The load's present when omitted.
    written_at: datetime | None = None


@dataclass(frozen=True)
class LoadClinic:
    #: The password of every user of the load (hashed once).
    password: str
    admins: Sequence[str] = ()
    doctors: Sequence[NewDoctor] = ()
    patients: Sequence[NewPatient] = ()
    windows: Sequence[NewWindow] = ()
    appointments: Sequence[NewAppointment] = ()
    records: Sequence[NewRecord] = ()
    #: Rows per INSERT round trip.
    batch_size: int = DEFAULT_BATCH


@dataclass(frozen=True)
class LoadedClinic:
    """The ids the storage gave, in the order of the load."""

    admin_user_ids: list[int] = field(default_factory=list)
    doctor_user_ids: list[int] = field(default_factory=list)
    doctor_ids: list[int] = field(default_factory=list)
    patient_user_ids: list[int] = field(default_factory=list)
    patient_ids: list[int] = field(default_factory=list)
    window_ids: list[int] = field(default_factory=list)
    appointment_ids: list[int] = field(default_factory=list)
    record_ids: list[int] = field(default_factory=list)
    audit_events: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "users": len(self.admin_user_ids)
            + len(self.doctor_user_ids)
            + len(self.patient_user_ids),
            "doctors": len(self.doctor_ids),
            "patients": len(self.patient_ids),
            "availabilities": len(self.window_ids),
            "appointments": len(self.appointment_ids),
            "medical_records": len(self.record_ids),
            "audit_events": self.audit_events,
        }


# -- the use case -----------------------------------------------------------------------------


class BulkLoadService(Service):
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, hasher: PasswordHasher):
        super().__init__(uow_factory, clock)
        self.hasher = hasher

    def load(self, actor: Actor, command: LoadClinic) -> LoadedClinic:
        """Check the whole load against the rules, then store it in one transaction."""
        actor.require_role(Role.ADMIN)
        if command.batch_size < 1:
            raise InvalidInput("batch_size is at least 1.", {"batch_size": ["At least 1."]})
        check_password_strength(command.password)
        now = self.clock.now()
        plan = _Plan.checked(command, now)
        password_hash = self.hasher.hash(command.password)
        batch = command.batch_size

        with self.uow_factory() as uow:
            admin_user_ids = _store(
                uow.users.add_many, plan.users(Role.ADMIN, password_hash, now), batch
            )
            doctor_user_ids = _store(
                uow.users.add_many, plan.users(Role.DOCTOR, password_hash, now), batch
            )
            doctor_ids = _store(uow.doctors.add_many, plan.doctors(doctor_user_ids), batch)
            patient_user_ids = _store(
                uow.users.add_many, plan.users(Role.PATIENT, password_hash, now), batch
            )
            patient_ids = _store(uow.patients.add_many, plan.patients(patient_user_ids), batch)
            window_ids = _store(uow.availabilities.add_many, plan.windows(doctor_ids), batch)
            appointments = plan.appointments(doctor_ids, patient_ids)
            appointment_ids = _store(uow.appointments.add_many, appointments, batch)
            records = plan.records(appointments)
            record_ids = _store(uow.records.add_many, records, batch)
            # Creating a patient profile or a medical record is audited, loaded or not.
            audited = [
                (Resource.PATIENT, [(p, p) for p in patient_ids]),
                (Resource.MEDICAL_RECORD, [(r.id, r.patient_id) for r in records]),
            ]
            for resource, subjects in audited:
                for chunk in _chunks(subjects, batch):
                    self.audit(uow, actor, Action.CREATE, resource, chunk)
            uow.commit()
        return LoadedClinic(
            admin_user_ids=admin_user_ids,
            doctor_user_ids=doctor_user_ids,
            doctor_ids=doctor_ids,
            patient_user_ids=patient_user_ids,
            patient_ids=patient_ids,
            window_ids=window_ids,
            appointment_ids=appointment_ids,
            record_ids=record_ids,
            audit_events=len(patient_ids) + len(records),
        )


# -- checking the load in memory --------------------------------------------------------------


class _Plan:
    """The load as domain objects, every rule checked; ids are filled in as batches land."""

    def __init__(self, command: LoadClinic, now: datetime) -> None:
        self.command = command
        self.now = now

    @classmethod
    def checked(cls, command: LoadClinic, now: datetime) -> _Plan:
        plan = cls(command, now)
        plan._check_emails()
        # Building the entities runs their own validation (names, zones, lengths, awareness).
        plan._doctors = _each("doctors", command.doctors, plan._doctor)
        plan._patients = _each("patients", command.patients, plan._patient)
        plan._windows = _each("windows", command.windows, plan._window)
        plan._appointments = _each("appointments", command.appointments, plan._appointment)
        plan._check_windows()
        plan._check_appointments()
        plan._check_records()
        return plan

    # -- entities, with positions where ids will go ------------------------------------------

    def _doctor(self, new: NewDoctor) -> Doctor:
        return Doctor(
            user_id=0,
            name=new.name,
            specialization=new.specialization,
            appointment_minutes=new.appointment_minutes,
            timezone=new.timezone,
        )

    def _patient(self, new: NewPatient) -> Patient:
        patient = Patient(
            user_id=0,
            name=new.name,
            email=new.email,
            phone=new.phone,
            insurance_id=new.insurance_id,
            date_of_birth=new.date_of_birth,
        )
        patient.validate(today=self.now.date())
        return patient

    def _window(self, new: NewWindow) -> Availability:
        doctor = _position(self._doctors, new.doctor, "doctor")
        window = Availability(doctor_id=new.doctor, start=new.start, end=new.end)
        validate_window(window.interval, doctor.appointment_minutes, now=None)
        return window

    def _appointment(self, new: NewAppointment) -> Appointment:
        doctor = _position(self._doctors, new.doctor, "doctor")
        _position(self._patients, new.patient, "patient")
        slot = slot_for(new.start, doctor.appointment_minutes)
        booked_at = new.booked_at or self.now
        return Appointment(
            patient_id=new.patient,
            doctor_id=new.doctor,
            start=slot.start,
            end=slot.end,
            status=new.status,
            reason=new.reason,
            cancellation_reason=new.cancellation_reason,
            created_at=booked_at,
            updated_at=new.changed_at or booked_at,
        )

    # -- rules across the load ---------------------------------------------------------------

    def _check_emails(self) -> None:
        seen: set[str] = set()
        for kind, emails in (
            ("admins", list(self.command.admins)),
            ("doctors", [d.email for d in self.command.doctors]),
            ("patients", [p.email for p in self.command.patients]),
        ):
            for index, email in enumerate(emails):
                try:
                    folded = normalize_email(email)
                except InvalidInput as error:
                    raise _at(kind, index, error) from None
                if folded in seen:
                    raise _at(kind, index, DuplicateEmail())
                seen.add(folded)

    def _check_windows(self) -> None:
        by_doctor = _grouped((w.doctor_id, i, w.interval) for i, w in enumerate(self._windows))
        clash = _first_overlap(by_doctor)
        if clash is not None:
            raise _at("windows", clash, OverlappingAvailability())
        # Sorted, non-overlapping: the only window that can hold a slot is the last one
        # starting at or before it.
        self._open = {
            doctor: ([w.start for _, w in windows], [w for _, w in windows])
            for doctor, windows in by_doctor.items()
        }

    def _check_appointments(self) -> None:
        for index, appointment in enumerate(self._appointments):
            starts, windows = self._open.get(appointment.doctor_id, ([], []))
            at = bisect_right(starts, appointment.start) - 1
            if at < 0 or not windows[at].contains(appointment.interval):
                raise _at("appointments", index, OutsideAvailability())
        active = [(i, a) for i, a in enumerate(self._appointments) if a.status in ACTIVE]
        for owner, error in (
            (lambda a: a.doctor_id, SlotUnavailable),
            (lambda a: a.patient_id, PatientDoubleBooked),
        ):
            clash = _first_overlap(_grouped((owner(a), i, a.interval) for i, a in active))
            if clash is not None:
                raise _at("appointments", clash, error())

    def _check_records(self) -> None:
        recorded: set[int] = set()
        for index, new in enumerate(self.command.records):
            try:
                appointment = _position(self._appointments, new.appointment, "appointment")
                if appointment.status is Status.CANCELLED:
                    raise TransitionNotAllowed(
                        appointment.status, "recorded", "a cancelled appointment has no record"
                    )
                if new.appointment in recorded:
                    raise RecordAlreadyExists()
            except DomainError as error:
                raise _at("records", index, error) from None
            recorded.add(new.appointment)

    # -- what gets stored, once the ids it refers to are known -------------------------------

    def users(self, role: Role, password_hash: str, now: datetime) -> list[User]:
        emails = {
            Role.ADMIN: list(self.command.admins),
            Role.DOCTOR: [d.email for d in self.command.doctors],
            Role.PATIENT: [p.email for p in self.command.patients],
        }[role]
        return [
            User(email=email, password_hash=password_hash, role=role, created_at=now)
            for email in emails
        ]

    def doctors(self, user_ids: Sequence[int]) -> list[Doctor]:
        for doctor, user_id in zip(self._doctors, user_ids, strict=True):
            doctor.user_id = user_id
        return self._doctors

    def patients(self, user_ids: Sequence[int]) -> list[Patient]:
        for patient, user_id in zip(self._patients, user_ids, strict=True):
            patient.user_id = user_id
        return self._patients

    def windows(self, doctor_ids: Sequence[int]) -> list[Availability]:
        for window in self._windows:
            window.doctor_id = doctor_ids[window.doctor_id]
        return self._windows

    def appointments(
        self, doctor_ids: Sequence[int], patient_ids: Sequence[int]
    ) -> list[Appointment]:
        for appointment in self._appointments:
            appointment.doctor_id = doctor_ids[appointment.doctor_id]
            appointment.patient_id = patient_ids[appointment.patient_id]
        return self._appointments

    def records(self, appointments: Sequence[Appointment]) -> list[MedicalRecord]:
        """Written by each visit's doctor about its patient (after the visits have ids)."""
        records = []
        for index, new in enumerate(self.command.records):
            visit = appointments[new.appointment]
            written_at = new.written_at or self.now
            try:
                records.append(
                    MedicalRecord(
                        patient_id=visit.patient_id,
                        appointment_id=visit.id,  # type: ignore[arg-type]
                        doctor_id=visit.doctor_id,
                        diagnosis=new.diagnosis,
                        treatment=new.treatment,
                        notes=new.notes,
                        created_at=written_at,
                        updated_at=written_at,
                    )
                )
            except DomainError as error:
                raise _at("records", index, error) from None
        return records


# -- helpers ----------------------------------------------------------------------------------


def _each(kind: str, items: Sequence[Any], build: Callable[[Any], T]) -> list[T]:
    built = []
    for index, item in enumerate(items):
        try:
            built.append(build(item))
        except DomainError as error:
            raise _at(kind, index, error) from None
    return built


def _position(items: Sequence[T], position: int, name: str) -> T:
    if not 0 <= position < len(items):
        raise InvalidInput(
            f"{name} {position} is not a position in this load.", {name: ["Not in this load."]}
        )
    return items[position]


def _at(kind: str, index: int, error: DomainError) -> DomainError:
    """The same error, saying which item of the load broke the rule."""
    error.message = f"{kind}[{index}]: {error.message}"
    error.args = (error.message,)
    error.errors = {kind: {index: error.errors or [error.message]}}
    return error


def _grouped(
    items: Iterable[tuple[int, int, Interval]],
) -> dict[int, list[tuple[int, Interval]]]:
    """``(owner, index, interval)`` as each owner's ``(index, interval)``, sorted by start."""
    groups: dict[int, list[tuple[int, Interval]]] = defaultdict(list)
    for owner, index, interval in items:
        groups[owner].append((index, interval))
    for group in groups.values():
        group.sort(key=lambda item: (item[1].start, item[0]))
    return groups


def _first_overlap(groups: dict[int, list[tuple[int, Interval]]]) -> int | None:
    """The smallest index of an interval overlapping an earlier-starting one of its owner."""
    clashes = []
    for group in groups.values():
        latest_end: datetime | None = None
        for index, interval in group:
            if latest_end is not None and interval.start < latest_end:
                clashes.append(index)
            latest_end = interval.end if latest_end is None else max(latest_end, interval.end)
    return min(clashes, default=None)


def _chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _store(add_many: Callable[[Sequence[T]], list[int]], items: Sequence[T], size: int) -> list[int]:
    """Store ``items`` with one ``add_many`` per batch of ``size``; their ids in order."""
    ids: list[int] = []
    for chunk in _chunks(items, size):
        ids.extend(add_many(chunk))
    return ids
