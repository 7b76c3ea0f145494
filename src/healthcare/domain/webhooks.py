"""Webhook endpoints and the rules of delivering to them (SPEC section 9.1).

- Where an endpoint may point: ``https``, or ``http`` to a loopback or private address, and
  never to a private, loopback, link-local, multicast, reserved or unspecified address unless
  the clinic allows private destinations (development). Every address a host resolves to is
  checked: one private answer is enough to refuse it.
- When a failed attempt is tried again (``RETRY_DELAYS``, with jitter), and what an answer means
  (2xx delivered, 410 the receiver is gone for good, anything else try again).
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from healthcare.domain.entity import Entity
from healthcare.domain.errors import InvalidInput
from healthcare.domain.events import EVERY_EVENT, EventType, event_types_named
from healthcare.domain.text import require_text

URL_MAX = 2000
DESCRIPTION_MAX = 500
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32

#: How long after each failed attempt the next one is made; after the last, it has failed.
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
#: Every attempt an event gets at one endpoint: the first and one per delay.
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
#: A delay is stretched or shrunk by up to this fraction, so receivers that failed together
#: are not all retried in the same second.
JITTER = 0.1
#: One attempt's time limit (connect, send, wait for the answer).
ATTEMPT_TIMEOUT = timedelta(seconds=10)

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeDestination(InvalidInput):
    def __init__(self, why: str) -> None:
        super().__init__(f"The webhook URL is not allowed: {why}.", {"url": [why[0].upper() + why[1:] + "."]})


def new_secret() -> str:
    """``whsec_`` and the base64 of 32 random bytes, as the Standard Webhooks libraries read it."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


@dataclass(frozen=True)
class Destination:
    """A checked URL: its scheme, host and port (the port the scheme implies when omitted)."""

    url: str
    scheme: str
    host: str
    port: int


def destination_of(url: str) -> Destination:
    """The URL's form alone (no look-up): http(s), a host, no credentials, no fragment."""
    url = require_text(url, "url", URL_MAX).strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeDestination("it is not a valid URL") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeDestination("it must be an https URL with a host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeDestination("it must not carry credentials (they would show in logs)")
    if parts.fragment:
        raise UnsafeDestination("it must not have a fragment")
    default = 443 if parts.scheme == "https" else 80
    return Destination(url=url, scheme=parts.scheme, host=parts.hostname, port=port or default)


def is_public(address: IpAddress) -> bool:
    """Whether ``address`` is on the public internet (an IPv4-mapped IPv6 address counts as
    the IPv4 address it maps)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def check_destination(
    destination: Destination, addresses: Iterable[IpAddress], *, allow_private: bool
) -> IpAddress:
    """The address to connect to, once every address the host resolves to is allowed.

    ``https`` to public addresses always; ``http`` never to a public one; anything private,
    loopback or otherwise not public only when ``allow_private``.
    """
    resolved = list(dict.fromkeys(addresses))
    if not resolved:
        raise UnsafeDestination("its host does not resolve")
    public = [is_public(address) for address in resolved]
    if not all(public) and not allow_private:
        raise UnsafeDestination("its host resolves to a private or local address")
    if destination.scheme == "http" and any(public):
        raise UnsafeDestination("it must use https (http only to a private or local address)")
    return resolved[0]


@dataclass(eq=False)
class WebhookEndpoint(Entity):
    url: str
    events: tuple[str, ...]
    secret: str
    created_at: datetime
    description: str = ""
    is_active: bool = True
    id: int | None = None

    def __post_init__(self) -> None:
        self.url = destination_of(self.url).url
        self.events = event_types_named(list(self.events))
        self.description = require_text(
            self.description or "", "description", DESCRIPTION_MAX, allow_empty=True
        )

    @property
    def destination(self) -> Destination:
        return destination_of(self.url)

    def subscribes_to(self, kind: EventType) -> bool:
        return EVERY_EVENT in self.events or str(kind) in self.events


# -- delivery --------------------------------------------------------------------------------


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class Verdict(StrEnum):
    """What an attempt's answer means for the message and the endpoint."""

    DELIVERED = "delivered"
    RETRY = "retry"
    #: 410 Gone: the receiver says the endpoint is gone for good; it is disabled.
    GONE = "gone"


def verdict_for(status_code: int | None) -> Verdict:
    """2xx delivered; 410 gone; anything else (or no answer: a timeout, a refused connection)
    is tried again."""
    if status_code is not None and 200 <= status_code < 300:
        return Verdict.DELIVERED
    if status_code == 410:
        return Verdict.GONE
    return Verdict.RETRY


def next_attempt_at(attempt: int, now: datetime, jitter: float) -> datetime | None:
    """When to try again after failed attempt number ``attempt`` (1 is the first), or None when
    that was the last. ``jitter`` in [0, 1) picks where in ±``JITTER`` of the delay to land."""
    if not 1 <= attempt < MAX_ATTEMPTS:
        return None
    if not 0 <= jitter < 1:
        raise ValueError("jitter is in [0, 1)")
    delay = RETRY_DELAYS[attempt - 1]
    return now + delay * (1 + JITTER * (2 * jitter - 1))


@dataclass(frozen=True)
class Delivery:
    """One event bound for one endpoint: a row of the webhook outbox, claimed by one worker for
    one attempt at a time."""

    id: int
    endpoint_id: int
    event_id: str
    event_type: str
    body: str
    #: The number of this attempt (1 for the first).
    attempt: int
    url: str
    secret: str


@dataclass(frozen=True)
class AttemptResult:
    """How one attempt ended: the answer's status code, or the error that stood for one."""

    status_code: int | None
    error: str | None
    at: datetime
    #: Wall-clock duration, for the worker's log line.
    seconds: float = 0.0

    @property
    def verdict(self) -> Verdict:
        return verdict_for(self.status_code) if self.error is None else Verdict.RETRY


@dataclass(frozen=True)
class AttemptLog:
    """A line of an endpoint's delivery log (``GET /api/webhooks/<id>/deliveries/``)."""

    event_id: str
    type: str
    attempt: int
    status_code: int | None
    error: str | None
    at: datetime
    next_attempt_at: datetime | None
    id: int | None = None
