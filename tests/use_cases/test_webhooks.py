"""Webhooks on every storage backend: endpoints (admins only), events written with the change
that causes them and only then, and delivery: leases, retries, 410, DNS that changes."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from healthcare.adapters.clock import FixedClock
from healthcare.application.commands import (
    BookAppointment,
    ChangeWebhook,
    CreateWebhook,
    ReviseMedicalRecord,
    UpdateAppointment,
    WriteMedicalRecord,
)
from healthcare.application.ports import PageRequest
from healthcare.application.services.jobs import NoShowJob
from healthcare.application.services.webhooks import (
    WebhookDelivery,
    WebhookService,
    WebhookWorker,
)
from healthcare.application.unit_of_work import UnitOfWork
from healthcare.domain.appointments import Appointment, Status
from healthcare.domain.errors import PermissionDenied, SlotUnavailable
from healthcare.domain.webhooks import (
    AttemptResult,
    Delivery,
    DeliveryStatus,
    IpAddress,
    UnsafeDestination,
)
from tests.use_cases.clinic import Clinic, Services, at

PUBLIC_IP = ipaddress.ip_address("93.184.216.34")
PRIVATE_IP = ipaddress.ip_address("10.0.0.7")
HOOKS = "https://hooks.example/in"
WIDE = PageRequest(page_size=100)


class FakeDns:
    """Host names and what they resolve to, changeable between calls."""

    def __init__(self) -> None:
        self.answers: dict[str, list[IpAddress]] = {"hooks.example": [PUBLIC_IP]}

    def resolve(self, host: str, port: int) -> list[IpAddress]:
        return list(self.answers.get(host, []))


class FakeReceiver:
    """Answers each attempt with the next scripted status (200 once the script runs out)."""

    def __init__(self, clock: FixedClock, *statuses: int | None) -> None:
        self.clock = clock
        self.script = list(statuses)
        self.received: list[tuple[Delivery, IpAddress]] = []

    def send(self, delivery: Delivery, address: IpAddress, at: datetime) -> AttemptResult:
        self.received.append((delivery, address))
        status = self.script.pop(0) if self.script else 200
        error = None if status is not None else "timed out after 10 s"
        return AttemptResult(status_code=status, error=error, at=at)

    def types(self) -> list[str]:
        return [delivery.event_type for delivery, _ in self.received]


@pytest.fixture
def dns() -> FakeDns:
    return FakeDns()


@pytest.fixture
def webhooks(uow_factory: Callable[[], UnitOfWork], clock: FixedClock, dns: FakeDns) -> WebhookService:
    return WebhookService(uow_factory, clock, dns, allow_private=False)


def deliverer(uow_factory, clock, dns, receiver, **options) -> WebhookDelivery:
    return WebhookDelivery(uow_factory, clock, dns, receiver, jitter=lambda: 0.5, **options)


def drain(delivery: WebhookDelivery) -> None:
    WebhookWorker(delivery, threads=4, per_endpoint=2, idle_wait=0.01).run(once=True)


def subscribe(webhooks: WebhookService, clinic: Clinic, *events: str) -> int:
    return webhooks.create(clinic.admin, CreateWebhook(HOOKS, list(events or ["*"]))).id  # type: ignore[return-value]


# -- endpoints -------------------------------------------------------------------------------


def test_only_admins_manage_endpoints(webhooks: WebhookService, clinic: Clinic):
    for actor in (clinic.doctor, clinic.patient):
        with pytest.raises(PermissionDenied):
            webhooks.create(actor, CreateWebhook(HOOKS, ["*"]))
        with pytest.raises(PermissionDenied):
            webhooks.list(actor, WIDE)
    created = webhooks.create(clinic.admin, CreateWebhook(HOOKS, ["appointment.booked"], "CRM"))
    assert created.secret.startswith("whsec_") and created.is_active
    assert [e.url for e in webhooks.list(clinic.admin, WIDE).items] == [HOOKS]


def test_rotating_gives_a_new_secret_and_keeps_the_rest(webhooks: WebhookService, clinic: Clinic):
    created = webhooks.create(clinic.admin, CreateWebhook(HOOKS, ["*"]))
    rotated = webhooks.rotate_secret(clinic.admin, created.id)
    assert rotated.secret != created.secret
    assert webhooks.get(clinic.admin, created.id).secret == rotated.secret


def test_a_host_that_resolves_to_a_private_address_is_refused_in_production(
    webhooks: WebhookService, clinic: Clinic, dns: FakeDns
):
    dns.answers["sneaky.example"] = [PUBLIC_IP, PRIVATE_IP]
    dns.answers["metadata.example"] = [ipaddress.ip_address("169.254.169.254")]
    for url in ("https://sneaky.example/", "https://metadata.example/", "https://127.0.0.1/"):
        with pytest.raises(UnsafeDestination):
            webhooks.create(clinic.admin, CreateWebhook(url, ["*"]))
    created = webhooks.create(clinic.admin, CreateWebhook(HOOKS, ["*"]))
    with pytest.raises(UnsafeDestination):
        webhooks.update(clinic.admin, created.id, ChangeWebhook(url="https://sneaky.example/x"))
    assert webhooks.get(clinic.admin, created.id).url == HOOKS


def test_development_allows_http_to_a_private_receiver(uow_factory, clock, dns, clinic: Clinic):
    dns.answers["receiver.local"] = [PRIVATE_IP]
    development = WebhookService(uow_factory, clock, dns, allow_private=True)
    created = development.create(clinic.admin, CreateWebhook("http://receiver.local:8080/", ["*"]))
    assert created.url == "http://receiver.local:8080/"


# -- events in the transaction of the change -------------------------------------------------


def test_every_committed_change_is_one_event_for_each_subscribed_endpoint(
    uow_factory, clock, dns, webhooks: WebhookService, services: Services, clinic: Clinic
):
    everything = subscribe(webhooks, clinic)
    cancellations = subscribe(webhooks, clinic, "appointment.cancelled")
    booked = services.appointments.book(
        clinic.patient, BookAppointment(doctor_id=clinic.doctor.doctor_id, start=at(10))
    )
    services.appointments.confirm(clinic.doctor, booked.id)
    services.appointments.update(clinic.patient, booked.id, UpdateAppointment(start=at(11)))
    services.appointments.cancel(clinic.patient, booked.id, "Feeling better")

    receiver = FakeReceiver(clock)
    drain(deliverer(uow_factory, clock, dns, receiver))
    by_endpoint: dict[int, list[str]] = {}
    for delivery, _ in sorted(receiver.received, key=lambda r: r[0].id):
        by_endpoint.setdefault(delivery.endpoint_id, []).append(delivery.event_type)
    assert by_endpoint == {
        everything: [
            "appointment.booked",
            "appointment.confirmed",
            "appointment.rescheduled",
            "appointment.cancelled",
        ],
        cancellations: ["appointment.cancelled"],
    }
    cancelled = json.loads(next(d.body for d, _ in receiver.received if d.endpoint_id == cancellations))
    assert cancelled["data"]["id"] == booked.id and cancelled["data"]["status"] == "cancelled"
    assert "Feeling better" not in json.dumps(cancelled)


def test_a_refused_change_writes_no_event(
    uow_factory, clock, dns, webhooks: WebhookService, services: Services, clinic: Clinic,
    booked: Appointment,
):
    subscribe(webhooks, clinic)
    with pytest.raises(SlotUnavailable):
        services.appointments.book(
            clinic.other_patient,
            BookAppointment(doctor_id=clinic.doctor.doctor_id, start=booked.start),
        )
    with pytest.raises(PermissionDenied):
        services.appointments.confirm(clinic.patient, booked.id)
    receiver = FakeReceiver(clock)
    drain(deliverer(uow_factory, clock, dns, receiver))
    assert receiver.received == []


def test_a_change_that_rolls_back_takes_its_event_with_it(
    uow_factory, clock, dns, webhooks: WebhookService, clinic: Clinic, booked: Appointment
):
    from healthcare.domain.events import step_event

    subscribe(webhooks, clinic)
    with uow_factory() as uow:
        appointment = uow.appointments.get(booked.id)
        appointment.move_to(Status.CONFIRMED, clinic.admin, clock.now())
        uow.appointments.update(appointment)
        assert uow.webhooks.publish(step_event(appointment, clock.now())) == 1
        # No commit: the unit of work rolls back on leaving.
    receiver = FakeReceiver(clock)
    drain(deliverer(uow_factory, clock, dns, receiver))
    assert receiver.received == []


def test_records_and_batch_jobs_publish_like_the_api(
    uow_factory, clock, dns, webhooks: WebhookService, services: Services, clinic: Clinic,
    booked: Appointment,
):
    subscribe(webhooks, clinic, "medical_record.created", "medical_record.updated", "appointment.no_show")
    services.appointments.confirm(clinic.doctor, booked.id)
    record = services.records.create(
        clinic.doctor, WriteMedicalRecord(appointment_id=booked.id, diagnosis="Secret diagnosis")
    )
    services.records.update(clinic.doctor, record.id, ReviseMedicalRecord(notes="Private notes"))
    clock.advance(timedelta(hours=6))
    NoShowJob(uow_factory, clock).run()

    receiver = FakeReceiver(clock)
    drain(deliverer(uow_factory, clock, dns, receiver))
    assert sorted(receiver.types()) == [
        "appointment.no_show", "medical_record.created", "medical_record.updated"
    ]
    bodies = " ".join(d.body for d, _ in receiver.received)
    assert "Secret" not in bodies and "Private" not in bodies


def test_no_endpoint_means_no_outbox_row(uow_factory, clock, clinic: Clinic, booked: Appointment):
    with uow_factory() as uow:
        assert uow.webhooks.pending() == 0


def test_a_disabled_endpoint_gets_no_new_events(
    uow_factory, clock, dns, webhooks: WebhookService, services: Services, clinic: Clinic,
    booked: Appointment,
):
    endpoint = subscribe(webhooks, clinic)
    webhooks.update(clinic.admin, endpoint, ChangeWebhook(is_active=False))
    services.appointments.confirm(clinic.doctor, booked.id)
    with uow_factory() as uow:
        assert uow.webhooks.pending() == 0


# -- delivery --------------------------------------------------------------------------------


def test_a_failed_attempt_is_retried_on_schedule_with_the_same_webhook_id(
    uow_factory, clock, dns, webhooks: WebhookService, clinic: Clinic, booked: Appointment,
    services: Services,
):
    endpoint = subscribe(webhooks, clinic)
    services.appointments.confirm(clinic.doctor, booked.id)
    receiver = FakeReceiver(clock, 500, None, 503)
    delivery = deliverer(uow_factory, clock, dns, receiver)
    for wait in (timedelta(0), timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30)):
        clock.advance(wait)
        drain(delivery)
    drain(delivery)  # nothing more is due
    assert [d.attempt for d, _ in receiver.received] == [1, 2, 3, 4]
    assert len({d.event_id for d, _ in receiver.received}) == 1
    log = webhooks.deliveries(clinic.admin, endpoint, WIDE).items
    assert [(a.attempt, a.status_code) for a in log] == [(4, 200), (3, 503), (2, None), (1, 500)]
    assert log[2].error == "timed out after 10 s"
    assert log[3].next_attempt_at == log[3].at + timedelta(seconds=5)
    assert log[0].next_attempt_at is None


def test_after_the_last_retry_the_event_has_failed(
    uow_factory, clock, dns, webhooks: WebhookService, clinic: Clinic, booked: Appointment,
    services: Services,
):
    endpoint = subscribe(webhooks, clinic)
    services.appointments.confirm(clinic.doctor, booked.id)
    receiver = FakeReceiver(clock, *[500] * 20)
    delivery = deliverer(uow_factory, clock, dns, receiver)
    for _ in range(12):
        drain(delivery)
        clock.advance(timedelta(hours=11))
    assert len(receiver.received) == 8
    assert webhooks.deliveries(clinic.admin, endpoint, WIDE).total == 8
    assert delivery.pending() == 0


def test_410_disables_the_endpoint(
    uow_factory, clock, dns, webhooks: WebhookService, clinic: Clinic, booked: Appointment,
    services: Services,
):
    endpoint = subscribe(webhooks, clinic)
    services.appointments.confirm(clinic.doctor, booked.id)
    receiver = FakeReceiver(clock, 410)
    drain(deliverer(uow_factory, clock, dns, receiver))
    assert not webhooks.get(clinic.admin, endpoint).is_active
    services.appointments.cancel(clinic.doctor, booked.id)
    clock.advance(timedelta(days=1))
    drain(deliverer(uow_factory, clock, dns, receiver))
    assert receiver.types() == ["appointment.confirmed"]


def test_an_attempt_whose_worker_died_is_made_again_once_its_lease_ends(
    uow_factory, clock, dns, webhooks: WebhookService, clinic: Clinic, booked: Appointment,
    services: Services,
):
    subscribe(webhooks, clinic)
    services.appointments.confirm(clinic.doctor, booked.id)
    receiver = FakeReceiver(clock)
    delivery = deliverer(uow_factory, clock, dns, receiver)
    (lost,) = delivery.claim("dead-worker", limit=10, per_endpoint=10, busy=[])
    assert delivery.claim("other", limit=10, per_endpoint=10, busy=[]) == []  # leased

    clock.advance(delivery.lease + timedelta(seconds=1))
    (again,) = delivery.claim("other", limit=10, per_endpoint=10, busy=[])
    assert (again.id, again.event_id, again.attempt) == (lost.id, lost.event_id, lost.attempt)
    assert delivery.settle(again, "other", delivery.attempt(again)) is DeliveryStatus.DELIVERED
    # The dead worker's late answer, had it come, changes nothing.
    late = AttemptResult(status_code=200, error=None, at=clock.now())
    assert delivery.settle(lost, "dead-worker", late) is None
    assert delivery.pending() == 0


def test_a_host_that_now_resolves_to_a_private_address_gets_no_attempt(
    uow_factory, clock, dns, webhooks: WebhookService, clinic: Clinic, booked: Appointment,
    services: Services,
):
    endpoint = subscribe(webhooks, clinic)
    services.appointments.confirm(clinic.doctor, booked.id)
    dns.answers["hooks.example"] = [ipaddress.ip_address("127.0.0.1")]  # DNS rebinding
    receiver = FakeReceiver(clock)
    drain(deliverer(uow_factory, clock, dns, receiver))
    assert receiver.received == []
    (attempt,) = webhooks.deliveries(clinic.admin, endpoint, WIDE).items
    assert attempt.status_code is None and "private or local" in attempt.error


def test_the_sender_is_told_to_connect_to_the_address_that_was_checked(
    uow_factory, clock, dns, webhooks: WebhookService, clinic: Clinic, booked: Appointment,
    services: Services,
):
    subscribe(webhooks, clinic)
    services.appointments.confirm(clinic.doctor, booked.id)
    receiver = FakeReceiver(clock)
    drain(deliverer(uow_factory, clock, dns, receiver))
    assert [address for _, address in receiver.received] == [PUBLIC_IP]


def test_a_slow_endpoint_gets_at_most_its_share_of_a_claim(
    uow_factory, clock, dns, webhooks: WebhookService, services: Services, clinic: Clinic,
    booked: Appointment,
):
    slow = subscribe(webhooks, clinic)
    services.appointments.confirm(clinic.doctor, booked.id)
    services.appointments.cancel(clinic.doctor, booked.id)
    services.appointments.book(
        clinic.patient, BookAppointment(doctor_id=clinic.doctor.doctor_id, start=at(11))
    )
    fast = subscribe(webhooks, clinic)
    services.appointments.book(
        clinic.other_patient, BookAppointment(doctor_id=clinic.doctor.doctor_id, start=at(9))
    )
    delivery = deliverer(uow_factory, clock, dns, FakeReceiver(clock))
    first = delivery.claim("w", limit=10, per_endpoint=2, busy=[])
    assert sorted(d.endpoint_id for d in first) == [slow, slow, fast]
    assert delivery.claim("w", limit=10, per_endpoint=2, busy=[slow]) == []
