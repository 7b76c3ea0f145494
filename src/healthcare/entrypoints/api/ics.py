"""iCalendar (RFC 5545) text of a calendar feed, written by the ``icalendar`` package."""

from __future__ import annotations

from collections.abc import Iterable

from icalendar import Calendar, Event

from healthcare.domain.feeds import FeedEvent

PRODUCT = "-//Healthcare//Appointment feed//EN"


def calendar_text(events: Iterable[FeedEvent], name: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for feed_event in events:
        event = Event()
        event.add("uid", feed_event.uid)
        event.add("dtstamp", feed_event.stamp)
        event.add("dtstart", feed_event.start)
        event.add("dtend", feed_event.end)
        event.add("sequence", feed_event.sequence)
        event.add("status", feed_event.status)
        event.add("summary", feed_event.summary)
        calendar.add_component(event)
    return calendar.to_ical()
