"""Calendar feeds: secret URLs a calendar app subscribes to (SPEC section 9.2)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Response, current_app, request, url_for
from flask.views import MethodView

from healthcare.application.commands import CreateCalendarFeed
from healthcare.application.read_model import calendar_feed_view
from healthcare.application.services.feeds import CalendarFeedService, IssuedFeed
from healthcare.domain.errors import NotFound
from healthcare.domain.feeds import FeedOwner
from healthcare.entrypoints.api.encoding import answer
from healthcare.entrypoints.api.ics import calendar_text
from healthcare.entrypoints.api.routing import (
    LIST_HEADERS,
    PUBLIC,
    documents,
    page_request,
    paginated,
    resource,
)
from healthcare.entrypoints.api.schemas.common import ListQuery
from healthcare.entrypoints.api.schemas.feeds import CalendarFeedIn, CalendarFeedOut
from healthcare.entrypoints.api.security import current_actor, roles, signed_in

blp = resource(
    "calendar-feeds",
    "/api/calendar-feeds",
    "Calendar feeds: a secret URL per doctor or patient that calendar apps subscribe to. The "
    "URL is shown once, when the feed is made; delete the feed to revoke it.",
)
feed_blp = resource(
    "calendar", "/api/calendar", "The feeds themselves, as iCalendar; the URL's token is the key."
)

SERVICE = "calendar_feed_service"
#: A token is 43 characters; anything much longer is not one, and is not hashed.
TOKEN_MAX = 100
NAMES = {FeedOwner.DOCTOR: "Clinic appointments (doctor)", FeedOwner.PATIENT: "My appointments"}


@blp.route("/")
class CalendarFeeds(MethodView):
    @signed_in
    @blp.doc(operationId="listCalendarFeeds")
    @blp.arguments(ListQuery, location="query")
    @blp.response(200, CalendarFeedOut(many=True), headers=LIST_HEADERS)
    @documents(blp, 401)
    @inject
    def get(self, args: dict[str, Any], feeds: CalendarFeedService = Provide[SERVICE]) -> Response:
        """List the caller's calendar feeds (admins: all); their URLs are not shown again"""
        found = feeds.list(current_actor(), page_request(args))
        return paginated(replace(found, items=[calendar_feed_view(f) for f in found.items]))

    @roles("doctor", "patient", "admin")
    @blp.doc(operationId="createCalendarFeed")
    @blp.arguments(CalendarFeedIn, required=False, example={})
    @blp.response(201, CalendarFeedOut)
    @documents(blp, 401, 403, 404, 422)
    @inject
    def post(self, body: dict[str, Any], feeds: CalendarFeedService = Provide[SERVICE]) -> Response:
        """Make a calendar feed (a doctor or patient: their own; an admin: a doctor's); the
        answer shows its secret URL, once"""
        issued: IssuedFeed = feeds.create(current_actor(), CreateCalendarFeed(**body))
        url = url_for("calendar.Feed", token=issued.token, _external=True)
        return answer(calendar_feed_view(issued.feed, url), 201)


@blp.route("/<id:feed_id>/")
class CalendarFeedItem(MethodView):
    @signed_in
    @blp.doc(operationId="getCalendarFeed")
    @blp.response(200, CalendarFeedOut)
    @documents(blp, 401, 404)
    @inject
    def get(self, feed_id: int, feeds: CalendarFeedService = Provide[SERVICE]) -> Response:
        """Read a calendar feed (its owner, or an admin); its URL is not shown again"""
        return answer(calendar_feed_view(feeds.get(current_actor(), feed_id)))

    @signed_in
    @blp.doc(operationId="deleteCalendarFeed")
    @blp.response(204)
    @documents(blp, 401, 404)
    @inject
    def delete(self, feed_id: int, feeds: CalendarFeedService = Provide[SERVICE]) -> Response:
        """Delete a calendar feed: its URL answers 404 from now on"""
        feeds.delete(current_actor(), feed_id)
        return current_app.response_class(status=204)


@feed_blp.route("/<string:token>.ics")
class Feed(MethodView):
    @feed_blp.doc(
        operationId="getCalendarFeedContent",
        security=PUBLIC,
        responses={
            "200": {
                "description": "The feed, as iCalendar; with an ETag.",
                "content": {"text/calendar": {"schema": {"type": "string"}}},
            },
            "304": {"description": "Unchanged since the ETag sent in If-None-Match."},
        },
    )
    @documents(feed_blp, 404)
    @inject
    def get(self, token: str, feeds: CalendarFeedService = Provide[SERVICE]) -> Response:
        """The feed's appointments from 30 days ago to the booking horizon (no Authorization:
        the token in the URL is the key)"""
        if len(token) > TOKEN_MAX:
            raise NotFound("Calendar feed not found.")
        content = feeds.content(token)
        body = calendar_text(content.events, NAMES[content.kind])
        response = current_app.response_class(body, mimetype="text/calendar")
        response.set_etag(hashlib.sha256(body).hexdigest())
        # Calendar apps keep the feed, but must ask again (If-None-Match) before using it.
        response.headers["Cache-Control"] = "private, no-cache"
        return response.make_conditional(request)
