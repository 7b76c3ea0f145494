"""A believable demo clinic, made with faker and loaded through the bulk use case.

``healthcare seed-demo`` and the benchmark (``bench/``) both call :func:`seed_demo`; the same
seed and the same present give the same clinic. The clinic works weekdays: each doctor has a
morning and an afternoon window in their own time zone (DST-correct, see
``domain.weekly.local_instant``), over ``weeks`` weeks of which the first third lie in the past.
Booked slots get every status a real calendar has: past visits completed (with a medical record),
cancelled, no-show or still confirmed; future ones pending, confirmed or cancelled. No doctor and
no patient is ever double booked.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from faker import Faker

from healthcare.application.services.bulk import (
    BulkLoadService,
    LoadClinic,
    NewAppointment,
    NewDoctor,
    NewPatient,
    NewRecord,
    NewWindow,
)
from healthcare.domain.actor import Actor
from healthcare.domain.appointments import Status
from healthcare.domain.time import zone
from healthcare.domain.weekly_hours import local_instant

#: Every demo user signs in with this password (hashed once for the whole load).
DEMO_PASSWORD = "demo-clinic-password"
DEMO_ADMIN = "admin@demo-clinic.example"

#: Specialty and its usual visit length in minutes.
SPECIALTIES = (
    ("Cardiology", 30),
    ("Dermatology", 20),
    ("General Practice", 20),
    ("Pediatrics", 30),
    ("Neurology", 45),
    ("Orthopedics", 30),
    ("Psychiatry", 45),
    ("Ophthalmology", 20),
    ("Gynecology", 30),
    ("Endocrinology", 30),
    ("Oncology", 45),
    ("Otolaryngology", 20),
)
TIMEZONES = (
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Australia/Sydney",
    "UTC",
)
#: Local working hours: a morning and an afternoon window, weekdays.
SHIFTS = (
    ((time(8, 0), time(12, 0)), (time(13, 0), time(16, 0))),
    ((time(9, 0), time(12, 30)), (time(13, 30), time(17, 0))),
    ((time(10, 0), time(13, 0)), (time(14, 0), time(18, 0))),
)
REASONS = (
    "Annual check-up",
    "Follow-up visit",
    "Persistent headache",
    "Back pain",
    "Skin rash",
    "Blood test results",
    "Prescription renewal",
    "Chest discomfort",
    "Allergy symptoms",
    "Knee pain after running",
    "Sleep problems",
    "Vaccination",
    "Blood pressure check",
    "Second opinion",
    "",
)
CANCELLATIONS = ("Patient request", "Feeling better", "Schedule conflict", "Doctor unavailable")
DIAGNOSES = (
    ("Essential hypertension", "Lifestyle changes; lisinopril 10 mg daily"),
    ("Seasonal allergic rhinitis", "Cetirizine 10 mg as needed"),
    ("Tension-type headache", "Ibuprofen as needed; sleep hygiene"),
    ("Lumbar strain", "Physiotherapy, 6 sessions"),
    ("Atopic dermatitis", "Emollients; hydrocortisone 1% cream"),
    ("Type 2 diabetes, controlled", "Continue metformin; HbA1c in 3 months"),
    ("Iron-deficiency anaemia", "Ferrous sulfate 200 mg daily"),
    ("Healthy, no findings", ""),
    ("Patellofemoral pain syndrome", "Quadriceps strengthening; rest from running"),
    ("Insomnia", "Sleep diary; CBT-I referral"),
)
#: Share of a past slot's outcomes, and of a future booking's states.
PAST = ((Status.COMPLETED, 0.75), (Status.CANCELLED, 0.12), (Status.NO_SHOW, 0.08), (Status.CONFIRMED, 0.05))
FUTURE = ((Status.PENDING, 0.45), (Status.CONFIRMED, 0.45), (Status.CANCELLED, 0.10))
#: Share of visits that go to the frequent visitors (see ``_free_patient``).
FREQUENT_SHARE = 0.1
#: Share of slots booked when no appointment count is asked for.
DEFAULT_OCCUPANCY = 0.6


@dataclass(frozen=True)
class DemoClinic:
    """A generated clinic, ready for :class:`BulkLoadService`."""

    load: LoadClinic
    #: The clinic's present: windows before it lie in the past.
    now: datetime


def demo_clinic(
    now: datetime,
    *,
    doctors: int = 12,
    patients: int = 300,
    weeks: int = 6,
    seed: int = 1,
    appointments: int | None = None,
) -> DemoClinic:
    """Generate (without storing) a clinic around ``now``; ``appointments`` aims at that many
    booked slots in all (at most all of them), else about 60% of the slots are booked."""
    if doctors < 1 or patients < 1 or weeks < 1:
        raise ValueError("doctors, patients and weeks are at least 1")
    rng = random.Random(seed)
    fake = Faker(["en_US", "en_GB", "de_DE"])
    fake.seed_instance(seed)

    new_doctors = [_doctor(fake, rng, i) for i in range(doctors)]
    new_patients = [_patient(fake, rng, i, now) for i in range(patients)]
    shifts = [rng.choice(SHIFTS) for _ in range(doctors)]
    first_day = _monday_of(now.date()) - timedelta(weeks=max(weeks // 3, 1) if weeks > 1 else 0)
    windows = [
        NewWindow(doctor=d, start=start, end=end)
        for d, doctor in enumerate(new_doctors)
        for start, end in _working_hours(first_day, weeks, shifts[d], doctor.timezone)
    ]
    slots = [
        (window.doctor, start)
        for window in windows
        for start in _slot_starts(window, new_doctors[window.doctor].appointment_minutes)
    ]
    occupancy = DEFAULT_OCCUPANCY if appointments is None else min(1.0, appointments / max(len(slots), 1))
    booked = _book(rng, slots, new_doctors, patients, occupancy, now)
    records = [
        NewRecord(
            appointment=index,
            diagnosis=diagnosis,
            treatment=treatment,
            notes=fake.sentence(nb_words=10),
            written_at=visit.start + timedelta(minutes=new_doctors[visit.doctor].appointment_minutes),
        )
        for index, visit in enumerate(booked)
        if visit.status is Status.COMPLETED
        for diagnosis, treatment in [rng.choice(DIAGNOSES)]
    ]
    load = LoadClinic(
        password=DEMO_PASSWORD,
        admins=[DEMO_ADMIN],
        doctors=new_doctors,
        patients=new_patients,
        windows=windows,
        appointments=booked,
        records=records,
    )
    return DemoClinic(load=load, now=now)


def seed_demo(
    service: BulkLoadService,
    *,
    doctors: int = 12,
    patients: int = 300,
    weeks: int = 6,
    seed: int = 1,
    appointments: int | None = None,
) -> dict[str, int]:
    """Generate a demo clinic and store it through the bulk use case; the counts stored."""
    clinic = demo_clinic(
        service.clock.now(),
        doctors=doctors,
        patients=patients,
        weeks=weeks,
        seed=seed,
        appointments=appointments,
    )
    return service.load(Actor.system(), clinic.load).counts()


# -- people -----------------------------------------------------------------------------------


def _doctor(fake: Faker, rng: random.Random, index: int) -> NewDoctor:
    specialty, minutes = SPECIALTIES[index % len(SPECIALTIES)]
    first, last = fake.first_name(), fake.last_name()
    return NewDoctor(
        email=f"dr.{_slug(last)}.{index + 1}@demo-clinic.example",
        name=f"Dr. {first} {last}",
        specialization=specialty,
        appointment_minutes=minutes,
        timezone=TIMEZONES[index % len(TIMEZONES)] if index else "Europe/Berlin",
    )


def _patient(fake: Faker, rng: random.Random, index: int, now: datetime) -> NewPatient:
    first, last = fake.first_name(), fake.last_name()
    born = now.date() - timedelta(days=rng.randrange(365 * 1, 365 * 90))
    return NewPatient(
        email=f"{_slug(first)}.{_slug(last)}.{index + 1}@patients.example",
        name=f"{first} {last}",
        phone=f"+1-555-{rng.randrange(10**7):07d}",
        insurance_id=f"INS-{rng.randrange(10**9):09d}",
        date_of_birth=born if rng.random() < 0.9 else None,
    )


def _slug(name: str) -> str:
    kept = "".join(c for c in name.lower() if c.isascii() and c.isalnum())
    return kept or "x"


# -- calendars --------------------------------------------------------------------------------


def _monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _working_hours(
    first_day: date, weeks: int, shift: tuple[tuple[time, time], ...], timezone: str
) -> list[tuple[datetime, datetime]]:
    """Weekday windows from ``first_day`` for ``weeks`` weeks, local hours turned into UTC."""
    tz = zone(timezone)
    hours = []
    for offset in range(weeks * 7):
        day = first_day + timedelta(days=offset)
        if day.weekday() < 5:
            hours.extend(
                (local_instant(day, start, tz), local_instant(day, end, tz)) for start, end in shift
            )
    return hours


def _slot_starts(window: NewWindow, minutes: int) -> list[datetime]:
    length = timedelta(minutes=minutes)
    count = int((window.end - window.start) / length)
    return [window.start + i * length for i in range(count)]


def _book(
    rng: random.Random,
    slots: list[tuple[int, datetime]],
    doctors: list[NewDoctor],
    patients: int,
    occupancy: float,
    now: datetime,
) -> list[NewAppointment]:
    """Book ``occupancy`` of the slots, each for a patient who is free then."""
    busy: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    booked = []
    for doctor, start in slots:
        if rng.random() >= occupancy:
            continue
        end = start + timedelta(minutes=doctors[doctor].appointment_minutes)
        patient = _free_patient(rng, busy, patients, start, end)
        if patient is None:
            continue
        busy[patient].append((start, end))
        booked.append(_appointment(rng, doctor, patient, start, end, now))
    return booked


def _free_patient(
    rng: random.Random,
    busy: dict[int, list[tuple[datetime, datetime]]],
    patients: int,
    start: datetime,
    end: datetime,
) -> int | None:
    for _ in range(8):
        # One visit in ten goes to the frequent visitors (the first 1% of patients: chronic
        # care), so some patients have long lists, as in a real practice.
        frequent = rng.random() < FREQUENT_SHARE
        patient = rng.randrange(max(1, patients // 100) if frequent else patients)
        if not any(s < end and start < e for s, e in busy[patient]):
            return patient
    return None


def _appointment(
    rng: random.Random, doctor: int, patient: int, start: datetime, end: datetime, now: datetime
) -> NewAppointment:
    if end <= now:
        status = _pick(rng, PAST)
    elif start <= now:
        status = Status.CONFIRMED  # under way
    else:
        status = _pick(rng, FUTURE)
    booked_at = min(start - timedelta(days=rng.randrange(1, 30), minutes=rng.randrange(600)), now)
    changed_at = booked_at if status is Status.PENDING else min(max(booked_at, end), now)
    return NewAppointment(
        doctor=doctor,
        patient=patient,
        start=start,
        status=status,
        reason=rng.choice(REASONS),
        cancellation_reason=rng.choice(CANCELLATIONS) if status is Status.CANCELLED else None,
        booked_at=booked_at,
        changed_at=max(changed_at, booked_at),
    )


def _pick(rng: random.Random, shares: tuple[tuple[Status, float], ...]) -> Status:
    roll = rng.random()
    for status, share in shares:
        roll -= share
        if roll < 0:
            return status
    return shares[-1][0]


def weeks_for(appointments_per_doctor: int, occupancy: float = 0.9) -> int:
    """Weeks of calendar a doctor needs to hold that many appointments at that occupancy
    (the slowest specialty, 45-minute visits, sets the pace: about 9 slots a day)."""
    return max(3, math.ceil(appointments_per_doctor / (9 * 5 * occupancy)) + 1)
