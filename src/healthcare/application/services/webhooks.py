"""Webhooks: the admins' endpoints, and the delivery of the outbox to them (SPEC section 9.1).

Events are written by the use cases that cause them, in their own transaction
(``uow.webhooks.publish``). Delivery happens here, afterwards, in three steps per attempt:
claim a due row (a lease, so no other worker makes the same attempt), post it (no transaction
held open while the receiver thinks), settle it (delivered, failed, or when to retry). A worker
killed between claim and settle loses nothing: the lease runs out and the attempt is made again,
with the same ``webhook-id``.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import timedelta

from healthcare.application.commands import ChangeWebhook, CreateWebhook, given
from healthcare.application.ports import (
    AddressResolver,
    Clock,
    Page,
    PageRequest,
    WebhookSender,
)
from healthcare.application.services.base import Service, found
from healthcare.application.unit_of_work import UnitOfWorkFactory
from healthcare.domain.actor import Actor
from healthcare.domain.errors import DomainError
from healthcare.domain.users import Role
from healthcare.domain.webhooks import (
    ATTEMPT_TIMEOUT,
    AttemptLog,
    AttemptResult,
    Delivery,
    DeliveryStatus,
    Verdict,
    WebhookEndpoint,
    check_destination,
    destination_of,
    new_secret,
    next_attempt_at,
)

log = logging.getLogger("healthcare.webhooks")

ENDPOINT = "Webhook endpoint"


class WebhookService(Service):
    """The admins' endpoints. A URL is checked when it is set (here) and again before every
    attempt (``WebhookDelivery``), since what a host resolves to may change."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        resolver: AddressResolver,
        allow_private: bool = False,
    ) -> None:
        super().__init__(uow_factory, clock)
        self.resolver = resolver
        self.allow_private = allow_private

    def create(self, actor: Actor, command: CreateWebhook) -> WebhookEndpoint:
        """The new endpoint, with its secret: the only answer that shows it, but for rotating."""
        actor.require_role(Role.ADMIN)
        endpoint = WebhookEndpoint(
            url=command.url,
            events=tuple(command.events),
            description=command.description,
            secret=new_secret(),
            created_at=self.clock.now(),
        )
        self._check_url(endpoint.url)
        with self.uow_factory() as uow:
            endpoint = uow.webhook_endpoints.add(endpoint)
            uow.commit()
        return endpoint

    def list(self, actor: Actor, page: PageRequest) -> Page[WebhookEndpoint]:
        actor.require_role(Role.ADMIN)
        with self.uow_factory().read_only() as uow:
            return uow.webhook_endpoints.list(page)

    def get(self, actor: Actor, endpoint_id: int) -> WebhookEndpoint:
        actor.require_role(Role.ADMIN)
        with self.uow_factory().read_only() as uow:
            return found(uow.webhook_endpoints.get(endpoint_id), ENDPOINT)

    def update(self, actor: Actor, endpoint_id: int, command: ChangeWebhook) -> WebhookEndpoint:
        actor.require_role(Role.ADMIN)
        changes = given(command)
        if "events" in changes:
            changes["events"] = tuple(changes["events"])
        if "description" in changes and changes["description"] is None:
            changes["description"] = ""
        with self.uow_factory() as uow:
            endpoint = found(uow.webhook_endpoints.get(endpoint_id), ENDPOINT)
            endpoint = replace(endpoint, **changes)  # validated again by __post_init__
            if "url" in changes:
                self._check_url(endpoint.url)
            uow.webhook_endpoints.update(endpoint)
            uow.commit()
        return endpoint

    def delete(self, actor: Actor, endpoint_id: int) -> None:
        """The endpoint goes, with its undelivered events and its log."""
        actor.require_role(Role.ADMIN)
        with self.uow_factory() as uow:
            found(uow.webhook_endpoints.get(endpoint_id), ENDPOINT)
            uow.webhook_endpoints.delete(endpoint_id)
            uow.commit()

    def rotate_secret(self, actor: Actor, endpoint_id: int) -> WebhookEndpoint:
        """A new secret, at once: attempts from now on are signed with it."""
        actor.require_role(Role.ADMIN)
        with self.uow_factory() as uow:
            endpoint = found(uow.webhook_endpoints.get(endpoint_id), ENDPOINT)
            endpoint.secret = new_secret()
            uow.webhook_endpoints.update(endpoint)
            uow.commit()
        return endpoint

    def deliveries(self, actor: Actor, endpoint_id: int, page: PageRequest) -> Page[AttemptLog]:
        actor.require_role(Role.ADMIN)
        with self.uow_factory().read_only() as uow:
            found(uow.webhook_endpoints.get(endpoint_id), ENDPOINT)
            return uow.webhooks.attempts(endpoint_id, page)

    def _check_url(self, url: str) -> None:
        destination = destination_of(url)
        addresses = self.resolver.resolve(destination.host, destination.port)
        check_destination(destination, addresses, allow_private=self.allow_private)


# -- delivery ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryReport:
    delivered: int
    retrying: int
    failed: int
    #: Rows not yet delivered or failed when the worker stopped (due later, or leased).
    pending: int


class WebhookDelivery(Service):
    """One attempt at a time: claim, attempt, settle. ``WebhookWorker`` runs many at once."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        resolver: AddressResolver,
        sender: WebhookSender,
        allow_private: bool = False,
        jitter: Callable[[], float] = random.random,
        lease: timedelta = timedelta(seconds=60),
    ) -> None:
        super().__init__(uow_factory, clock)
        if lease < 3 * ATTEMPT_TIMEOUT:
            raise ValueError("a lease must outlast a wait in the endpoint's queue and an attempt")
        #: How long a claimed attempt is reserved to its worker: longer than it may wait in its
        #: endpoint's queue (one attempt) and then take (another), so only a worker that died
        #: gives its attempt up.
        self.lease = lease
        self.resolver = resolver
        self.sender = sender
        self.allow_private = allow_private
        self.jitter = jitter

    def claim(self, claim: str, limit: int, per_endpoint: int, busy: list[int]) -> list[Delivery]:
        now = self.clock.now()
        with self.uow_factory() as uow:
            claimed = uow.webhooks.claim(
                now,
                now + self.lease,
                limit=limit,
                per_endpoint=per_endpoint,
                busy_endpoints=busy,
                claim=claim,
            )
            uow.commit()
        return claimed

    def attempt(self, delivery: Delivery) -> AttemptResult:
        """Post it, if the URL's host still resolves only to allowed addresses."""
        now = self.clock.now()
        destination = destination_of(delivery.url)
        try:
            address = check_destination(
                destination,
                self.resolver.resolve(destination.host, destination.port),
                allow_private=self.allow_private,
            )
        except DomainError as refused:
            return AttemptResult(status_code=None, error=refused.message, at=now)
        return self.sender.send(delivery, address, now)

    def settle(
        self, delivery: Delivery, claim: str, result: AttemptResult
    ) -> DeliveryStatus | None:
        """Record how the attempt ended: delivered, failed, or pending a retry; None when the
        lease had been lost meanwhile (another worker makes the attempt)."""
        verdict = result.verdict
        retry_at = (
            next_attempt_at(delivery.attempt, result.at, self.jitter())
            if verdict is Verdict.RETRY
            else None
        )
        status = {
            Verdict.DELIVERED: DeliveryStatus.DELIVERED,
            Verdict.GONE: DeliveryStatus.FAILED,
            Verdict.RETRY: DeliveryStatus.PENDING if retry_at else DeliveryStatus.FAILED,
        }[verdict]
        with self.uow_factory() as uow:
            if not uow.webhooks.settle(delivery, claim, result, status, retry_at):
                return None
            if verdict is Verdict.GONE:
                # The receiver said the endpoint is gone for good: stop sending to it.
                endpoint = uow.webhook_endpoints.get(delivery.endpoint_id)
                if endpoint is not None:
                    endpoint.is_active = False
                    uow.webhook_endpoints.update(endpoint)
            uow.commit()
        log.info(
            "webhook attempt",
            extra={
                "event_id": delivery.event_id,
                "event_type": delivery.event_type,
                "endpoint": delivery.endpoint_id,
                "attempt": delivery.attempt,
                "status_code": result.status_code,
                "error": result.error,
                "outcome": str(status),
                "seconds": round(result.seconds, 3),
                "next_attempt_at": retry_at.isoformat() if retry_at else None,
            },
        )
        return status

    def pending(self) -> int:
        with self.uow_factory().read_only() as uow:
            return uow.webhooks.pending()


class WebhookWorker:
    """Delivers the outbox with ``threads`` attempts at once, at most ``per_endpoint`` of them
    to any one endpoint: a slow or failing receiver holds its own share of the threads and no
    more, and the others' events keep flowing. Several workers may run side by side; the
    leases keep them from making the same attempt.

    Rows are claimed a few at a time per endpoint and wait in a small queue of the endpoint's
    until one of its attempts ends: at most ``per_endpoint`` wait, so a claimed row starts
    within one attempt's time limit, well inside its lease.
    """

    def __init__(
        self,
        delivery: WebhookDelivery,
        threads: int = 16,
        per_endpoint: int = 4,
        idle_wait: float = 1.0,
    ) -> None:
        if threads < 1 or not 1 <= per_endpoint <= threads:
            raise ValueError("threads >= 1 and 1 <= per_endpoint <= threads")
        self.delivery = delivery
        self.threads = threads
        self.per_endpoint = per_endpoint
        self.idle_wait = idle_wait
        #: One claim id per worker process: its leases.
        self.claim_id = uuid.uuid4().hex
        self.stopping = threading.Event()

    def stop(self) -> None:
        """Claim nothing more; attempts in flight finish and are settled (claimed rows not yet
        started go back when their lease ends)."""
        self.stopping.set()

    def run(self, once: bool = False, progress: Callable[[int], None] = lambda _: None) -> DeliveryReport:
        """Until stopped; ``once``: until nothing is due now, then return."""
        outcomes: Counter[DeliveryStatus | None] = Counter()
        in_flight: Counter[int] = Counter()
        waiting: dict[int, deque[Delivery]] = defaultdict(deque)
        changed = threading.Condition()

        def attempt(delivery: Delivery) -> None:
            try:
                result = self.delivery.attempt(delivery)
                outcome = self.delivery.settle(delivery, self.claim_id, result)
            except Exception:  # noqa: BLE001 - the lease brings the attempt back; keep working
                log.exception("webhook attempt could not be settled", extra={"event_id": delivery.event_id})
                outcome = None
            with changed:
                outcomes[outcome] += 1
                in_flight[delivery.endpoint_id] -= 1
                changed.notify()
            progress(1)

        def start_waiting(pool: ThreadPoolExecutor) -> None:
            for endpoint, queue in waiting.items():
                while queue and in_flight[endpoint] < self.per_endpoint:
                    in_flight[endpoint] += 1
                    pool.submit(attempt, queue.popleft())

        with ThreadPoolExecutor(self.threads, thread_name_prefix="webhook") as pool:
            while not self.stopping.is_set():
                with changed:
                    start_waiting(pool)
                    load = Counter({e: in_flight[e] + len(waiting[e]) for e in waiting})
                    load.update({e: n for e, n in in_flight.items() if e not in waiting})
                    full = [endpoint for endpoint, n in load.items() if n >= self.per_endpoint]
                    free = self.threads - load.total()
                    # Nothing in flight or waiting: an empty claim means nothing is due.
                    idle = load.total() == 0
                    ended = outcomes.total()
                claimed = (
                    self.delivery.claim(self.claim_id, free, self.per_endpoint, full)
                    if free > 0
                    else []
                )
                if claimed:
                    with changed:
                        for delivery in claimed:
                            waiting[delivery.endpoint_id].append(delivery)
                    continue
                if once and idle:
                    break
                with changed:
                    # Nothing due, or no room: until an attempt ends (perhaps one already did,
                    # since the claim), or a while.
                    changed.wait_for(lambda: outcomes.total() != ended, self.idle_wait)
        return DeliveryReport(
            delivered=outcomes[DeliveryStatus.DELIVERED],
            retrying=outcomes[DeliveryStatus.PENDING],
            failed=outcomes[DeliveryStatus.FAILED],
            pending=self.delivery.pending(),
        )
