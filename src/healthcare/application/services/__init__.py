"""Use-case services: one method per use case, one unit of work per call."""

from healthcare.application.services.accounts import AccountService
from healthcare.application.services.appointments import AppointmentService
from healthcare.application.services.audit import AuditService
from healthcare.application.services.availability import AvailabilityService
from healthcare.application.services.doctors import DoctorService
from healthcare.application.services.health import HealthService
from healthcare.application.services.holds import HoldService
from healthcare.application.services.patients import PatientService
from healthcare.application.services.records import MedicalRecordService
from healthcare.application.services.slots import SlotService
from healthcare.application.services.waitlist import WaitlistService

__all__ = [
    "AccountService",
    "AppointmentService",
    "AuditService",
    "AvailabilityService",
    "DoctorService",
    "HealthService",
    "HoldService",
    "MedicalRecordService",
    "PatientService",
    "SlotService",
    "WaitlistService",
]
