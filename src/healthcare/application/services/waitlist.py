"""The waitlist (SPEC section 8): patients waiting for an earlier slot, and the offers made to
them in the very transaction that frees a slot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from healthcare.application.commands import JoinWaitlist
from healthcare.application.ports import Clock, Page, PageRequest
from healthcare.application.read_model import ReadModel, View, waitlist_view
from healthcare.application.services.base import Service, found, not_found
from healthcare.application.services.slot_checks import clear_the_way
from healthcare.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from healthcare.domain.access import Scope
from healthcare.domain.actor import Actor
from healthcare.domain.appointments import who_is_booked_for
from healthcare.domain.doctors import Doctor
from healthcare.domain.events import waitlist_offered
from healthcare.domain.holds import place_hold
from healthcare.domain.idempotency import claim, owner_of
from healthcare.domain.notifications import waitlist_offer_for
from healthcare.domain.policy import CLINIC_DEFAULTS, BookingPolicy
from healthcare.domain.slots import free_slots
from healthcare.domain.time import Interval
from healthcare.domain.waitlist import WaitlistEntry, new_entry


class WaitlistOffers:
    """Offers free slots to waiting entries, inside the caller's unit of work.

    Whoever frees time (a cancellation, a reschedule away, a released hold, a lapsed offer, a
    new window or weekly hours) calls ``offer_freed`` before committing: each free slot of the
    doctor around the freed span goes to the oldest waiting entry that fits it and whose
    patient is free then, as a hold lasting ``offer_minutes``. The entry is claimed by a
    conditional write first, so two transactions never offer one entry twice; the hold is
    written under the no-overlap guarantees, so no slot is offered twice either.
    """

    def __init__(self, policy: BookingPolicy = CLINIC_DEFAULTS, offer_minutes: int = 30) -> None:
        self.policy = policy
        self.lasts = timedelta(minutes=offer_minutes)

    def offer_freed(
        self, uow: UnitOfWork, doctor: Doctor, freed: Interval | list[Interval], now: datetime
    ) -> list[WaitlistEntry]:
        """The offers made for the free slots overlapping the ``freed`` time; none without
        waiting entries around it (one look-up)."""
        spans = freed if isinstance(freed, list) else [freed]
        if not spans:
            return []
        buffer = doctor.policy.over(self.policy).buffer
        reach = timedelta(minutes=doctor.appointment_minutes) + buffer
        around = Interval(
            min(s.start for s in spans) - reach, max(s.end for s in spans) + reach
        )
        waiting = uow.waitlist.waiting_for(doctor.id, around)  # type: ignore[arg-type]
        if not waiting:
            return []
        calendar = uow.calendars.load(doctor, around, now=now)
        slots = [
            slot
            for slot in free_slots(
                around,
                calendar.open_intervals(around),
                calendar.busy,
                doctor.appointment_minutes,
                now,
                blocked=calendar.blocked,
                buffer=buffer,
            )
            if any(Interval(slot.start, slot.end + buffer).overlaps(s) for s in spans)
        ]
        made: list[WaitlistEntry] = []
        for slot in slots:
            for entry in [e for e in waiting if e.fits(slot)]:
                offered = self._offer(uow, doctor, entry, slot, buffer, now)
                if offered is not None:  # offered now, or taken by another transaction
                    waiting.remove(entry)
                if offered:
                    made.append(entry)
                    break
            if not waiting:
                break
        return made

    def _offer(
        self,
        uow: UnitOfWork,
        doctor: Doctor,
        entry: WaitlistEntry,
        slot: Interval,
        buffer: timedelta,
        now: datetime,
    ) -> bool | None:
        """True: offered; False: the entry is no longer waiting; None: its patient is busy
        then, another slot may suit them. Neither refusal fails the transaction that freed
        the time: a patient who books elsewhere at this very moment is passed over."""
        own = uow.calendars.load(doctor, slot, patient_id=entry.patient_id, now=now)
        if any(slot.overlaps(busy) for busy in own.patient_busy):
            return None
        expires_at = now + self.lasts
        hold = place_hold(entry.patient_id, doctor.id, slot, buffer, now, self.lasts)  # type: ignore[arg-type]
        clear_the_way(uow, doctor.id, entry.patient_id, slot, hold.blocking.end, now)
        if uow.appointments.add_unless_taken(hold) is None:
            return None  # taken since the look-up, by a transaction that committed meanwhile
        if not uow.waitlist.claim(entry.id, slot, expires_at):  # type: ignore[arg-type]
            uow.appointments.delete_hold(hold.id)  # type: ignore[arg-type]
            return False  # offered (or gone) by a transaction that committed meanwhile
        entry.offered(hold.id, slot, expires_at)  # type: ignore[arg-type]
        uow.waitlist.update(entry)
        patient = found(uow.patients.get(entry.patient_id), "Patient")
        uow.outbox.add_if_absent(
            waitlist_offer_for(entry.id, slot.start, expires_at, doctor, patient.email, now)  # type: ignore[arg-type]
        )
        uow.webhooks.publish(
            waitlist_offered(
                entry_id=entry.id,  # type: ignore[arg-type]
                patient_id=entry.patient_id,
                doctor_id=doctor.id,  # type: ignore[arg-type]
                hold_id=hold.id,  # type: ignore[arg-type]
                start=slot.start,
                end=slot.end,
                expires_at=expires_at,
                now=now,
            )
        )
        return True

    def pass_on(
        self, uow: UnitOfWork, entry: WaitlistEntry, now: datetime
    ) -> list[WaitlistEntry] | None:
        """An offer lapsed or was declined: the entry is expired (one offer per entry), its
        hold goes if still there, and its slot is offered to the next entry (the offers
        made). None when the entry was not offered, or another transaction passed it on."""
        if entry.offer is None or not uow.waitlist.lapse(entry.id):  # type: ignore[arg-type]
            return None
        if entry.hold_id is not None:  # unless booked meanwhile (then its slot is not free)
            uow.appointments.delete_hold(entry.hold_id)
        doctor = uow.doctors.get(entry.doctor_id)
        return self.offer_freed(uow, doctor, entry.offer, now) if doctor is not None else []


@dataclass(frozen=True)
class WaitlistReport:
    passed_on: int
    offered: int
    expired_ranges: int
    purged_holds: int


class OfferingService(Service):
    """A service whose use cases may free time, and so make the waitlist's offers."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        reads: ReadModel | None = None,
        offers: WaitlistOffers | None = None,
    ) -> None:
        super().__init__(uow_factory, clock, reads)
        self.offers = offers or WaitlistOffers()


class WaitlistService(OfferingService):

    def join(
        self, actor: Actor, command: JoinWaitlist, idempotency_key: str | None = None
    ) -> WaitlistEntry:
        """Wait for any slot of the doctor starting in [start, end); with an idempotency key,
        a retry answers the entry the first request made."""
        patient_id = who_is_booked_for(actor, command.patient_id)
        request = claim(
            owner_of(actor.user_id),
            idempotency_key,
            "waitlist_entry",
            doctor=command.doctor_id,
            start=command.start,
            end=command.end,
            patient=patient_id,
        )
        return self.creating_once(
            request,
            lambda uow: self._join(uow, actor, command, patient_id),
            lambda uow, entry_id: self._visible(uow, actor, entry_id),
        )

    def _join(
        self, uow: UnitOfWork, actor: Actor, command: JoinWaitlist, patient_id: int
    ) -> WaitlistEntry:
        doctor = found(uow.doctors.get(command.doctor_id), "Doctor")
        if patient_id != actor.patient_id:
            found(uow.patients.get(patient_id), "Patient")
        now = self.clock.now()
        entry = new_entry(doctor.id, patient_id, command.start, command.end, now)  # type: ignore[arg-type]
        return uow.waitlist.add(entry)

    @staticmethod
    def _visible(uow: UnitOfWork, actor: Actor, entry_id: int) -> WaitlistEntry:
        entry = uow.waitlist.get(entry_id)
        if entry is None or not entry.visible_to(actor):
            raise not_found("Waitlist entry")
        return entry

    def get(self, actor: Actor, entry_id: int) -> View:
        with self.uow_factory().read_only() as uow:
            return waitlist_view(self._visible(uow, actor, entry_id), self.clock.now())

    def list(self, actor: Actor, page: PageRequest) -> Page[View]:
        """A patient's own entries, a doctor's, or (an admin) all."""
        return self.reads.waitlist(Scope.of(actor), page, self.clock.now())

    def leave(self, actor: Actor, entry_id: int) -> None:
        """Remove an entry; an offer it holds is passed on."""
        now = self.clock.now()
        with self.uow_factory() as uow:
            entry = self._visible(uow, actor, entry_id)
            entry.require_can_remove(actor)
            self.offers.pass_on(uow, entry, now)
            uow.waitlist.delete(entry_id)
            uow.commit()

    def process(self, limit: int = 1000) -> WaitlistReport:
        """``healthcare process-waitlist``: each lapsed offer passes its slot to the next entry
        (one transaction each), entries whose range has passed expire, expired holds go.
        Idempotent and safe beside the API and another run: an offer is passed on by one
        transaction only."""
        now = self.clock.now()
        with self.uow_factory() as uow:
            lapsed = uow.waitlist.lapsed_offers(now, limit)
        passed = offered = 0
        for entry in lapsed:
            made = self.retrying(lambda entry=entry: self._pass_on(entry, now))
            if made is not None:
                passed += 1
                offered += made
        with self.uow_factory() as uow:
            expired = uow.waitlist.expire_passed(now)
            # Housekeeping: expired holds block nothing, but nobody else removes those no
            # writer came across. (The lapsed offers above were passed on first.)
            purged = uow.appointments.purge_expired_holds(now)
            uow.commit()
        return WaitlistReport(
            passed_on=passed, offered=offered, expired_ranges=expired, purged_holds=purged
        )

    def _pass_on(self, entry: WaitlistEntry, now: datetime) -> int | None:
        with self.uow_factory() as uow:
            current = uow.waitlist.get(entry.id)  # type: ignore[arg-type]
            if current is None:
                return None
            made = self.offers.pass_on(uow, current, now)
            uow.commit()
        return None if made is None else len(made)
