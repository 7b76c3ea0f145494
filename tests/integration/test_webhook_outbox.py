"""The webhook outbox on real databases: the fan-out's cost, and concurrent workers on
PostgreSQL delivering each event exactly once to a real receiver."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, event

from healthcare.adapters.clock import SystemClock
from healthcare.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from healthcare.adapters.webhooks import HttpWebhookSender, SocketResolver
from healthcare.application.services.webhooks import WebhookDelivery, WebhookWorker
from healthcare.domain.events import Event, EventType
from healthcare.domain.webhooks import WebhookEndpoint, new_secret
from tests.support.databases import engine_for
from tests.support.receiver import Receiver

NOW = datetime.now(UTC)


def endpoint(url: str, *events: str, secret: str | None = None) -> WebhookEndpoint:
    return WebhookEndpoint(url=url, events=events or ("*",), secret=secret or new_secret(), created_at=NOW)


def an_event(kind: EventType = EventType.APPOINTMENT_BOOKED) -> Event:
    return Event(type=kind, occurred_at=datetime.now(UTC), data={"id": 1})


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.mark.parametrize("endpoints", [0, 1, 25])
def test_publishing_costs_one_statement_however_many_endpoints_listen(
    engine: Engine, sql_uow: Callable[[], SqlAlchemyUnitOfWork], endpoints: int
):
    with sql_uow() as uow:
        for n in range(endpoints):
            uow.webhook_endpoints.add(endpoint(f"https://h{n}.example/"))
        uow.webhook_endpoints.add(endpoint("https://other.example/", "appointment.no_show"))
        disabled = endpoint("https://off.example/")
        disabled.is_active = False
        uow.webhook_endpoints.add(disabled)
        uow.commit()
    with sql_uow() as uow, statements(engine) as seen:
        written = uow.webhooks.publish(an_event())
        uow.commit()
    assert written == endpoints
    # SQLite's BEGIN IMMEDIATE is the unit of work's, sent whatever it does.
    assert [s.split()[0] for s in seen if not s.startswith("BEGIN")] == ["INSERT"]


def test_a_subscription_matches_whole_event_names_only(sql_uow: Callable[[], SqlAlchemyUnitOfWork]):
    with sql_uow() as uow:
        uow.webhook_endpoints.add(endpoint("https://a.example/", "appointment.no_show"))
        uow.commit()
    with sql_uow() as uow:
        assert uow.webhooks.publish(an_event(EventType.APPOINTMENT_NO_SHOW)) == 1
        assert uow.webhooks.publish(an_event(EventType.APPOINTMENT_BOOKED)) == 0
        uow.commit()


@pytest.mark.postgres
@pytest.mark.slow
def test_two_workers_deliver_a_thousand_events_exactly_once(postgres_url: str):
    with Receiver().running() as receiver, engine_for(postgres_url, pool_size=20) as engine:
        secret = new_secret()
        receiver.secret = secret
        uow_factory = lambda: SqlAlchemyUnitOfWork(engine)  # noqa: E731
        with uow_factory() as uow:
            uow.webhook_endpoints.add(endpoint(receiver.url, secret=secret))
            events = [an_event() for _ in range(1000)]
            for published in events:
                uow.webhooks.publish(published)
            uow.commit()

        senders = [HttpWebhookSender(), HttpWebhookSender()]
        workers = [
            WebhookWorker(
                WebhookDelivery(uow_factory, SystemClock(), SocketResolver(), sender, allow_private=True),
                threads=8,
                per_endpoint=8,
            )
            for sender in senders
        ]
        reports = []
        threads = [
            threading.Thread(target=lambda w=worker: reports.append(w.run(once=True)))
            for worker in workers
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        for sender in senders:
            sender.close()

    assert [(r.retrying, r.failed) for r in reports] == [(0, 0), (0, 0)]
    received = Counter(r.webhook_id for r in receiver.receipts)
    assert set(received) == {e.id for e in events}
    assert set(received.values()) == {1}
    assert all(r.verified for r in receiver.receipts)
    assert sum(r.delivered for r in reports) == 1000
    assert all(r.delivered > 0 for r in reports), "one worker did all the work"
