"""Calendar feeds: secret URLs that calendar apps poll (SPEC section 9.2)."""

from __future__ import annotations

from dataclasses import dataclass

from healthcare.application.commands import CreateCalendarFeed
from healthcare.application.ports import Clock, Page, PageRequest
from healthcare.application.services.base import Service, found, not_found
from healthcare.application.unit_of_work import UnitOfWorkFactory
from healthcare.domain.actor import Actor
from healthcare.domain.audit import Action, Resource
from healthcare.domain.feeds import (
    CalendarFeed,
    FeedEvent,
    FeedOwner,
    feed_event,
    token_digest,
)
from healthcare.domain.policy import CLINIC_DEFAULTS, BookingPolicy
from healthcare.domain.users import Role

FEED = "Calendar feed"


@dataclass(frozen=True)
class IssuedFeed:
    """A new feed and its token, which is never shown again."""

    feed: CalendarFeed
    token: str


@dataclass(frozen=True)
class FeedContent:
    kind: FeedOwner
    events: list[FeedEvent]


class CalendarFeedService(Service):
    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, policy: BookingPolicy = CLINIC_DEFAULTS
    ) -> None:
        super().__init__(uow_factory, clock)
        #: The clinic's booking horizon bounds a patient's feed; a doctor's own, theirs.
        self.policy = policy

    def create(self, actor: Actor, command: CreateCalendarFeed) -> IssuedFeed:
        with self.uow_factory() as uow:
            doctor_user_id = None
            if actor.is_admin:
                if command.doctor_id is not None:
                    doctor_user_id = found(uow.doctors.get(command.doctor_id), "Doctor").user_id
            feed, token = CalendarFeed.issue(
                actor, self.clock.now(), doctor_id=command.doctor_id, doctor_user_id=doctor_user_id
            )
            feed = uow.calendar_feeds.add(feed)
            uow.commit()
        return IssuedFeed(feed, token)

    def list(self, actor: Actor, page: PageRequest) -> Page[CalendarFeed]:
        """The caller's own feeds; an admin's, every feed."""
        owner = None if actor.is_admin else actor.user_id
        with self.uow_factory().read_only() as uow:
            return uow.calendar_feeds.list(page, owner)

    def get(self, actor: Actor, feed_id: int) -> CalendarFeed:
        """Its owner's, or any for an admin; without the URL, which is not kept."""
        with self.uow_factory().read_only() as uow:
            return self._visible(uow.calendar_feeds.get(feed_id), actor)

    def delete(self, actor: Actor, feed_id: int) -> None:
        """Its URL answers 404 from now on."""
        with self.uow_factory() as uow:
            self._visible(uow.calendar_feeds.get(feed_id), actor)
            uow.calendar_feeds.delete(feed_id)
            uow.commit()

    def content(self, token: str) -> FeedContent:
        """What the feed with this token shows now. A doctor's feed names patients, so each
        fetch is audited, in the fetch's own transaction, as the doctor reading it."""
        now = self.clock.now()
        with self.uow_factory() as uow:
            feed = uow.calendar_feeds.get_by_digest(token_digest(token))
            if feed is None:
                raise not_found(FEED)
            policy = self.policy
            if feed.kind is FeedOwner.DOCTOR:
                doctor = found(uow.doctors.get(feed.profile_id), "Doctor")
                policy = doctor.policy.over(self.policy)
            start, end = feed.window(now, policy.horizon)
            entries = uow.calendar_feeds.entries(feed.kind, feed.profile_id, start, end)
            if feed.kind is FeedOwner.DOCTOR:
                owner = Actor(user_id=feed.owner_id, role=Role.DOCTOR, doctor_id=feed.profile_id)
                self.audit(uow, owner, Action.READ, Resource.CALENDAR_FEED, [(feed.id, None)])
                uow.commit()
        return FeedContent(feed.kind, [feed_event(entry, feed.kind) for entry in entries])

    @staticmethod
    def _visible(feed: CalendarFeed | None, actor: Actor) -> CalendarFeed:
        if feed is None or not feed.visible_to(actor):
            raise not_found(FEED)
        return feed
