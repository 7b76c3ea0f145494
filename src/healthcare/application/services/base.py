"""What every service shares: the unit-of-work factory, the clock and the audit trail."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from healthcare.application.ports import Clock, TransactionAborted
from healthcare.application.read_model import AuditedRead, ReadModel
from healthcare.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from healthcare.domain.access import Scope
from healthcare.domain.actor import Actor
from healthcare.domain.audit import Action, AuditEvent, Outcome, Resource
from healthcare.domain.doctors import Doctor
from healthcare.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from healthcare.domain.idempotency import Claim

T = TypeVar("T")
#: A created entity: it has an id once stored.
E = TypeVar("E")


class Service:
    """A use-case service: writes through units of work, reads (``reads``) through the read
    side, if it has any to answer."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, reads: ReadModel | None = None
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self._reads = reads

    @property
    def reads(self) -> ReadModel:
        assert self._reads is not None, f"{type(self).__name__} was made without a read model"
        return self._reads

    def audited_read(self, actor: Actor) -> AuditedRead:
        """The stamp of a read of patient data by ``actor``, now."""
        return AuditedRead(actor_id=actor.user_id, at=self.clock.now())

    #: How many times a use case runs when the database keeps aborting it for a concurrent one.
    ATTEMPTS = 5
    #: The longest pause before a run again, in seconds, times the runs so far; random below it,
    #: so the transactions that deadlocked do not meet again in step.
    BACKOFF_S = 0.005

    def retrying(self, use_case: Callable[[], T]) -> T:
        """Run ``use_case`` (its own unit of work) again when the database aborted it.

        Two bookings of one patient with two doctors at once can deadlock on PostgreSQL's
        exclusion constraints, each waiting for the other's row; PostgreSQL aborts one. Run
        again, it sees the winner's row and gets the domain's answer (409), not a 503.
        """
        for attempt in range(1, self.ATTEMPTS):
            try:
                return use_case()
            except TransactionAborted:
                time.sleep(random.uniform(0, self.BACKOFF_S * attempt))
        return use_case()  # the last attempt's abort reaches the caller: a 503

    def creating_once(
        self,
        claim: Claim | None,
        create: Callable[[UnitOfWork], E],
        load: Callable[[UnitOfWork, int], E],
        id_of: Callable[[E], int] = lambda made: made.id,  # type: ignore[attr-defined]
    ) -> E:
        """Run ``create`` in a unit of work and commit; with a ``claim`` on an idempotency key,
        at most once per key: a retry of the same request answers ``load``'s reading of what
        the first one created (the id ``id_of`` gave), and creates nothing new.

        The key is stored in the creation's transaction. Racing retries: the loser's creation
        or key insert fails (a Conflict), and it answers with what the winner created, read in
        a new transaction. A refused creation stores no key.
        """

        def attempt() -> E:
            with self.uow_factory() as uow:
                if claim is not None:
                    earlier = uow.idempotency_keys.get(claim.owner, claim.key)
                    if earlier is not None:
                        return load(uow, earlier.replay(claim))
                made = create(uow)
                if claim is not None:
                    uow.idempotency_keys.add(claim.record(id_of(made), self.clock.now()))
                uow.commit()
            return made

        try:
            return self.retrying(attempt)
        except Conflict:
            if claim is None:
                raise
            with self.uow_factory() as uow:
                earlier = uow.idempotency_keys.get(claim.owner, claim.key)
                if earlier is None:
                    raise
                return load(uow, earlier.replay(claim))

    def audit(
        self,
        uow: UnitOfWork,
        actor: Actor,
        action: Action,
        resource: Resource,
        subjects: Iterable[tuple[int | None, int | None]],
        outcome: Outcome = Outcome.ALLOWED,
    ) -> None:
        """Record one event per ``(resource_id, patient_id)`` in the caller's transaction."""
        now = self.clock.now()
        events = [
            AuditEvent(
                at=now,
                actor_id=actor.user_id,
                action=action,
                resource=resource,
                resource_id=resource_id,
                patient_id=patient_id,
                outcome=outcome,
            )
            for resource_id, patient_id in subjects
        ]
        uow.audit.add_many(events)

    def audit_denied(
        self,
        actor: Actor,
        action: Action,
        resource: Resource,
        resource_id: int | None,
        patient_id: int | None,
    ) -> None:
        """A refused attempt is recorded in its own transaction: the use case's rolls back."""
        with self.uow_factory() as uow:
            self.audit(uow, actor, action, resource, [(resource_id, patient_id)], Outcome.DENIED)
            uow.commit()


def not_found(kind: str) -> NotFound:
    return NotFound(f"{kind} not found.")


def found(entity: T | None, kind: str) -> T:
    """``entity``, or NotFound naming its ``kind`` when the look-up found nothing."""
    if entity is None:
        raise not_found(kind)
    return entity


def managed_doctor(uow: UnitOfWork, actor: Actor, doctor_id: int | None) -> Doctor:
    """The doctor whose calendar ``actor`` changes: a doctor their own, an admin the one named."""
    if actor.is_doctor:
        if actor.doctor_id is None:
            raise PermissionDenied("Your account has no doctor profile.")
        doctor_id = actor.require_calendar_of(
            doctor_id if doctor_id is not None else actor.doctor_id
        )
    if doctor_id is None:
        raise InvalidInput("Name the doctor.", {"doctor": ["Required."]})
    return found(uow.doctors.get(doctor_id), "Doctor")


def treats(uow: UnitOfWork, scope: Scope, patient_id: int) -> bool:
    """Whether the scope's doctor has (had) an appointment with the patient."""
    return scope.doctor_id is not None and uow.appointments.exists_between(
        scope.doctor_id, patient_id
    )
