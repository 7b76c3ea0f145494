"""What the requests are about: users, tokens and targets for every operation, picked from the
loaded clinic, and free slots for every booking the run will ask for."""

from __future__ import annotations

import bisect
import concurrent.futures
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, bindparam, text

from bench.database import Database
from bench.server import Server
from healthcare.adapters.sqlalchemy.types import UtcDateTime
from healthcare.entrypoints.demo import DEMO_PASSWORD

ACTIVE = ("pending", "confirmed")


@dataclass
class Fixtures:
    emails: list[str]
    #: (user id, patient id, token) of frequent visitors: their lists fill a page of 50.
    patients: list[tuple[int, int, str]]
    #: (user id, doctor id, token)
    doctors: list[tuple[int, int, str]]
    #: (record id, token of its patient, patient id)
    records: list[tuple[int, str, int]]
    #: (doctor id, month start)
    slot_searches: list[tuple[int, datetime]]
    #: (token, patient id, doctor id, start, end): each a different free slot.
    bookings: list[tuple[str, int, int, datetime, datetime]] = field(default_factory=list)
    #: More of them, for the ceiling's captured bookings.
    spare_bookings: list[tuple[str, int, int, datetime, datetime]] = field(default_factory=list)

    @classmethod
    def pick(cls, database: Database, server: Server, api_bookings: int, spare: int) -> Fixtures:
        rng = random.Random(7)
        engine = database.engine()
        try:
            with engine.connect() as connection:
                everyone = connection.execute(text(
                    "SELECT u.email, p.user_id, p.id FROM patients p JOIN users u ON u.id = p.user_id"
                    " ORDER BY p.id")).all()
                frequent = set(connection.execute(text(
                    "SELECT patient_id FROM appointments GROUP BY patient_id HAVING count(*) >= 50"
                    " ORDER BY patient_id LIMIT 100")).scalars())
                doctors = connection.execute(text(
                    "SELECT d.user_id, d.id, u.email FROM doctors d JOIN users u ON u.id = d.user_id"
                    " ORDER BY d.id LIMIT 100")).all()
            emails = [email for email, _, _ in rng.sample(everyone, min(200, len(everyone)))]
            heavy = [(u, p) for _, u, p in everyone if p in frequent] or [
                (u, p) for _, u, p in everyone[:50]
            ]
            # Sign-in as the clinic's users do: these calls are not measured.
            print(f"Signing in {len(heavy)} patients and {len(doctors)} doctors ...", flush=True)
            by_user = {u: e for e, u, _ in everyone}
            tokens = sign_in(server, [by_user[u] for u, _ in heavy])
            patients = [(u, p, t) for (u, p), t in zip(heavy, tokens, strict=True)]
            doctor_tokens = sign_in(server, [email for _, _, email in doctors])
            token_of = {p: t for _, p, t in patients}
            with engine.connect() as connection:
                records = connection.execute(
                    text("SELECT id, patient_id FROM medical_records WHERE patient_id IN :ids")
                    .bindparams(bindparam("ids", expanding=True)),
                    {"ids": list(token_of)},
                ).all()
            tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
            fixtures = cls(
                emails=emails,
                patients=patients,
                doctors=[(u, d, t) for (u, d, _), t in zip(doctors, doctor_tokens, strict=True)],
                records=[(r, token_of[p], p) for r, p in records],
                slot_searches=[(d, tomorrow + timedelta(days=rng.randrange(14))) for _, d, _ in doctors],
            )
            plans = _free_slots_for_bookers(engine, server, api_bookings + spare)
        finally:
            engine.dispose()
        # Interleaved, so both sets spread over every doctor.
        fixtures.bookings = plans[0::2][:api_bookings]
        fixtures.spare_bookings = plans[1::2][:spare]
        return fixtures


def _free_slots_for_bookers(engine: Any, server: Server, wanted: int) -> list[Any]:
    """Free slots from tomorrow on, each for a patient who is free then: no two bookings of the
    run ask for the same slot, and none for a time its patient is already booked."""
    start = datetime.now(UTC) + timedelta(days=1)
    moments = {"since": start, "until": start + timedelta(days=90)}
    typed = [bindparam(name, type_=UtcDateTime()) for name in moments]
    with engine.connect() as connection:
        minutes = dict(connection.execute(text("SELECT id, appointment_minutes FROM doctors")).all())
        windows = connection.execute(
            text("SELECT doctor_id, start_time, end_time FROM availabilities"
                 " WHERE start_time >= :since AND start_time < :until")
            .bindparams(*typed)
            .columns(doctor_id=Integer(), start_time=UtcDateTime(), end_time=UtcDateTime()),
            moments,
        ).all()
        held = connection.execute(
            text("SELECT doctor_id, patient_id, start_at, end_at FROM appointments"
                 " WHERE status IN :active AND end_at > :since")
            .bindparams(bindparam("active", expanding=True), typed[0])
            .columns(doctor_id=Integer(), patient_id=Integer(), start_at=UtcDateTime(),
                     end_at=UtcDateTime()),
            {"active": list(ACTIVE), "since": start},
        ).all()
        bookers = connection.execute(
            text("SELECT u.email, p.id FROM patients p JOIN users u ON u.id = p.user_id"
                 " ORDER BY p.id DESC LIMIT 600").columns(email=String(), id=Integer())
        ).all()
    taken: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    busy: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for doctor, patient, s, e in held:
        taken[doctor].append((s, e))
        busy[patient].append((s, e))
    for periods in taken.values():
        periods.sort()
    starts = {doctor: [s for s, _ in periods] for doctor, periods in taken.items()}
    slots = []
    for doctor, w_start, w_end in windows:
        length = timedelta(minutes=minutes[doctor])
        periods, period_starts = taken[doctor], starts.get(doctor, [])
        at = w_start
        while at + length <= w_end:
            end = at + length
            # A doctor's active appointments do not overlap one another, so only the last one
            # starting before this slot ends can overlap it.
            before = bisect.bisect_left(period_starts, end) - 1
            if before < 0 or periods[before][1] <= at:
                slots.append((at, end, doctor))
            at = end
    slots.sort()
    print(f"Signing in {len(bookers)} patients who book ({len(slots)} free slots) ...", flush=True)
    tokens = sign_in(server, [email for email, _ in bookers])
    free_from = [start] * len(bookers)
    plans: list[tuple[str, int, int, datetime, datetime]] = []
    turn = 0
    for at, end, doctor in slots:
        for _ in range(len(bookers)):
            turn = (turn + 1) % len(bookers)
            patient = bookers[turn][1]
            if free_from[turn] <= at and not any(s < end and at < e for s, e in busy[patient]):
                free_from[turn] = end
                plans.append((tokens[turn], patient, doctor, at, end))
                break
        if len(plans) >= wanted:
            break
    return plans


def sign_in(server: Server, emails: list[str]) -> list[str]:
    def one(email: str) -> str:
        tokens = server.post_json("/api/auth/jwt/token/", {"email": email, "password": DEMO_PASSWORD})
        return str(tokens["access"])

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, emails))
