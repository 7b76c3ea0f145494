"""Webhook rules: what events carry, where endpoints may point, retries, what answers mean."""

from __future__ import annotations

import ipaddress
import json
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthcare.domain.actor import Actor
from healthcare.domain.appointments import Status
from healthcare.domain.errors import InvalidInput
from healthcare.domain.events import EventType, appointment_event, record_event, step_event
from healthcare.domain.users import Role
from healthcare.domain.webhooks import (
    JITTER,
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    UnsafeDestination,
    Verdict,
    WebhookEndpoint,
    check_destination,
    destination_of,
    new_secret,
    next_attempt_at,
    verdict_for,
)
from tests.conftest import NOW
from tests.factories import AppointmentFactory, MedicalRecordFactory

ip = ipaddress.ip_address
ADMIN = Actor(user_id=1, role=Role.ADMIN)


def test_an_appointment_event_carries_ids_times_and_status_but_never_the_reason():
    appointment = AppointmentFactory(id=5, reason="Chest pain, anxious", cancellation_reason="Fear")
    body = json.loads(appointment_event(EventType.APPOINTMENT_BOOKED, appointment, NOW).body())
    assert body["type"] == "appointment.booked"
    assert body["timestamp"] == "2030-01-07T08:00:00Z"
    assert set(body["data"]) == {"id", "patient", "doctor", "datetime", "end", "status"}
    assert body["data"]["id"] == 5 and body["data"]["datetime"].endswith("Z")
    assert "Chest" not in json.dumps(body) and "Fear" not in json.dumps(body)


def test_a_record_event_carries_no_diagnosis_treatment_or_notes():
    record = MedicalRecordFactory(id=3, diagnosis="Angina", treatment="Rest", notes="Smoker")
    data = json.loads(record_event(EventType.MEDICAL_RECORD_CREATED, record, NOW).body())["data"]
    assert set(data) == {"id", "patient", "appointment", "doctor"}


def test_each_lifecycle_step_announces_its_own_event():
    appointment = AppointmentFactory(id=1)
    appointment.move_to(Status.CONFIRMED, ADMIN, NOW)
    assert step_event(appointment, NOW).type is EventType.APPOINTMENT_CONFIRMED
    appointment.move_to(Status.CANCELLED, ADMIN, NOW)
    assert step_event(appointment, NOW).type is EventType.APPOINTMENT_CANCELLED


def test_every_change_of_an_appointment_raises_its_sequence():
    appointment = AppointmentFactory(id=1)
    assert appointment.sequence == 0
    appointment.change_reason(ADMIN, "New reason", NOW)
    appointment.move_to(Status.CONFIRMED, ADMIN, NOW)
    assert appointment.sequence == 2


def test_two_events_never_share_an_id():
    appointment = AppointmentFactory(id=1)
    ids = {appointment_event(EventType.APPOINTMENT_BOOKED, appointment, NOW).id for _ in range(50)}
    assert len(ids) == 50


@pytest.mark.parametrize(
    ("events", "accepted"),
    [(["*"], True), (["appointment.booked", "waitlist.offered"], True), ([], False),
     (["appointment.deleted"], False), (["*", "appointment.booked"], False)],
)
def test_an_endpoint_subscribes_to_known_events_or_to_all_alone(events, accepted):
    def make() -> WebhookEndpoint:
        return WebhookEndpoint(url="https://h.example/", events=tuple(events), secret="s", created_at=NOW)

    if accepted:
        assert make().events == tuple(events)
    else:
        with pytest.raises(InvalidInput):
            make()


def test_a_star_subscription_receives_every_type_and_a_list_only_its_own():
    every = WebhookEndpoint(url="https://h.example/", events=("*",), secret="s", created_at=NOW)
    some = WebhookEndpoint(url="https://h.example/", events=("appointment.booked",), secret="s", created_at=NOW)
    assert all(every.subscribes_to(kind) for kind in EventType)
    assert [kind for kind in EventType if some.subscribes_to(kind)] == [EventType.APPOINTMENT_BOOKED]


def test_a_secret_is_whsec_and_32_random_bytes_in_base64():
    import base64

    secret = new_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert new_secret() != secret


# -- where an endpoint may point -------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["ftp://h.example/", "https://", "https://user:pw@h.example/", "https://h.example/#x",
     "https://h.example:99999/", "not a url"],
)
def test_a_url_that_is_not_plain_http_or_https_to_a_host_is_refused(url):
    with pytest.raises(UnsafeDestination):
        destination_of(url)


PUBLIC = [ip("93.184.216.34"), ip("2606:2800:220:1::1")]
NOT_PUBLIC = [
    ip("10.1.2.3"), ip("172.16.0.1"), ip("192.168.1.1"), ip("127.0.0.1"), ip("::1"),
    ip("169.254.169.254"), ip("fe80::1"), ip("224.0.0.1"), ip("0.0.0.0"), ip("240.0.0.1"),
    ip("fc00::1"), ip("::ffff:127.0.0.1"), ip("100.64.0.1"),
]


def test_https_to_public_addresses_is_allowed_everywhere():
    destination = destination_of("https://hooks.example/in")
    assert check_destination(destination, PUBLIC, allow_private=False) == PUBLIC[0]


@pytest.mark.parametrize("address", NOT_PUBLIC, ids=str)
def test_a_host_with_any_non_public_address_is_refused_unless_private_is_allowed(address):
    destination = destination_of("https://hooks.example/in")
    with pytest.raises(UnsafeDestination, match="private or local"):
        check_destination(destination, [PUBLIC[0], address], allow_private=False)
    assert check_destination(destination, [address], allow_private=True) == address


def test_http_goes_only_to_private_addresses_and_only_where_allowed():
    destination = destination_of("http://receiver.internal:8080/in")
    assert check_destination(destination, [ip("10.0.0.5")], allow_private=True) == ip("10.0.0.5")
    with pytest.raises(UnsafeDestination):
        check_destination(destination, [ip("10.0.0.5")], allow_private=False)
    with pytest.raises(UnsafeDestination, match="https"):
        check_destination(destination, PUBLIC, allow_private=True)


def test_a_host_that_does_not_resolve_is_refused():
    with pytest.raises(UnsafeDestination, match="resolve"):
        check_destination(destination_of("https://nowhere.example/"), [], allow_private=True)


# -- retries ---------------------------------------------------------------------------------


def test_the_schedule_is_5s_5m_30m_2h_5h_10h_10h_then_failed():
    assert [next_attempt_at(n, NOW, 0.5) - NOW for n in range(1, MAX_ATTEMPTS)] == [
        timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
        timedelta(hours=5), timedelta(hours=10), timedelta(hours=10),
    ]
    assert next_attempt_at(MAX_ATTEMPTS, NOW, 0.5) is None


@given(attempt=st.integers(1, MAX_ATTEMPTS - 1), jitter=st.floats(0, 1, exclude_max=True))
def test_jitter_keeps_each_retry_within_a_tenth_of_its_delay(attempt, jitter):
    delay = RETRY_DELAYS[attempt - 1]
    waited = next_attempt_at(attempt, NOW, jitter) - NOW
    assert delay * (1 - JITTER) <= waited <= delay * (1 + JITTER)


@pytest.mark.parametrize(
    ("status", "verdict"),
    [(200, Verdict.DELIVERED), (204, Verdict.DELIVERED), (299, Verdict.DELIVERED),
     (301, Verdict.RETRY), (404, Verdict.RETRY), (500, Verdict.RETRY), (None, Verdict.RETRY),
     (410, Verdict.GONE)],
)
def test_2xx_is_delivered_410_is_gone_and_anything_else_is_retried(status, verdict):
    assert verdict_for(status) is verdict
