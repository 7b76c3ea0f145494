"""The waitlist (SPEC section 8): patients who would take an earlier slot than the free ones.

An entry waits for any slot of its doctor starting in [start, end). When a slot in that range
becomes free, the oldest waiting entry that fits is offered it, in the transaction that freed
it: the offer is a hold on the slot lasting ``WAITLIST_OFFER_MINUTES``. One offer per entry:
``waiting -> offered -> booked | expired``; an entry whose range has passed, or whose offer
lapsed unbooked, is expired.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from healthcare.domain.actor import Actor
from healthcare.domain.entity import Entity
from healthcare.domain.errors import InPast, InvalidInput, PermissionDenied
from healthcare.domain.time import Interval, require_aware


class EntryStatus(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    BOOKED = "booked"
    EXPIRED = "expired"


@dataclass(eq=False)
class WaitlistEntry(Entity):
    doctor_id: int
    patient_id: int
    start: datetime
    end: datetime
    created_at: datetime
    status: EntryStatus = EntryStatus.WAITING
    id: int | None = None
    #: The offer: its hold, the slot it keeps, and until when.
    hold_id: int | None = None
    offer: Interval | None = None
    offer_expires_at: datetime | None = None

    def __post_init__(self) -> None:
        interval = Interval(self.start, self.end)
        self.start, self.end = interval.start, interval.end
        self.status = EntryStatus(self.status)
        self.created_at = require_aware(self.created_at, "created_at")

    @property
    def range(self) -> Interval:
        return Interval(self.start, self.end)

    def status_at(self, now: datetime) -> EntryStatus:
        """The status as a reader sees it at ``now``: a waiting entry whose range has passed,
        or an offer that lapsed, is expired already (process-waitlist writes it down)."""
        lapsed = self.status is EntryStatus.OFFERED and self.offer_expires_at is not None
        if (self.status is EntryStatus.WAITING and self.end <= now) or (
            lapsed and self.offer_expires_at <= now  # type: ignore[operator]
        ):
            return EntryStatus.EXPIRED
        return self.status

    def fits(self, slot: Interval) -> bool:
        """A waiting entry takes any slot starting in its range."""
        return self.status is EntryStatus.WAITING and self.start <= slot.start < self.end

    def offered(self, hold_id: int, slot: Interval, expires_at: datetime) -> None:
        self.status = EntryStatus.OFFERED
        self.hold_id, self.offer, self.offer_expires_at = hold_id, slot, expires_at

    def booked(self) -> None:
        self.status = EntryStatus.BOOKED

    def expired(self) -> None:
        self.status = EntryStatus.EXPIRED

    def visible_to(self, actor: Actor) -> bool:
        return (
            actor.is_admin
            or (actor.is_doctor and actor.doctor_id == self.doctor_id)
            or (actor.is_patient and actor.patient_id == self.patient_id)
        )

    def require_can_remove(self, actor: Actor) -> None:
        if not (actor.is_admin or (actor.is_patient and actor.patient_id == self.patient_id)):
            raise PermissionDenied("Only the entry's patient or an admin removes it.")


def new_entry(
    doctor_id: int, patient_id: int, start: datetime, end: datetime, now: datetime
) -> WaitlistEntry:
    """An entry waiting for [start, end); the range must not be over yet."""
    wanted = Interval(start, end)
    if wanted.end <= now:
        raise InPast("The range is over.", {"end": ["In the past."]})
    return WaitlistEntry(
        doctor_id=doctor_id,
        patient_id=patient_id,
        start=wanted.start,
        end=wanted.end,
        created_at=now,
    )


def first_fitting(entries: Iterable[WaitlistEntry], slot: Interval) -> WaitlistEntry | None:
    """The oldest waiting entry that fits ``slot`` (entries by id: the order they were made)."""
    return next((e for e in sorted(entries, key=lambda e: e.id or 0) if e.fits(slot)), None)


def require_range(start: datetime | None, end: datetime | None) -> None:
    if start is None or end is None:
        raise InvalidInput("Name the range.", {"start": ["Required."], "end": ["Required."]})
