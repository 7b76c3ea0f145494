"""Bulk loading a clinic, and the demo clinic made with it, on every storage backend."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from healthcare.adapters.clock import FixedClock
from healthcare.adapters.security import Argon2PasswordHasher
from healthcare.application.ports import AppointmentFilter, AuditFilter, PageRequest
from healthcare.application.read_model import ReadModel
from healthcare.application.services.bulk import (
    BulkLoadService,
    LoadClinic,
    NewAppointment,
    NewDoctor,
    NewPatient,
    NewRecord,
    NewWindow,
)
from healthcare.application.unit_of_work import UnitOfWork
from healthcare.domain.access import Scope
from healthcare.domain.actor import Actor
from healthcare.domain.appointments import ACTIVE, Status
from healthcare.domain.audit import Action, Resource
from healthcare.domain.errors import (
    DuplicateEmail,
    OutsideAvailability,
    OverlappingAvailability,
    PatientDoubleBooked,
    PermissionDenied,
    RecordAlreadyExists,
    SlotUnavailable,
    TransitionNotAllowed,
)
from healthcare.domain.users import Role
from healthcare.entrypoints.demo import DEMO_PASSWORD, demo_clinic, seed_demo
from tests.conftest import NOW
from tests.use_cases.clinic import PASSWORD, at

WIDE = PageRequest(page_size=100)
EVERYONE = Scope(everyone=True)


@pytest.fixture
def bulk(
    uow_factory: Callable[[], UnitOfWork], clock: FixedClock, hasher: Argon2PasswordHasher
) -> BulkLoadService:
    return BulkLoadService(uow_factory, clock, hasher)


def small_clinic(**changes: object) -> LoadClinic:
    """Two doctors with a morning window each, two patients, three visits, one record."""
    load = LoadClinic(
        password=PASSWORD,
        admins=["front.desk@clinic.test"],
        doctors=[
            NewDoctor("ada@clinic.test", "Dr. Ada", "Cardiology", 30, "Europe/Berlin"),
            NewDoctor("bob@clinic.test", "Dr. Bob", "Dermatology", 20),
        ],
        patients=[
            NewPatient("pat@example.org", "Pat Doe", phone="555-0100"),
            NewPatient("quinn@example.org", "Quinn Roe"),
        ],
        windows=[
            NewWindow(0, at(9), at(12)),
            NewWindow(1, at(9), at(12)),
            NewWindow(0, at(9, days=-7), at(12, days=-7)),
        ],
        appointments=[
            NewAppointment(0, 0, at(9), reason="Checkup"),
            NewAppointment(1, 1, at(9), status=Status.CONFIRMED),
            NewAppointment(0, 1, at(10, days=-7), status=Status.COMPLETED),
        ],
        records=[NewRecord(2, "Healthy, no findings")],
        batch_size=2,  # several batches even for this little load
    )
    return replace(load, **changes)


def test_a_load_is_stored_whole_with_ids_in_the_order_given(
    bulk: BulkLoadService, uow_factory: Callable[[], UnitOfWork], read_model: ReadModel
) -> None:
    loaded = bulk.load(Actor.system(), small_clinic())

    assert loaded.counts() == {
        "users": 5,
        "doctors": 2,
        "patients": 2,
        "availabilities": 3,
        "appointments": 3,
        "medical_records": 1,
        "audit_events": 3,
    }
    with uow_factory() as uow:
        ada = uow.doctors.get(loaded.doctor_ids[0])
        assert ada is not None and ada.name == "Dr. Ada" and ada.timezone == "Europe/Berlin"
        assert uow.users.get(ada.user_id).role is Role.DOCTOR  # type: ignore[union-attr]
        quinn = uow.patients.get(loaded.patient_ids[1])
        assert quinn is not None and quinn.email == "quinn@example.org"
        admin = uow.users.get(loaded.admin_user_ids[0])
        assert admin is not None and admin.role is Role.ADMIN
        visits = read_model.appointments(EVERYONE, WIDE, AppointmentFilter(doctor_id=ada.id))
        assert [(v["datetime"], v["end"], v["patient"]) for v in visits.items] == [
            (at(10, days=-7), at(10, 30, days=-7), quinn.id),
            (at(9), at(9, 30), loaded.patient_ids[0]),
        ]
        record = uow.records.get(loaded.record_ids[0])
        assert record is not None
        assert (record.appointment_id, record.doctor_id, record.patient_id) == (
            loaded.appointment_ids[2],
            ada.id,
            quinn.id,
        )


def test_every_loaded_user_signs_in_with_the_one_password_hashed_once(
    uow_factory: Callable[[], UnitOfWork], clock: FixedClock, hasher: Argon2PasswordHasher
) -> None:
    hashes: list[str] = []

    class CountingHasher(Argon2PasswordHasher):
        def hash(self, password: str) -> str:
            hashes.append(password)
            return hasher.hash(password)

    bulk = BulkLoadService(uow_factory, clock, CountingHasher())
    loaded = bulk.load(Actor.system(), small_clinic())
    assert hashes == [PASSWORD]
    with uow_factory() as uow:
        stored = {uow.users.get(i).password_hash for i in loaded.patient_user_ids}  # type: ignore[union-attr]
    assert len(stored) == 1 and hasher.verify(stored.pop(), PASSWORD)


def test_loading_audits_each_patient_profile_and_record_created(
    bulk: BulkLoadService,
    uow_factory: Callable[[], UnitOfWork],
    read_model: ReadModel,
    clock: FixedClock,
) -> None:
    from healthcare.application.services import AuditService

    loaded = bulk.load(Actor.system(), small_clinic())
    audit = AuditService(uow_factory, clock, read_model)
    trail = audit.list(Actor.system(), WIDE, AuditFilter()).items
    events = [(e["action"], e["resource"], e["resource_id"], e["actor"]) for e in trail]
    assert sorted(events) == sorted(
        [(Action.CREATE, Resource.PATIENT, p, None) for p in loaded.patient_ids]
        + [(Action.CREATE, Resource.MEDICAL_RECORD, loaded.record_ids[0], None)]
    )


@pytest.mark.parametrize(
    ("changes", "error", "where"),
    [
        pytest.param(
            {"patients": [NewPatient("pat@example.org", "A"), NewPatient("PAT@example.org", "B")]},
            DuplicateEmail,
            "patients[1]",
            id="duplicate-email",
        ),
        pytest.param(
            {"windows": [NewWindow(0, at(9), at(12)), NewWindow(0, at(11), at(13))]},
            OverlappingAvailability,
            "windows[1]",
            id="overlapping-windows",
        ),
        pytest.param(
            {"appointments": [NewAppointment(0, 0, at(11, 45))], "records": []},
            OutsideAvailability,
            "appointments[0]",
            id="outside-the-window",
        ),
        pytest.param(
            {
                "appointments": [NewAppointment(0, 0, at(9)), NewAppointment(0, 1, at(9, 15))],
                "records": [],
            },
            SlotUnavailable,
            "appointments[1]",
            id="doctor-double-booked",
        ),
        pytest.param(
            {
                "appointments": [NewAppointment(0, 0, at(9)), NewAppointment(1, 0, at(9, 20))],
                "records": [],
            },
            PatientDoubleBooked,
            "appointments[1]",
            id="patient-double-booked",
        ),
        pytest.param(
            {"records": [NewRecord(2, "Flu"), NewRecord(2, "Cold")]},
            RecordAlreadyExists,
            "records[1]",
            id="two-records-for-a-visit",
        ),
        pytest.param(
            {
                "appointments": [NewAppointment(0, 0, at(9), status=Status.CANCELLED)],
                "records": [NewRecord(0, "Flu")],
            },
            TransitionNotAllowed,
            "records[0]",
            id="record-for-a-cancelled-visit",
        ),
    ],
)
def test_a_load_breaking_a_rule_is_refused_whole_naming_the_item(
    bulk: BulkLoadService,
    read_model: ReadModel,
    changes: dict[str, object],
    error: type[Exception],
    where: str,
) -> None:
    with pytest.raises(error, match="^" + re.escape(where)):
        bulk.load(Actor.system(), small_clinic(**changes))
    assert read_model.users(WIDE).total == 0


def test_cancelled_and_finished_visits_may_share_a_slot_with_an_active_one(
    bulk: BulkLoadService,
) -> None:
    loaded = bulk.load(
        Actor.system(),
        small_clinic(
            appointments=[
                NewAppointment(0, 0, at(9), status=Status.CANCELLED),
                NewAppointment(0, 1, at(9)),
                NewAppointment(0, 0, at(9), status=Status.CANCELLED),
            ],
            records=[],
        ),
    )
    assert len(loaded.appointment_ids) == 3


def test_a_clash_with_what_is_already_stored_is_refused_by_the_storage(
    bulk: BulkLoadService, read_model: ReadModel
) -> None:
    bulk.load(Actor.system(), small_clinic())
    with pytest.raises(DuplicateEmail):
        bulk.load(Actor.system(), small_clinic(doctors=[], windows=[], appointments=[], records=[]))
    assert read_model.users(WIDE).total == 5


def test_only_the_clinic_loads_in_bulk(bulk: BulkLoadService) -> None:
    patient = Actor(user_id=1, role=Role.PATIENT, patient_id=1)
    with pytest.raises(PermissionDenied):
        bulk.load(patient, small_clinic())


# -- the demo clinic --------------------------------------------------------------------------


def test_the_demo_clinic_is_the_same_for_the_same_seed() -> None:
    first = demo_clinic(NOW, doctors=3, patients=20, weeks=2, seed=7)
    again = demo_clinic(NOW, doctors=3, patients=20, weeks=2, seed=7)
    other = demo_clinic(NOW, doctors=3, patients=20, weeks=2, seed=8)
    assert first == again
    assert first.load.patients != other.load.patients


def test_the_demo_clinic_is_believable() -> None:
    load = demo_clinic(NOW).load
    assert len(load.doctors) == 12 and len(load.patients) == 300
    assert len({d.specialization for d in load.doctors}) == 12
    assert len({d.timezone for d in load.doctors}) > 4
    statuses = Counter(a.status for a in load.appointments)
    assert set(statuses) == set(Status)
    past = [a for a in load.appointments if a.start < NOW]
    future = [a for a in load.appointments if a.start > NOW + timedelta(hours=1)]
    assert past and future
    assert all(a.status in ACTIVE or a.status is Status.CANCELLED for a in future)
    completed = {i for i, a in enumerate(load.appointments) if a.status is Status.COMPLETED}
    assert {r.appointment for r in load.records} == completed


def test_seed_demo_stores_the_demo_clinic_and_counts_it(
    bulk: BulkLoadService,
    uow_factory: Callable[[], UnitOfWork],
    read_model: ReadModel,
    hasher: Argon2PasswordHasher,
) -> None:
    counts = seed_demo(bulk, doctors=3, patients=25, weeks=2, seed=3)

    assert counts["doctors"] == 3 and counts["patients"] == 25
    assert counts["users"] == 3 + 25 + 1
    assert counts["appointments"] > 50 and counts["medical_records"] > 0
    stored = read_model.appointments(EVERYONE, WIDE, AppointmentFilter())
    assert stored.total == counts["appointments"]
    admin_id = read_model.users(WIDE, role=Role.ADMIN).items[0]["id"]
    with uow_factory() as uow:
        admin = uow.users.get(admin_id)
    assert admin is not None and hasher.verify(admin.password_hash, DEMO_PASSWORD)


def test_a_demo_clinic_can_aim_at_a_number_of_appointments() -> None:
    load = demo_clinic(NOW, doctors=4, patients=200, weeks=8, appointments=1000).load
    assert 900 <= len(load.appointments) <= 1100
