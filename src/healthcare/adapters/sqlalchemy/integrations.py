"""SQLAlchemy adapters of the integrations (SPEC section 9): webhook endpoints, the webhook
outbox (fan-out, claim with a lease, settle) and calendar feeds, over one ``Transaction`` as
every repository in ``repositories.py``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    Insert,
    Select,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from healthcare.adapters.sqlalchemy.read_model import counted, given, paged
from healthcare.adapters.sqlalchemy.repositories import (
    APPOINTMENTS,
    DOCTORS,
    PATIENTS,
    RowRepository,
)
from healthcare.adapters.sqlalchemy.rows import (
    CalendarFeedRow,
    EntityRow,
    WebhookAttemptRow,
    WebhookEndpointRow,
    WebhookMessageRow,
)
from healthcare.adapters.sqlalchemy.transaction import Transaction
from healthcare.adapters.sqlalchemy.types import UtcDateTime
from healthcare.application.ports import Page, PageRequest
from healthcare.domain.appointments import Status
from healthcare.domain.events import EVERY_EVENT, Event
from healthcare.domain.feeds import CalendarFeed, FeedEntry, FeedOwner
from healthcare.domain.webhooks import (
    AttemptLog,
    AttemptResult,
    Delivery,
    DeliveryStatus,
    WebhookEndpoint,
)

ENDPOINTS = WebhookEndpointRow.__table__
MESSAGES = WebhookMessageRow.__table__
ATTEMPTS = WebhookAttemptRow.__table__
FEEDS = CalendarFeedRow.__table__
#: Another appointment, seen from a correlated sub-query.
MOVED = APPOINTMENTS.alias("moved")


def _page_of(
    tx: Transaction,
    row_type: type[EntityRow[Any]],
    statement: Select[Any],
    values: dict[str, Any],
    request: PageRequest,
) -> Page[Any]:
    """A page of entities: ``statement`` selects the total (a window aggregate) and the row."""
    rows = tx.execute(
        statement, {**values, "page_limit": request.page_size, "page_offset": request.offset}
    ).all()
    total = rows[0][0] if rows else (0 if request.offset == 0 else None)
    if total is None:  # a page past the end has no row to carry the total
        total = tx.execute(counted(statement), values).scalar_one()
    items = [row_type.to_domain(SimpleNamespace(**row._mapping)) for row in rows]  # type: ignore[arg-type]
    return Page(items=items, total=total, request=request)


class SqlAlchemyWebhookEndpointRepository(RowRepository[WebhookEndpoint]):
    row_type = WebhookEndpointRow

    def list(self, page: PageRequest) -> Page[WebhookEndpoint]:
        return _page_of(self.tx, WebhookEndpointRow, ENDPOINT_PAGE, {}, page)

    def delete(self, endpoint_id: int) -> None:
        # The schema cascades to the outbox and the log too; said here where it happens.
        for owned in (MESSAGES, ATTEMPTS):
            self.tx.execute(delete(owned).where(owned.c.endpoint_id == endpoint_id))
        super().delete(endpoint_id)


class SqlAlchemyWebhookOutbox:
    """The outbox in ``webhook_messages``; each method is one statement (settle: two)."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def publish(self, event: Event) -> int:
        result = self.tx.execute(
            FAN_OUT,
            {
                "event_id": event.id,
                "event_type": str(event.type),
                "body": event.body(),
                "now": event.occurred_at,
                "subscribed": _like_json_string(str(event.type)),
                "every": _like_json_string(EVERY_EVENT),
            },
        )
        return result.rowcount  # type: ignore[attr-defined, no-any-return]

    def claim(
        self,
        now: datetime,
        lease_until: datetime,
        *,
        limit: int,
        per_endpoint: int,
        busy_endpoints: Sequence[int],
        claim: str,
    ) -> list[Delivery]:
        if limit < 1:
            return []
        rows = self.tx.execute(
            CLAIM,
            {
                "now": now,
                "lease_until": lease_until,
                "limit": limit,
                # Rows of an endpoint past its share are passed over this time; looking a
                # little further than ``limit`` finds other endpoints' rows behind them.
                "scan": limit * 4,
                "per_endpoint": per_endpoint,
                "busy": list(busy_endpoints),
                "claim": claim,
            },
        ).all()
        if not rows:
            return []
        # SQLite's RETURNING names only the updated table: the endpoints come in a second
        # statement, one row per endpoint.
        endpoints = {
            endpoint_id: (url, secret)
            for endpoint_id, url, secret in self.tx.execute(
                CLAIMED_ENDPOINTS,
                {"ids": sorted({row.endpoint_id for row in rows})},
            )
        }
        return sorted(
            (
                Delivery(
                    id=row.id,
                    endpoint_id=row.endpoint_id,
                    event_id=row.event_id,
                    event_type=row.event_type,
                    body=row.body,
                    attempt=row.attempts + 1,
                    url=endpoints[row.endpoint_id][0],
                    secret=endpoints[row.endpoint_id][1],
                )
                for row in rows
            ),
            key=lambda delivery: delivery.id,
        )

    def settle(
        self,
        delivery: Delivery,
        claim: str,
        result: AttemptResult,
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
    ) -> bool:
        settled = self.tx.execute(
            SETTLE,
            {
                "id_": delivery.id,
                "claim_": claim,
                "made": delivery.attempt - 1,
                "attempts": delivery.attempt,
                "status": status.value,
                "next_attempt_at": next_attempt_at,
            },
        )
        if settled.rowcount != 1:  # type: ignore[attr-defined]
            return False
        self.tx.execute(
            insert(ATTEMPTS),
            {
                "endpoint_id": delivery.endpoint_id,
                "event_id": delivery.event_id,
                "event_type": delivery.event_type,
                "attempt": delivery.attempt,
                "status_code": result.status_code,
                "error": result.error,
                "at": result.at,
                "next_attempt_at": next_attempt_at,
            },
        )
        return True

    def attempts(self, endpoint_id: int, page: PageRequest) -> Page[AttemptLog]:
        return _page_of(
            self.tx, WebhookAttemptRow, ATTEMPTS_OF_ENDPOINT, {"endpoint_id": endpoint_id}, page
        )

    def pending(self) -> int:
        return self.tx.execute(PENDING).scalar() or 0


def _settle_statement() -> Any:
    """The attempt's outcome, only if the row is still this claim's and at this attempt."""
    message = MESSAGES.c
    return (
        update(MESSAGES)
        .where(
            message.id == bindparam("id_"),
            message.claim == bindparam("claim_"),
            message.attempts == bindparam("made"),
            message.status == DeliveryStatus.PENDING.value,
        )
        .values(claim=None)
    )


def _like_json_string(text: str) -> str:
    """A LIKE pattern (escape character ``/``) matching ``text`` as a string in a JSON array."""
    quoted = json.dumps(text)
    for special in ("/", "%", "_"):
        quoted = quoted.replace(special, "/" + special)
    return f"%{quoted}%"


def _fan_out_statement() -> Insert:
    """INSERT … SELECT: one outbox row per active endpoint whose subscription names the event's
    type or ``*``. One round trip whatever the number of endpoints; no row when none listens."""
    endpoint = ENDPOINTS.c
    now = bindparam("now", type_=UtcDateTime())
    subscribers = select(
        endpoint.id,
        bindparam("event_id", type_=MESSAGES.c.event_id.type),
        bindparam("event_type", type_=MESSAGES.c.event_type.type),
        bindparam("body", type_=MESSAGES.c.body.type),
        now,
        literal(DeliveryStatus.PENDING.value),
        literal(0),
        now,
    ).where(
        endpoint.is_active.is_(True),
        or_(
            endpoint.events.like(bindparam("subscribed"), escape="/"),
            endpoint.events.like(bindparam("every"), escape="/"),
        ),
    )
    message = MESSAGES.c
    return insert(MESSAGES).from_select(
        [
            message.endpoint_id,
            message.event_id,
            message.event_type,
            message.body,
            message.created_at,
            message.status,
            message.attempts,
            message.next_attempt_at,
        ],
        subscribers,
    )


def _claim_statement() -> Any:
    """Lease due rows of active endpoints to one worker, at most ``per_endpoint`` per endpoint.

    PostgreSQL locks the candidate rows FOR UPDATE SKIP LOCKED, so concurrent workers each take
    different rows without waiting on one another; SQLite has one writer at a time anyway (the
    write transaction starts with BEGIN IMMEDIATE), and ignores the locking clause.
    """
    message, endpoint = MESSAGES.c, ENDPOINTS.c
    candidates = (
        select(message.id, message.endpoint_id, message.next_attempt_at)
        .where(
            message.status == DeliveryStatus.PENDING.value,
            message.next_attempt_at <= bindparam("now", type_=UtcDateTime()),
            message.endpoint_id.in_(select(endpoint.id).where(endpoint.is_active.is_(True))),
            message.endpoint_id.not_in(bindparam("busy", expanding=True)),
        )
        .order_by(message.next_attempt_at, message.id)
        .limit(bindparam("scan"))
        .with_for_update(skip_locked=True)
        .cte("candidates")
    )
    ranked = select(
        candidates.c.id,
        candidates.c.next_attempt_at,
        func.row_number()
        .over(
            partition_by=candidates.c.endpoint_id,
            order_by=(candidates.c.next_attempt_at, candidates.c.id),
        )
        .label("place"),
    ).cte("ranked")
    chosen = (
        select(ranked.c.id)
        .where(ranked.c.place <= bindparam("per_endpoint"))
        .order_by(ranked.c.next_attempt_at, ranked.c.id)
        .limit(bindparam("limit"))
    )
    return (
        update(MESSAGES)
        .where(message.id.in_(chosen))
        .values(
            next_attempt_at=bindparam("lease_until", type_=UtcDateTime()),
            claim=bindparam("claim"),
        )
        .returning(
            message.id,
            message.endpoint_id,
            message.event_id,
            message.event_type,
            message.body,
            message.attempts,
        )
    )


FAN_OUT = _fan_out_statement()
CLAIM = _claim_statement()
SETTLE = _settle_statement()
CLAIMED_ENDPOINTS = select(ENDPOINTS.c.id, ENDPOINTS.c.url, ENDPOINTS.c.secret).where(
    ENDPOINTS.c.id.in_(bindparam("ids", expanding=True))
)
PENDING = (
    select(func.count())
    .select_from(MESSAGES)
    .where(MESSAGES.c.status == DeliveryStatus.PENDING.value)
)
ENDPOINT_PAGE = paged(ENDPOINTS.columns, order_by=[ENDPOINTS.c.id])
ATTEMPTS_OF_ENDPOINT = paged(
    ATTEMPTS.columns,
    ATTEMPTS.c.endpoint_id == bindparam("endpoint_id"),
    order_by=[ATTEMPTS.c.id.desc()],
)
FEED_BY_DIGEST = select(*FEEDS.columns).where(FEEDS.c.token_digest == bindparam("digest"))
FEED_PAGE = paged(FEEDS.columns, given(FEEDS.c.owner_id, "owner_id"), order_by=[FEEDS.c.id])


def _feed_entries(owner: Any) -> Select[Any]:
    """The appointments of one doctor or patient starting in [start, end), with both names;
    not the copies reschedules leave behind."""
    booking = APPOINTMENTS.c
    return (
        select(
            booking.id,
            booking.start_at,
            booking.end_at,
            booking.status,
            booking.sequence,
            booking.updated_at,
            DOCTORS.c.name,
            PATIENTS.c.name,
        )
        .select_from(
            APPOINTMENTS.join(DOCTORS, DOCTORS.c.id == booking.doctor_id).join(
                PATIENTS, PATIENTS.c.id == booking.patient_id
            )
        )
        .where(
            owner == bindparam("owner"),
            booking.start_at >= bindparam("start"),
            booking.start_at < bindparam("end"),
            booking.hold_expires_at.is_(None),
            ~exists().where(  # IS NOT NULL: the partial index, as in read_model.py
                MOVED.c.rescheduled_from.is_not(None), MOVED.c.rescheduled_from == booking.id
            ),
        )
        .order_by(booking.start_at, booking.id)
    )


FEED_ENTRIES = {
    FeedOwner.DOCTOR: _feed_entries(APPOINTMENTS.c.doctor_id),
    FeedOwner.PATIENT: _feed_entries(APPOINTMENTS.c.patient_id),
}


class SqlAlchemyCalendarFeedRepository(RowRepository[CalendarFeed]):
    row_type = CalendarFeedRow

    def get_by_digest(self, token_digest: str) -> CalendarFeed | None:
        return self._first(FEED_BY_DIGEST, {"digest": token_digest})

    def list(self, page: PageRequest, owner_id: int | None = None) -> Page[CalendarFeed]:
        return _page_of(self.tx, CalendarFeedRow, FEED_PAGE, {"owner_id": owner_id}, page)

    def entries(
        self, kind: FeedOwner, profile_id: int, start: datetime, end: datetime
    ) -> list[FeedEntry]:
        rows = self.tx.execute(
            FEED_ENTRIES[kind], {"owner": profile_id, "start": start, "end": end}
        ).all()
        return [
            FeedEntry(
                appointment_id=row[0],
                start=row[1],
                end=row[2],
                status=Status(row[3]),
                sequence=row[4],
                updated_at=row[5],
                doctor_name=row[6],
                patient_name=row[7],
            )
            for row in rows
        ]
