"""Calendar feeds: who may have one, what its events say, and the token kept only as a hash."""

from __future__ import annotations

import pytest

from healthcare.domain.actor import Actor
from healthcare.domain.appointments import Status
from healthcare.domain.errors import InvalidInput, PermissionDenied
from healthcare.domain.feeds import (
    CalendarFeed,
    FeedEntry,
    FeedOwner,
    feed_event,
    token_digest,
)
from healthcare.domain.users import Role
from tests.conftest import NOW

DOCTOR = Actor(user_id=2, role=Role.DOCTOR, doctor_id=7)
PATIENT = Actor(user_id=3, role=Role.PATIENT, patient_id=9)
ADMIN = Actor(user_id=1, role=Role.ADMIN)


def entry(status: Status) -> FeedEntry:
    return FeedEntry(
        appointment_id=41, start=NOW, end=NOW, status=status, sequence=3, updated_at=NOW,
        doctor_name="Dr. Ada", patient_name="Pat Doe",
    )


def test_a_token_has_256_random_bits_and_only_its_digest_is_kept():
    feed, token = CalendarFeed.issue(PATIENT, NOW)
    assert len(token) >= 43 and token not in feed.token_digest
    assert feed.token_digest == token_digest(token)
    assert CalendarFeed.issue(PATIENT, NOW)[1] != token


def test_a_doctor_or_a_patient_gets_a_feed_of_their_own():
    assert CalendarFeed.issue(DOCTOR, NOW)[0].kind is FeedOwner.DOCTOR
    patient_feed = CalendarFeed.issue(PATIENT, NOW)[0]
    assert (patient_feed.kind, patient_feed.profile_id, patient_feed.owner_id) == (FeedOwner.PATIENT, 9, 3)


def test_only_an_admin_makes_a_feed_for_a_doctor_and_must_name_one():
    feed = CalendarFeed.issue(ADMIN, NOW, doctor_id=7, doctor_user_id=2)[0]
    assert (feed.owner_id, feed.profile_id) == (2, 7)
    with pytest.raises(InvalidInput):
        CalendarFeed.issue(ADMIN, NOW)
    with pytest.raises(PermissionDenied):
        CalendarFeed.issue(PATIENT, NOW, doctor_id=7)


@pytest.mark.parametrize(
    ("status", "ical"),
    [(Status.PENDING, "TENTATIVE"), (Status.CONFIRMED, "CONFIRMED"), (Status.COMPLETED, "CONFIRMED"),
     (Status.CANCELLED, "CANCELLED"), (Status.NO_SHOW, "CANCELLED")],
)
def test_each_status_has_its_icalendar_status(status, ical):
    assert feed_event(entry(status), FeedOwner.PATIENT).status == ical


def test_the_summary_names_the_other_party_and_the_uid_is_the_appointments():
    for_patient = feed_event(entry(Status.PENDING), FeedOwner.PATIENT)
    for_doctor = feed_event(entry(Status.PENDING), FeedOwner.DOCTOR)
    assert for_patient.summary == "Appointment with Dr. Ada"
    assert for_doctor.summary == "Appointment: Pat Doe"
    assert for_patient.uid == for_doctor.uid == "appointment-41@healthcare"
    assert for_doctor.sequence == 3
