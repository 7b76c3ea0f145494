"""The FHIR interface's reads over HTTP, per role, on SQLite and PostgreSQL: what each caller
sees (a resource out of their scope is 404, as in the REST API), the audit of patient data,
searches and their paging, the CapabilityStatement, and errors as OperationOutcome.

Every answer is validated with the ``fhir.resources`` R4B models (``tests.support.fhir``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask

from tests.e2e.conftest import FIRST_SLOT, Caller, Clinic, expect
from tests.support.fhir import BASE, diagnostics, entries, expect_fhir, link

#: SPEC 9.3, exactly.
INTERACTIONS = {
    "Practitioner": {"read", "search-type"},
    "Patient": {"read", "search-type"},
    "Schedule": {"read", "search-type"},
    "Slot": {"search-type"},
    "Appointment": {"read", "search-type", "create", "patch"},
}
SEARCH_PARAMETERS = {
    "Practitioner": {"name"},
    "Patient": {"name"},
    "Schedule": {"actor"},
    "Slot": {"schedule", "start", "status"},
    "Appointment": {"patient", "practitioner", "date", "status"},
}
#: Tomorrow, around Dr. Adams's window (09:00-12:00 UTC; Pat holds 09:00).
DAY = "start=ge2030-01-08T00:00:00Z&start=lt2030-01-09T00:00:00Z"


def search(caller: Caller, query: str) -> dict[str, Any]:
    return expect_fhir(caller.get(f"{BASE}/{query}"), 200, "Bundle")  # type: ignore[no-any-return]


def ids(bundle: dict[str, Any]) -> list[str]:
    return [resource["id"] for resource in entries(bundle)]


# -- the CapabilityStatement -------------------------------------------------------------------


def test_the_capability_statement_lists_exactly_what_is_served_to_anyone(
    app: Flask, clinic: Clinic
) -> None:
    statement = expect_fhir(clinic.anonymous.get(f"{BASE}/metadata"), 200, "CapabilityStatement")
    (rest,) = statement["rest"]
    listed = {r["type"]: {i["code"] for i in r["interaction"]} for r in rest["resource"]}
    parameters = {r["type"]: {p["name"] for p in r.get("searchParam", [])} for r in rest["resource"]}
    assert listed == INTERACTIONS
    assert parameters == SEARCH_PARAMETERS
    assert statement["fhirVersion"].startswith("4.0")
    # ... and exactly those have a route: the interface's rules, as Flask serves them.
    served = {
        (rule.rule.removeprefix(BASE + "/").split("/")[0], method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(BASE + "/") and rule.endpoint != "fhir.metadata"
        for method in rule.methods - {"HEAD", "OPTIONS"}  # type: ignore[operator]
    }
    method_of = {"read": "GET", "search-type": "GET", "create": "POST", "patch": "PATCH"}
    assert served == {
        (resource, method_of[code]) for resource, codes in INTERACTIONS.items() for code in codes
    }


def test_an_interaction_not_in_the_statement_is_refused_as_an_operation_outcome(
    clinic: Clinic,
) -> None:
    admin = clinic.admin
    expect_fhir(admin.delete(f"{BASE}/Appointment/{clinic.appointment_id}"), 405)
    refused = admin.request("PUT", f"{BASE}/Patient/{clinic.patient.patient_id}", json={})
    assert "PUT" not in expect_fhir_allow(refused)
    expect_fhir(admin.post(f"{BASE}/Patient", {"resourceType": "Patient"}), 405)
    expect_fhir(admin.get(f"{BASE}/Slot/1-20300108T093000"), 404)  # slots are searched only
    expect_fhir(admin.get(f"{BASE}/Encounter"), 404)
    expect_fhir(admin.get(f"{BASE}/Patient/not-a-number"), 404)


def expect_fhir_allow(response: Any) -> str:
    outcome = expect_fhir(response, 405)
    assert outcome["issue"][0]["code"] == "not-supported"
    return str(response.headers["Allow"])


# -- tokens -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["Practitioner", "Patient/1", "Schedule", "Slot?" + DAY, "Appointment", "Appointment/1"],
)
def test_every_interaction_but_the_statement_needs_a_token_and_says_so_in_fhir(
    clinic: Clinic, path: str
) -> None:
    for caller in (clinic.anonymous, Caller(clinic.client, "not.a.token")):
        outcome = expect_fhir(caller.get(f"{BASE}/{path}"), 401)
        assert outcome["issue"][0]["code"] == "login"
    # The REST API keeps its own error body for the same failure.
    expect(clinic.anonymous.get("/api/patients/"), 401)


def test_a_revoked_token_is_refused_on_the_fhir_paths_too(clinic: Clinic) -> None:
    expect(clinic.patient.post("/api/auth/logout/"), 204)
    outcome = expect_fhir(clinic.patient.get(f"{BASE}/Patient/{clinic.patient.patient_id}"), 401)
    assert "revoked" in diagnostics(outcome)


# -- practitioners and schedules (everyone signed in) -------------------------------------------


@pytest.mark.parametrize("role", ["admin", "doctor", "other_doctor", "patient", "other_patient"])
def test_every_role_reads_practitioners_and_finds_them_by_part_of_their_name(
    clinic: Clinic, role: str
) -> None:
    caller = clinic.caller(role)
    adams = expect_fhir(
        caller.get(f"{BASE}/Practitioner/{clinic.doctor.doctor_id}"), 200, "Practitioner"
    )
    assert adams["name"] == [{"text": "Dr. Adams"}]
    assert adams["qualification"] == [{"code": {"text": "Cardiology"}}]
    assert ids(search(caller, "Practitioner?name=aDaMs")) == [str(clinic.doctor.doctor_id)]
    assert search(caller, "Practitioner?name=dr.")["total"] == 2
    assert search(caller, "Practitioner?name=nobody")["total"] == 0
    expect_fhir(caller.get(f"{BASE}/Practitioner/999"), 404)


def test_a_schedule_is_the_doctors_with_the_booking_horizon(clinic: Clinic) -> None:
    doctor_id = clinic.doctor.doctor_id
    schedule = expect_fhir(clinic.patient.get(f"{BASE}/Schedule/{doctor_id}"), 200, "Schedule")
    assert schedule["actor"][0]["reference"] == f"Practitioner/{doctor_id}"
    # The clock stands at 2030-01-07 08:00 UTC; patients book up to 90 days ahead.
    assert schedule["planningHorizon"] == {
        "start": "2030-01-07T08:00:00Z",
        "end": "2030-04-07T08:00:00Z",
    }
    found = search(clinic.patient, f"Schedule?actor=Practitioner/{doctor_id}")
    assert entries(found) == [schedule]
    assert search(clinic.patient, "Schedule")["total"] == 2
    assert search(clinic.patient, "Schedule?actor=Practitioner/999")["total"] == 0


# -- patients: scoped and audited ----------------------------------------------------------------


def test_a_patient_reads_and_finds_only_themself(clinic: Clinic) -> None:
    own = expect_fhir(clinic.patient.get(f"{BASE}/Patient/{clinic.patient.patient_id}"), 200)
    assert own["name"] == [{"text": "Pat Lee"}]
    assert {"system": "email", "value": "pat@example.test"} in own["telecom"]
    outcome = expect_fhir(
        clinic.patient.get(f"{BASE}/Patient/{clinic.other_patient.patient_id}"), 404
    )
    assert outcome["issue"][0]["code"] == "not-found"
    assert entries(search(clinic.patient, "Patient")) == [own]
    assert search(clinic.patient, "Patient?name=olive")["total"] == 0


def test_a_doctor_sees_only_the_patients_they_treat(clinic: Clinic) -> None:
    pat, olive = clinic.patient.patient_id, clinic.other_patient.patient_id
    assert ids(search(clinic.doctor, "Patient")) == [str(pat)]
    expect_fhir(clinic.doctor.get(f"{BASE}/Patient/{pat}"), 200, "Patient")
    expect_fhir(clinic.doctor.get(f"{BASE}/Patient/{olive}"), 404)
    assert search(clinic.other_doctor, "Patient")["total"] == 0
    expect_fhir(clinic.other_doctor.get(f"{BASE}/Patient/{pat}"), 404)
    assert ids(search(clinic.admin, "Patient?name=LEE")) == [str(pat)]
    assert search(clinic.admin, "Patient")["total"] == 2


def test_the_patient_resource_carries_the_insurance_id_and_birth_date(clinic: Clinic) -> None:
    patient_id = clinic.patient.patient_id
    changes = {"insurance_id": "INS-77", "date_of_birth": "1990-05-17", "phone": "+1 555 0199"}
    expect(clinic.admin.patch(f"/api/patients/{patient_id}/", changes), 200)
    patient = expect_fhir(clinic.admin.get(f"{BASE}/Patient/{patient_id}"), 200, "Patient")
    assert patient["identifier"][0]["value"] == "INS-77"
    assert patient["identifier"][0]["type"]["coding"][0]["code"] == "MB"
    assert patient["birthDate"] == "1990-05-17"
    assert {"system": "phone", "value": "+1 555 0199"} in patient["telecom"]


def new_audit_events(admin: Caller, seen: int) -> list[dict[str, Any]]:
    """The audit events written since there were ``seen`` of them, oldest first, without
    their ids and times."""
    events = expect(admin.get("/api/audit-events/?page_size=100"), 200)
    fresh = list(reversed(events))[seen:]
    return [{k: v for k, v in e.items() if k not in ("id", "at")} for e in fresh]


def test_fhir_reads_of_patients_are_audited_exactly_as_the_rest_reads_are(
    clinic: Clinic,
) -> None:
    pat, olive = clinic.patient.patient_id, clinic.other_patient.patient_id
    pairs = [  # (caller, REST path, FHIR path): the same read through both interfaces
        (clinic.patient, f"/api/patients/{pat}/", f"{BASE}/Patient/{pat}"),
        (clinic.patient, f"/api/patients/{olive}/", f"{BASE}/Patient/{olive}"),  # denied
        (clinic.doctor, "/api/patients/", f"{BASE}/Patient"),
        (clinic.other_doctor, "/api/patients/", f"{BASE}/Patient"),  # an empty list
        (clinic.admin, "/api/patients/", f"{BASE}/Patient"),
    ]
    for caller, rest_path, fhir_path in pairs:
        seen = len(expect(clinic.admin.get("/api/audit-events/?page_size=100"), 200))
        caller.get(rest_path)
        by_rest = new_audit_events(clinic.admin, seen)
        caller.get(fhir_path)
        by_fhir = new_audit_events(clinic.admin, seen + len(by_rest))
        assert by_fhir == by_rest and by_fhir, (fhir_path, by_rest, by_fhir)
    denied = [e for e in new_audit_events(clinic.admin, 0) if e["outcome"] == "denied"]
    assert {(e["actor"], e["resource_id"]) for e in denied} == {(clinic.patient.user_id, olive)}


# -- appointments -------------------------------------------------------------------------------


def test_each_role_reads_and_finds_only_its_own_appointments(clinic: Clinic) -> None:
    booked = str(clinic.appointment_id)
    path = f"{BASE}/Appointment/{booked}"
    for role in ("admin", "doctor", "patient"):
        appointment = expect_fhir(clinic.caller(role).get(path), 200, "Appointment")
        assert ids(search(clinic.caller(role), "Appointment")) == [booked]
    for role in ("other_doctor", "other_patient"):
        expect_fhir(clinic.caller(role).get(path), 404)
        assert search(clinic.caller(role), "Appointment")["total"] == 0
    assert appointment["status"] == "proposed"
    assert appointment["start"] == FIRST_SLOT
    assert {p["actor"]["reference"] for p in appointment["participant"]} == {
        f"Patient/{clinic.patient.patient_id}",
        f"Practitioner/{clinic.doctor.doctor_id}",
    }
    # Another patient's appointments stay out of reach even when asked for by name.
    asked = f"Appointment?patient=Patient/{clinic.patient.patient_id}"
    assert search(clinic.other_patient, asked)["total"] == 0


def test_appointments_are_searched_by_patient_practitioner_date_and_status(
    clinic: Clinic,
) -> None:
    admin, booked = clinic.admin, [str(clinic.appointment_id)]
    assert ids(search(admin, f"Appointment?patient={clinic.patient.patient_id}")) == booked
    assert ids(search(admin, f"Appointment?practitioner=Practitioner/{clinic.doctor.doctor_id}")) == booked
    assert search(admin, f"Appointment?practitioner={clinic.other_doctor.doctor_id}")["total"] == 0
    assert ids(search(admin, "Appointment?date=ge2030-01-08&date=lt2030-01-09")) == booked
    assert ids(search(admin, "Appointment?date=ge2030-01-08T09:00:00%2B00:00")) == booked
    assert search(admin, "Appointment?date=ge2030-01-08T09:00:01Z")["total"] == 0
    assert search(admin, "Appointment?date=lt2030-01-08T09:00:00Z")["total"] == 0
    assert ids(search(admin, "Appointment?status=proposed")) == booked
    assert search(admin, "Appointment?status=booked")["total"] == 0
    assert search(admin, "Appointment?status=arrived")["total"] == 0  # FHIR's, never ours
    expect(clinic.doctor.post(f"/api/appointments/{clinic.appointment_id}/confirm/"), 200)
    assert ids(search(admin, "Appointment?status=booked")) == booked


def test_search_pages_follow_the_next_link_to_the_end(clinic: Clinic) -> None:
    query = f"Slot?schedule=Schedule/{clinic.doctor.doctor_id}&{DAY}&status=free&_count=2"
    seen: list[str] = []
    page = search(clinic.patient, query)
    while True:
        seen.extend(ids(page))
        assert page["total"] == 5  # 09:30 to 11:30: Pat holds 09:00
        following = link(page, "next")
        if following is None:
            break
        parts = urlsplit(following)
        assert parts.path == f"{BASE}/Slot" and "_count=2" in parts.query
        page = search(clinic.patient, f"Slot?{parts.query}")
    assert len(seen) == len(set(seen)) == 5
    assert link(page, "self") is not None


# -- free slots -------------------------------------------------------------------------------


def test_slots_are_the_slot_searchs_free_slots(clinic: Clinic) -> None:
    doctor_id = clinic.doctor.doctor_id
    query = f"Slot?schedule=Schedule/{doctor_id}&{DAY}"
    slots = entries(search(clinic.other_patient, query))
    rest = expect(
        clinic.other_patient.get(
            f"/api/doctors/{doctor_id}/slots/?start=2030-01-08T00:00:00Z&end=2030-01-09T00:00:00Z"
        ),
        200,
    )
    assert [(s["start"], s["end"]) for s in slots] == [(s["start"], s["end"]) for s in rest]
    assert len(slots) == 5  # 09:00 is taken
    assert {s["status"] for s in slots} == {"free"}
    assert {s["schedule"]["reference"] for s in slots} == {f"Schedule/{doctor_id}"}
    everyone = search(clinic.other_patient, f"Slot?{DAY}")
    assert everyone["total"] == 5  # Dr. Baker has no hours
    assert search(clinic.patient, f"Slot?schedule=Schedule/999&{DAY}")["total"] == 0


def test_a_slot_search_over_more_than_31_days_is_refused_like_the_rest_one(
    clinic: Clinic,
) -> None:
    long = "start=ge2030-01-08&start=lt2030-03-01"
    expect_fhir(clinic.patient.get(f"{BASE}/Slot?schedule={clinic.doctor.doctor_id}&{long}"), 422)


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("Slot?schedule=Schedule/1", "start"),  # the range is required
        ("Slot?start=ge2030-01-08", "start"),  # both of its ends
        ("Slot?start=gt2030-01-08&start=lt2030-01-09", "start"),  # ge and lt only
        (f"Slot?{DAY}&status=busy", "status"),
        (f"Slot?{DAY}&schedule=Practitioner/1", "schedule"),
        ("Slot?start=ge2030-01-08T09:00:00&start=lt2030-01-09", "start"),  # no offset
        ("Slot?start=ge2030-02-30&start=lt2030-03-09", "start"),
        (f"Slot?{DAY}&_count=0", "_count"),
        (f"Slot?{DAY}&page=x", "page"),
        ("Appointment?date=2030-01-08", "date"),
        ("Appointment?status=pending,booked", "status"),
        ("Appointment?patient=1&patient=2", "patient"),
        ("Patient?name=", "name"),
    ],
)
def test_an_invalid_search_value_is_400_naming_the_parameter(
    clinic: Clinic, query: str, named: str
) -> None:
    outcome = expect_fhir(clinic.admin.get(f"{BASE}/{query}"), 400)
    assert f"{named}:" in diagnostics(outcome)


@pytest.mark.parametrize(
    ("query", "unknown"),
    [
        ("Patient?family=Lee", ["family"]),
        ("Practitioner?name=x&_sort=name&_format=json", ["_sort", "_format"]),
        ("Appointment?doctor=1", ["doctor"]),
        ("Schedule?name:contains=x", ["name:contains"]),
    ],
)
def test_an_unknown_search_parameter_is_400_naming_it_never_ignored(
    clinic: Clinic, query: str, unknown: list[str]
) -> None:
    outcome = expect_fhir(clinic.admin.get(f"{BASE}/{query}"), 400)
    assert outcome["issue"][0]["diagnostics"].startswith("Unknown search parameter")
    for name in unknown:
        assert f"{name}: Unknown search parameter" in diagnostics(outcome)


def test_count_is_at_most_a_hundred(clinic: Clinic) -> None:
    found = search(clinic.admin, "Practitioner?_count=500")
    assert "_count=100" in str(link(found, "self"))
    assert found["total"] == 2 and len(entries(found)) == 2
