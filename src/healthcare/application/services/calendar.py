"""A doctor's calendar besides one-off windows: weekly hours, blocked periods, booking policy.

A doctor manages their own weekly hours and blocked periods, an admin anyone's; everyone
signed in reads them (a blocked period's reason only the doctor and admins). The booking policy
is the clinic's (from the settings) with what an admin chose for the doctor.
"""

from __future__ import annotations

from dataclasses import replace

from healthcare.application.commands import (
    CreateException,
    CreateRule,
    UpdatePolicy,
    UpdateRule,
    given,
)
from healthcare.application.ports import (
    Clock,
    ExceptionFilter,
    Page,
    PageRequest,
    RuleFilter,
)
from healthcare.application.read_model import ReadModel, View
from healthcare.application.services.base import Service, found, managed_doctor
from healthcare.application.services.waitlist import WaitlistOffers
from healthcare.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from healthcare.domain.access import Scope
from healthcare.domain.actor import Actor
from healthcare.domain.blocked_periods import AvailabilityException
from healthcare.domain.doctors import Doctor
from healthcare.domain.errors import AvailabilityInUse, InPast
from healthcare.domain.policy import CLINIC_DEFAULTS, BookingPolicy
from healthcare.domain.time import Interval, zone
from healthcare.domain.users import Role
from healthcare.domain.weekly_hours import (
    AvailabilityRule,
    ensure_rule_fits,
    validate_rule_hours,
)


class CalendarService(Service):
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        reads: ReadModel | None = None,
        policy: BookingPolicy = CLINIC_DEFAULTS,
        offers: WaitlistOffers | None = None,
    ) -> None:
        super().__init__(uow_factory, clock, reads)
        self.policy = policy
        self.offers = offers or WaitlistOffers(policy)

    # -- weekly hours ------------------------------------------------------------------------

    def create_rule(self, actor: Actor, command: CreateRule) -> AvailabilityRule:
        actor.require_role(Role.DOCTOR, Role.ADMIN)
        with self.uow_factory() as uow:
            doctor = managed_doctor(uow, actor, command.doctor_id)
            uow.doctors.lock(doctor.id)  # type: ignore[arg-type]  # overlap: one check at a time
            today = self.clock.now().astimezone(zone(doctor.timezone)).date()
            rule = AvailabilityRule(
                doctor_id=doctor.id,  # type: ignore[arg-type]
                weekday=command.weekday,
                start_time=command.start_time,
                end_time=command.end_time,
                valid_from=command.valid_from or today,
                valid_until=command.valid_until,
            )
            validate_rule_hours(rule, doctor.appointment_minutes)
            ensure_rule_fits(rule, uow.rules.for_doctor(rule.doctor_id))
            created = uow.rules.add(rule)
            # New weekly hours free time up to the booking horizon: the waitlist hears of it.
            now = self.clock.now()
            horizon = doctor.policy.over(self.policy).planning_horizon(now)
            self.offers.offer_freed(
                uow, doctor, list(created.occurrences(horizon, zone(doctor.timezone))), now
            )
            uow.commit()
        return created

    def get_rule(self, actor: Actor, rule_id: int) -> View:
        return found(self.reads.rule(rule_id), "Weekly hours")

    def list_rules(
        self, actor: Actor, page: PageRequest, where: RuleFilter = RuleFilter()
    ) -> Page[View]:
        return self.reads.rules(page, where)

    def update_rule(self, actor: Actor, rule_id: int, command: UpdateRule) -> AvailabilityRule:
        actor.require_role(Role.DOCTOR, Role.ADMIN)
        with self.uow_factory() as uow:
            old = self._rule(uow, rule_id)
            actor.require_calendar_of(old.doctor_id)
            doctor = self._doctor(uow, old.doctor_id)
            uow.doctors.lock(doctor.id)  # type: ignore[arg-type]  # overlap: one check at a time
            new = replace(old, **given(command))  # replace() re-runs validation
            validate_rule_hours(new, doctor.appointment_minutes)
            ensure_rule_fits(new, uow.rules.for_doctor(doctor.id))  # type: ignore[arg-type]
            self._ensure_rule_change_keeps(uow, doctor, old, new)
            uow.rules.update(new)
            uow.commit()
        return new

    def delete_rule(self, actor: Actor, rule_id: int) -> None:
        actor.require_role(Role.DOCTOR, Role.ADMIN)
        with self.uow_factory() as uow:
            rule = self._rule(uow, rule_id)
            actor.require_calendar_of(rule.doctor_id)
            self._ensure_rule_change_keeps(uow, self._doctor(uow, rule.doctor_id), rule, None)
            uow.rules.delete(rule_id)
            uow.commit()

    # -- blocked periods ---------------------------------------------------------------------

    def create_exception(self, actor: Actor, command: CreateException) -> AvailabilityException:
        actor.require_role(Role.DOCTOR, Role.ADMIN)
        with self.uow_factory() as uow:
            doctor = managed_doctor(uow, actor, command.doctor_id)
            period = AvailabilityException(
                doctor_id=doctor.id,  # type: ignore[arg-type]
                start=command.start,
                end=command.end,
                reason=command.reason,
            )
            if period.end <= self.clock.now():
                raise InPast("A blocked period must not be over already.", {"end": ["In the past."]})
            # Blocking time that is booked would strand the appointment: cancel it first.
            if uow.appointments.active_overlapping(period.interval, doctor_id=period.doctor_id):
                raise AvailabilityInUse()
            created = uow.exceptions.add(period)
            uow.commit()
        return created

    def get_exception(self, actor: Actor, period_id: int) -> View:
        return found(self.reads.blocked_period(Scope.of(actor), period_id), "Blocked period")

    def list_exceptions(
        self, actor: Actor, page: PageRequest, where: ExceptionFilter = ExceptionFilter()
    ) -> Page[View]:
        return self.reads.blocked_periods(Scope.of(actor), page, where)

    def delete_exception(self, actor: Actor, period_id: int) -> None:
        actor.require_role(Role.DOCTOR, Role.ADMIN)
        with self.uow_factory() as uow:
            actor.require_calendar_of(self._exception(uow, period_id).doctor_id)
            uow.exceptions.delete(period_id)
            uow.commit()

    # -- booking policy ----------------------------------------------------------------------

    def policy_of(self, actor: Actor, doctor_id: int) -> tuple[BookingPolicy, BookingPolicy]:
        """The doctor's own choices, and the policy in force (the clinic's with them)."""
        with self.uow_factory().read_only() as uow:
            doctor = self._doctor(uow, doctor_id)
        return doctor.policy, doctor.policy.over(self.policy)

    def planning_horizons(self, actor: Actor, doctor_ids: list[int]) -> dict[int, Interval]:
        """Each doctor's planning horizon (``BookingPolicy.planning_horizon``) under the
        policy in force; doctors that do not exist are left out."""
        now = self.clock.now()
        with self.uow_factory().read_only() as uow:
            doctors = [uow.doctors.get(doctor_id) for doctor_id in doctor_ids]
        return {
            doctor.id: doctor.policy.over(self.policy).planning_horizon(now)  # type: ignore[misc]
            for doctor in doctors
            if doctor is not None
        }

    def update_policy(
        self, actor: Actor, doctor_id: int, command: UpdatePolicy
    ) -> tuple[BookingPolicy, BookingPolicy]:
        """Admins only: the policy is the clinic's decision, not the doctor's."""
        actor.require_role(Role.ADMIN)
        with self.uow_factory() as uow:
            doctor = self._doctor(uow, doctor_id)
            doctor.policy = replace(doctor.policy, **given(command))  # validates
            uow.doctors.update(doctor)
            uow.commit()
        return doctor.policy, doctor.policy.over(self.policy)

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _doctor(uow: UnitOfWork, doctor_id: int) -> Doctor:
        return found(uow.doctors.get(doctor_id), "Doctor")

    @staticmethod
    def _rule(uow: UnitOfWork, rule_id: int) -> AvailabilityRule:
        return found(uow.rules.get(rule_id), "Weekly hours")

    @staticmethod
    def _exception(uow: UnitOfWork, period_id: int) -> AvailabilityException:
        return found(uow.exceptions.get(period_id), "Blocked period")

    @staticmethod
    def _ensure_rule_change_keeps(
        uow: UnitOfWork, doctor: Doctor, old: AvailabilityRule, new: AvailabilityRule | None
    ) -> None:
        """Refuse a change that would strand an active appointment the old hours held, unless
        a window or other weekly hours (or the new ones) still hold it."""
        tz = zone(doctor.timezone)
        candidates = uow.appointments.active_overlapping(old.validity(tz), doctor_id=old.doctor_id)
        held = [
            a.interval
            for a in candidates
            if any(o.contains(a.interval) for o in old.occurrences(a.interval, tz))
        ]
        if not held:
            return
        span = Interval(min(a.start for a in held), max(a.end for a in held))
        calendar = uow.calendars.load(doctor, span)
        others = [r for r in calendar.rules if r != old]
        calendar.rules = others + ([new] if new is not None else [])
        calendar.ensure_keeps(held)
