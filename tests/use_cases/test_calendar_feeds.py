"""Calendar feeds on every storage backend: whose appointments, what they say, and audit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from healthcare.application.commands import BookAppointment, CreateCalendarFeed
from healthcare.application.ports import PageRequest
from healthcare.application.services.feeds import CalendarFeedService
from healthcare.domain.appointments import Appointment
from healthcare.domain.audit import Resource
from healthcare.domain.errors import NotFound
from tests.use_cases.clinic import TEST_POLICY, Clinic, Services, at, reschedule

WIDE = PageRequest(page_size=100)


@pytest.fixture
def feeds(uow_factory, clock) -> CalendarFeedService:
    return CalendarFeedService(uow_factory, clock, TEST_POLICY)


def test_a_patients_feed_shows_their_appointments_only(
    feeds: CalendarFeedService, services: Services, clinic: Clinic, booked: Appointment
):
    services.appointments.book(
        clinic.other_patient, BookAppointment(doctor_id=clinic.doctor.doctor_id, start=at(11))
    )
    issued = feeds.create(clinic.patient, CreateCalendarFeed())
    content = feeds.content(issued.token)
    assert [e.uid for e in content.events] == [f"appointment-{booked.id}@healthcare"]
    assert content.events[0].summary == "Appointment with Dr. Ada Lovelace"


def test_a_doctors_feed_names_the_patients_and_each_fetch_is_audited(
    feeds: CalendarFeedService, services: Services, clinic: Clinic, booked: Appointment
):
    issued = feeds.create(clinic.admin, CreateCalendarFeed(doctor_id=clinic.doctor.doctor_id))
    assert issued.feed.owner_id == clinic.doctor.user_id
    for _ in range(2):
        assert [e.summary for e in feeds.content(issued.token).events] == ["Appointment: Pat Doe"]
    trail = services.audit_trail(resource=Resource.CALENDAR_FEED)
    assert [(e["actor"], e["resource_id"]) for e in trail] == [(clinic.doctor.user_id, issued.feed.id)] * 2


def test_a_reschedule_keeps_the_uid_raises_the_sequence_and_leaves_no_copy_in_the_feed(
    feeds: CalendarFeedService, services: Services, clinic: Clinic, booked: Appointment
):
    issued = feeds.create(clinic.patient, CreateCalendarFeed())
    (before,) = feeds.content(issued.token).events
    reschedule(services, clinic.patient, booked.id, at(11))
    services.appointments.confirm(clinic.doctor, booked.id)
    (after,) = feeds.content(issued.token).events
    assert after.uid == before.uid and after.start == at(11)
    assert (before.sequence, after.sequence) == (0, 2)
    assert (before.status, after.status) == ("TENTATIVE", "CONFIRMED")


def test_a_feed_shows_thirty_days_back_to_the_horizon(
    feeds: CalendarFeedService, clinic: Clinic, booked: Appointment, clock
):
    issued = feeds.create(clinic.patient, CreateCalendarFeed())
    clock.advance(timedelta(days=31))
    assert feeds.content(issued.token).events == []


def test_a_deleted_feed_or_a_wrong_token_is_not_found(
    feeds: CalendarFeedService, clinic: Clinic
):
    issued = feeds.create(clinic.patient, CreateCalendarFeed())
    with pytest.raises(NotFound):
        feeds.content(issued.token[:-1])
    with pytest.raises(NotFound):
        feeds.delete(clinic.other_patient, issued.feed.id)
    feeds.delete(clinic.patient, issued.feed.id)
    with pytest.raises(NotFound):
        feeds.content(issued.token)


def test_each_caller_lists_their_own_feeds_and_an_admin_all(
    feeds: CalendarFeedService, clinic: Clinic
):
    mine = feeds.create(clinic.patient, CreateCalendarFeed()).feed
    doctors = feeds.create(clinic.doctor, CreateCalendarFeed()).feed
    assert [f.id for f in feeds.list(clinic.patient, WIDE).items] == [mine.id]
    assert [f.id for f in feeds.list(clinic.other_patient, WIDE).items] == []
    assert {f.id for f in feeds.list(clinic.admin, WIDE).items} == {mine.id, doctors.id}
