"""Calendar feeds (SPEC section 9.2): a secret URL a calendar app polls for one person's
appointments.

The URL's token is the only key (calendar apps send no Authorization header), so it is long
(256 random bits) and only its SHA-256 is stored: a copy of the database does not hold working
feed URLs. What a feed shows is decided here: one event per appointment, its status in
iCalendar's words, a summary that names the other party and nothing the patient said.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from healthcare.domain.actor import Actor
from healthcare.domain.appointments import Status
from healthcare.domain.entity import Entity
from healthcare.domain.errors import InvalidInput, PermissionDenied

TOKEN_BYTES = 32
#: A feed shows appointments from this long ago up to the booking horizon.
LOOK_BACK = timedelta(days=30)

#: RFC 5545 STATUS of a VEVENT, per appointment status.
ICAL_STATUS: dict[Status, str] = {
    Status.PENDING: "TENTATIVE",
    Status.CONFIRMED: "CONFIRMED",
    Status.COMPLETED: "CONFIRMED",
    Status.CANCELLED: "CANCELLED",
    Status.NO_SHOW: "CANCELLED",
}


class FeedOwner(StrEnum):
    DOCTOR = "doctor"
    PATIENT = "patient"


def new_token() -> str:
    """The secret part of a feed URL: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """What is stored and looked up instead of the token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(eq=False)
class CalendarFeed(Entity):
    #: The user whose appointments the feed shows (a doctor or a patient).
    owner_id: int
    kind: FeedOwner
    #: The owner's doctor or patient profile.
    profile_id: int
    token_digest: str
    created_at: datetime
    id: int | None = None

    @classmethod
    def issue(
        cls, actor: Actor, now: datetime, *, doctor_id: int | None = None, doctor_user_id: int | None = None
    ) -> tuple[CalendarFeed, str]:
        """A new feed and its token (shown once). A doctor or a patient for themself; an admin
        for a doctor (``doctor_id``, whose user is ``doctor_user_id``)."""
        token = new_token()
        if actor.is_admin:
            if doctor_id is None or doctor_user_id is None:
                raise InvalidInput("Name the doctor whose feed it is.", {"doctor": ["Required."]})
            owner, kind, profile = doctor_user_id, FeedOwner.DOCTOR, doctor_id
        elif doctor_id is not None and doctor_id != actor.doctor_id:
            raise PermissionDenied("A feed is made for oneself (an admin makes one for a doctor).")
        elif actor.is_doctor and actor.doctor_id is not None:
            owner, kind, profile = actor.user_id, FeedOwner.DOCTOR, actor.doctor_id
        elif actor.is_patient and actor.patient_id is not None:
            owner, kind, profile = actor.user_id, FeedOwner.PATIENT, actor.patient_id
        else:
            raise PermissionDenied("Your account has no doctor or patient profile.")
        feed = cls(
            owner_id=owner,  # type: ignore[arg-type]
            kind=kind,
            profile_id=profile,
            token_digest=token_digest(token),
            created_at=now,
        )
        return feed, token

    def visible_to(self, actor: Actor) -> bool:
        return actor.is_admin or actor.user_id == self.owner_id

    def window(self, now: datetime, horizon: timedelta) -> tuple[datetime, datetime]:
        """The appointments a fetch shows start in [now - LOOK_BACK, now + horizon)."""
        return now - LOOK_BACK, now + horizon


@dataclass(frozen=True)
class FeedEntry:
    """An appointment as a feed needs it: times, status, how often it changed, both names."""

    appointment_id: int
    start: datetime
    end: datetime
    status: Status
    sequence: int
    updated_at: datetime
    doctor_name: str
    patient_name: str


@dataclass(frozen=True)
class FeedEvent:
    """One VEVENT: what the calendar app shows, and nothing else."""

    uid: str
    start: datetime
    end: datetime
    status: str
    summary: str
    sequence: int
    stamp: datetime


def feed_event(entry: FeedEntry, kind: FeedOwner) -> FeedEvent:
    """The UID is the appointment's, so a calendar app updates the event it has (a reschedule
    moves it; SEQUENCE says which version is newer) instead of adding another."""
    summary = (
        f"Appointment: {entry.patient_name}"
        if kind is FeedOwner.DOCTOR
        else f"Appointment with {entry.doctor_name}"
    )
    return FeedEvent(
        uid=f"appointment-{entry.appointment_id}@healthcare",
        start=entry.start,
        end=entry.end,
        status=ICAL_STATUS[entry.status],
        summary=summary,
        sequence=entry.sequence,
        stamp=entry.updated_at,
    )
