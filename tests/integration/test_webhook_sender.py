"""The network side of delivery: the system resolver, and the HTTP sender against a real
receiver (connect to the checked address, sign, no redirects, a time limit)."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

import pytest

from healthcare.adapters.webhooks import HttpWebhookSender, SocketResolver
from healthcare.domain.events import Event, EventType
from healthcare.domain.webhooks import (
    Delivery,
    UnsafeDestination,
    check_destination,
    destination_of,
    new_secret,
)
from tests.support.receiver import HANG, Receiver

LOOPBACK = ipaddress.ip_address("127.0.0.1")


def delivery_to(url: str, secret: str) -> Delivery:
    event = Event(EventType.APPOINTMENT_BOOKED, datetime.now(UTC), {"id": 1})
    return Delivery(
        id=1, endpoint_id=1, event_id=event.id, event_type=str(event.type), body=event.body(),
        attempt=1, url=url, secret=secret,
    )


@pytest.fixture
def receiver():
    with Receiver().running() as running:
        running.secret = new_secret()
        yield running


def test_localhost_resolves_to_loopback_and_is_refused_outside_development():
    addresses = SocketResolver().resolve("localhost", 443)
    assert LOOPBACK in addresses
    with pytest.raises(UnsafeDestination):
        check_destination(destination_of("https://localhost/"), addresses, allow_private=False)
    assert SocketResolver().resolve("no-such-host.invalid", 443) == []


def test_the_sender_connects_to_the_checked_address_and_names_the_urls_host(receiver: Receiver):
    port = receiver.url.split(":")[2].split("/")[0]
    # The host does not resolve at all: only the address given is used.
    url = f"http://receiver.invalid:{port}/hook"
    result = HttpWebhookSender().send(delivery_to(url, receiver.secret), LOOPBACK, datetime.now(UTC))
    assert (result.status_code, result.error) == (200, None)
    (receipt,) = receiver.receipts
    assert receipt.host == f"receiver.invalid:{port}" and receipt.verified


def test_a_redirect_is_an_answer_not_followed(receiver: Receiver):
    receiver.script = [302]
    result = HttpWebhookSender().send(delivery_to(receiver.url, receiver.secret), LOOPBACK, datetime.now(UTC))
    assert result.status_code == 302 and len(receiver.receipts) == 1


def test_a_receiver_that_hangs_is_a_timed_out_attempt(receiver: Receiver):
    receiver.script = [HANG]
    sender = HttpWebhookSender(timeout_seconds=0.5)
    result = sender.send(delivery_to(receiver.url, receiver.secret), LOOPBACK, datetime.now(UTC))
    assert (result.status_code, result.error) == (None, "timed out after 0.5 s")


def test_a_refused_connection_is_a_failed_attempt():
    result = HttpWebhookSender().send(
        delivery_to("http://127.0.0.1:1/hook", new_secret()), LOOPBACK, datetime.now(UTC)
    )
    assert result.status_code is None and "ConnectError" in result.error
