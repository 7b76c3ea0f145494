"""iCalendar (RFC 5545) text of a calendar feed, written by the ``icalendar`` package.

Each VEVENT is rendered once per version of its appointment and kept (an LRU cache keyed by
the whole ``FeedEvent``, so any change, which raises SEQUENCE, renders anew). Calendar apps
poll the same feeds over and over and most appointments have not changed since the last
poll; rendering 500 events cold costs about 150 ms of CPU in icalendar 7 (it folds lines one
character at a time), from the cache a few. A calendar's text is its own lines with its
components' texts before ``END:VCALENDAR``, which is how the cached events are put in.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from icalendar import Calendar, Event

from healthcare.domain.feeds import FeedEvent

PRODUCT = "-//Healthcare//Appointment feed//EN"
END = b"END:VCALENDAR\r\n"
#: About 300 bytes each: a few megabytes for thousands of feeds' worth of appointments.
CACHED_EVENTS = 20_000


def calendar_text(events: Iterable[FeedEvent], name: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    empty = calendar.to_ical()
    assert empty.endswith(END)
    return empty[: -len(END)] + b"".join(vevent_text(event) for event in events) + END


@lru_cache(maxsize=CACHED_EVENTS)
def vevent_text(feed_event: FeedEvent) -> bytes:
    event = Event()
    event.add("uid", feed_event.uid)
    event.add("dtstamp", feed_event.stamp)
    event.add("dtstart", feed_event.start)
    event.add("dtend", feed_event.end)
    event.add("sequence", feed_event.sequence)
    event.add("status", feed_event.status)
    event.add("summary", feed_event.summary)
    return event.to_ical()  # type: ignore[no-any-return]
