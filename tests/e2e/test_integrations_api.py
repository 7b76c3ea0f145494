"""The integration resources over HTTP: webhook endpoints (admins), calendar feeds and the
feed URL itself, parsed back with the ``icalendar`` package."""

from __future__ import annotations

from icalendar import Calendar

from tests.e2e.conftest import Clinic, expect

HOOK = {"url": "http://127.0.0.1:9/hook", "events": ["appointment.booked"]}


def test_only_admins_see_or_manage_webhooks(clinic: Clinic):
    for role in ("doctor", "patient"):
        expect(clinic.caller(role).post("/api/webhooks/", HOOK), 403)
        expect(clinic.caller(role).get("/api/webhooks/"), 403)
    expect(clinic.anonymous.get("/api/webhooks/"), 401)


def test_the_secret_is_shown_on_create_and_rotate_only(clinic: Clinic):
    created = expect(clinic.admin.post("/api/webhooks/", {**HOOK, "description": "CRM"}), 201)
    assert set(created) == {"id", "url", "events", "description", "is_active", "created_at", "secret"}
    assert created["secret"].startswith("whsec_")
    read = expect(clinic.admin.get(f"/api/webhooks/{created['id']}/"), 200)
    listed = expect(clinic.admin.get("/api/webhooks/"), 200)
    assert "secret" not in read and all("secret" not in item for item in listed)
    rotated = expect(clinic.admin.post(f"/api/webhooks/{created['id']}/rotate-secret/"), 200)
    assert rotated["secret"] not in (None, created["secret"])


def test_a_webhook_is_changed_and_deleted(clinic: Clinic):
    created = expect(clinic.admin.post("/api/webhooks/", HOOK), 201)
    path = f"/api/webhooks/{created['id']}/"
    changed = expect(clinic.admin.patch(path, {"events": ["*"], "is_active": False}), 200)
    assert (changed["events"], changed["is_active"]) == (["*"], False)
    expect(clinic.admin.delete(path), 204)
    expect(clinic.admin.get(path), 404)
    expect(clinic.admin.get(f"{path}deliveries/"), 404)


def test_a_bad_webhook_is_a_clear_422(clinic: Clinic):
    for body in (
        {"url": "ftp://x.example/", "events": ["*"]},
        {"url": "https://x.example/", "events": []},
        {"url": "https://x.example/", "events": ["appointment.exploded"]},
        {"url": "https://x.example/", "events": ["*", "appointment.booked"]},
        {"url": "https://x.example/", "events": ["*"], "secret": "mine"},
        {"url": "https://no-such-host.invalid/", "events": ["*"]},
    ):
        expect(clinic.admin.post("/api/webhooks/", body), 422)
    assert expect(clinic.admin.get("/api/webhooks/"), 200) == []


def test_an_item_refused_in_a_list_is_named_by_its_dotted_path(clinic: Clinic):
    body = {"url": "https://x.example/", "events": ["appointment.booked", "appointment.exploded"]}
    refused = expect(clinic.admin.post("/api/webhooks/", body), 422)
    assert list(refused["errors"]) == ["events.1"]
    assert refused["errors"]["events.1"][0].startswith("Must be one of")


def test_a_feed_url_is_shown_once_and_serves_icalendar_without_a_token(clinic: Clinic):
    created = expect(clinic.patient.post("/api/calendar-feeds/"), 201)
    assert created["owner"] == clinic.patient.user_id
    assert created["url"].startswith("http://localhost/api/calendar/")
    listed = expect(clinic.patient.get("/api/calendar-feeds/"), 200)
    assert [(f["id"], f["url"]) for f in listed] == [(created["id"], None)]

    feed = clinic.anonymous.get(created["url"])
    assert feed.status_code == 200
    assert feed.headers["Content-Type"] == "text/calendar; charset=utf-8"
    (event,) = Calendar.from_ical(feed.data).walk("VEVENT")
    assert str(event["UID"]) == f"appointment-{clinic.appointment_id}@healthcare"
    assert str(event["STATUS"]) == "TENTATIVE" and str(event["SUMMARY"]) == "Appointment with Dr. Adams"
    assert event.decoded("DTSTART").isoformat() == "2030-01-08T09:00:00+00:00"

    again = clinic.anonymous.get(created["url"], headers={"If-None-Match": feed.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_a_change_changes_the_etag_and_raises_the_sequence(clinic: Clinic):
    url = expect(clinic.patient.post("/api/calendar-feeds/"), 201)["url"]
    before = clinic.anonymous.get(url)
    expect(clinic.doctor.post(f"/api/appointments/{clinic.appointment_id}/confirm/"), 200)
    after = clinic.anonymous.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    (event,) = Calendar.from_ical(after.data).walk("VEVENT")
    assert (int(event["SEQUENCE"]), str(event["STATUS"])) == (1, "CONFIRMED")


def test_a_doctors_feed_names_patients_not_reasons_and_is_audited(clinic: Clinic):
    expect(
        clinic.patient.patch(f"/api/appointments/{clinic.appointment_id}/", {"reason": "Palpitations"}),
        200,
    )
    url = expect(clinic.admin.post("/api/calendar-feeds/", {"doctor": clinic.doctor.doctor_id}), 201)["url"]
    feed = clinic.anonymous.get(url)
    assert b"Appointment: Pat Lee" in feed.data and b"Palpitations" not in feed.data
    trail = expect(clinic.admin.get("/api/audit-events/?resource=calendar_feed"), 200)
    assert [(e["actor"], e["action"]) for e in trail] == [(clinic.doctor.user_id, "read")]


def test_a_feed_of_another_role_or_person_is_refused(clinic: Clinic):
    expect(clinic.patient.post("/api/calendar-feeds/", {"doctor": clinic.doctor.doctor_id}), 403)
    expect(clinic.admin.post("/api/calendar-feeds/"), 422)
    expect(clinic.admin.post("/api/calendar-feeds/", {"doctor": 999}), 404)
    expect(clinic.anonymous.post("/api/calendar-feeds/"), 401)


def test_a_deleted_feed_answers_404_and_only_its_owner_deletes_it(clinic: Clinic):
    created = expect(clinic.patient.post("/api/calendar-feeds/"), 201)
    expect(clinic.other_patient.delete(f"/api/calendar-feeds/{created['id']}/"), 404)
    expect(clinic.patient.delete(f"/api/calendar-feeds/{created['id']}/"), 204)
    expect(clinic.anonymous.get(created["url"]), 404)
    expect(clinic.anonymous.get("/api/calendar/" + "x" * 500 + ".ics"), 404)
