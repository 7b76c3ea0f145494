"""The clinic every use-case test starts from, and the services it runs on.

Built only through the services, so it looks the same on every storage backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from healthcare.adapters.clock import FixedClock
from healthcare.application.commands import CreateUser, UpdateAppointment
from healthcare.application.ports import AuditFilter, Page, PageRequest, PasswordHasher
from healthcare.application.read_model import View
from healthcare.application.services import (
    AccountService,
    AppointmentService,
    AuditService,
    AvailabilityService,
    DoctorService,
    HoldService,
    MedicalRecordService,
    PatientService,
    SlotService,
    WaitlistService,
)
from healthcare.application.services.calendar import CalendarService
from healthcare.domain.actor import Actor
from healthcare.domain.appointments import Appointment
from healthcare.domain.availability import Availability
from healthcare.domain.errors import DomainError
from healthcare.domain.policy import CLINIC_DEFAULTS, BookingPolicy
from tests.conftest import NOW, Storage
from tests.support.sign_in import account_service

PASSWORD = "correct horse battery"
WIDE = PageRequest(page_size=100)
#: The roles of the clinic, in the column order of the access tables.
ROLES = ("admin", "doctor", "other_doctor", "patient", "other_patient")
NON_ADMINS = ROLES[1:]
OK = "ok"
#: The clinic's policy in these tests: the defaults but no minimum notice, so the suite can
#: book the 09:00 slot an hour ahead as it always has. Policy tests build their own.
TEST_POLICY = BookingPolicy(min_notice_minutes=0).over(CLINIC_DEFAULTS)


def outcome(call: Callable[[], object]) -> str | type[DomainError]:
    """How a use case ends: OK, or the type of the domain error it raised.

    Access tables compare a whole row of these at once, so a failure shows every cell that
    differs, and one clinic serves every role of the row.
    """
    try:
        call()
    except DomainError as error:
        return type(error)
    return OK


def row(*cells: object) -> dict[str, object]:
    """One row of an access table, in ROLES order."""
    return dict(zip(ROLES, cells, strict=True))


def reschedule(services: Services, actor: Actor, appointment_id: int, start: datetime) -> Appointment:
    return services.appointments.update(actor, appointment_id, UpdateAppointment(start=start))


def ids(page: Page[View]) -> list[int]:
    """The ids of a page's items, in the page's order."""
    return [item["id"] for item in page.items]


def at(hour: int, minute: int = 0, days: int = 0) -> datetime:
    """An instant on the day the test clock starts (08:00 UTC), or ``days`` later."""
    return NOW.replace(hour=hour, minute=minute) + timedelta(days=days)


@dataclass(frozen=True)
class Services:
    accounts: AccountService
    doctors: DoctorService
    patients: PatientService
    availability: AvailabilityService
    appointments: AppointmentService
    records: MedicalRecordService
    audit: AuditService
    slots: SlotService
    calendar: CalendarService
    holds: HoldService
    waitlist: WaitlistService

    @classmethod
    def build(
        cls,
        storage: Storage,
        clock: FixedClock,
        hasher: PasswordHasher,
        policy: BookingPolicy = TEST_POLICY,
    ) -> Services:
        uow_factory, reads = storage.uow_factory, storage.read_model
        plain = {
            name: kind(uow_factory, clock, reads)
            for name, kind in [
                ("doctors", DoctorService),
                ("patients", PatientService),
                ("availability", AvailabilityService),
                ("records", MedicalRecordService),
                ("audit", AuditService),
                ("waitlist", WaitlistService),
            ]
        }
        with_policy = {
            name: kind(uow_factory, clock, reads, policy)
            for name, kind in [
                ("appointments", AppointmentService),
                ("slots", SlotService),
                ("calendar", CalendarService),
                ("holds", HoldService),
            ]
        }
        accounts = account_service(uow_factory, clock, hasher, reads=reads)
        return cls(accounts=accounts, **plain, **with_policy)

    def new_user(self, admin: Actor, role: str, email: str = "new@clinic.test") -> int:
        """A user of ``role`` without a profile, created by ``admin``; its id."""
        return self.accounts.create_user(admin, CreateUser(email, PASSWORD, role)).user.id

    def audit_trail(self, **where: object) -> list[View]:
        """The audit events matching ``where``, newest first, as the clinic itself reads them."""
        return self.audit.list(Actor.system(), WIDE, AuditFilter(**where)).items  # type: ignore[arg-type]


@dataclass(frozen=True)
class Clinic:
    """An admin, two doctors with a 09:00-12:00 window today, and two patients.

    ``doctor`` and ``patient`` are the ones the tests book together; ``other_doctor`` and
    ``other_patient`` are strangers to those bookings unless a test says otherwise.
    """

    admin: Actor
    doctor: Actor
    other_doctor: Actor
    patient: Actor
    other_patient: Actor
    window: Availability
    other_window: Availability

    @property
    def roles(self) -> dict[str, Actor]:
        return {name: getattr(self, name) for name in ROLES}

    def each_role(
        self, call: Callable[[Actor], object], names: Iterable[str] = ROLES
    ) -> dict[str, object]:
        """The outcome of ``call`` for each role named (all by default), in that order."""
        return {name: outcome(lambda actor=self.roles[name]: call(actor)) for name in names}

    def sight(
        self, read: Callable[[Actor], object], listing: Callable[[Actor], Page]
    ) -> dict[str, tuple[object, set[int]]]:
        """Per role: how reading one resource ends, and the ids a listing shows."""
        reads = self.each_role(read)
        return {
            name: (reads[name], set(ids(listing(a))))
            for name, a in self.roles.items()
        }
