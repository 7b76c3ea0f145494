"""Object-level authorization (OWASP API1), generated from the OpenAPI document.

Every item endpoint the document lists (``/api/<collection>/{id}/`` and its actions) is tried by
every signed-in actor on every object of that collection in a town of two doctor-patient pairs.
What each actor may see and change is SPEC section 4, written once below as an ownership model
per collection; the endpoints come from the document, so a new one is attacked without editing
this file, and a new collection fails until its owners are written down here.

An actor who may not see an object hears 404 on every endpoint; one who sees it but may not
change it hears 403 (so does a role the whole endpoint refuses). The object, read by an admin,
is the same after every refused attempt, and refused attempts on patient data are in the audit
trail as ``denied``. Lists never show an actor what they may not see, whatever filter they send.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.e2e.conftest import Clinic, expect
from tests.security.surface import (
    ACTORS,
    ITEM_PATH,
    Town,
    build_town,
    item_operations,
    list_operations,
    query_parameters,
)

Sees = Callable[[Town, str, dict[str, Any]], bool]
ROLE = {
    "admin": "admin",
    "doctor": "doctor",
    "other_doctor": "doctor",
    "patient": "patient",
    "other_patient": "patient",
}


def admin(town: Town, actor: str, obj: dict[str, Any]) -> bool:
    return actor == "admin"


def anyone(town: Town, actor: str, obj: dict[str, Any]) -> bool:
    return True


def own_window(town: Town, actor: str, obj: dict[str, Any]) -> bool:
    return actor == "admin" or obj["doctor"] == town.doctor_id(actor)


def sees_patient(town: Town, actor: str, obj: dict[str, Any]) -> bool:
    return (
        actor == "admin"
        or obj["id"] == town.patient_id(actor)
        or (town.doctor_id(actor), obj["id"]) in town.care
    )


def self_patient(town: Town, actor: str, obj: dict[str, Any]) -> bool:
    return actor == "admin" or obj["id"] == town.patient_id(actor)


def party(town: Town, actor: str, obj: dict[str, Any]) -> bool:
    return (
        actor == "admin"
        or obj["patient"] == town.patient_id(actor)
        or obj["doctor"] == town.doctor_id(actor)
    )


def its_patient(town: Town, actor: str, obj: dict[str, Any]) -> bool:
    return actor == "admin" or obj["patient"] == town.patient_id(actor)


def its_doctor(town: Town, actor: str, obj: dict[str, Any]) -> bool:
    return actor == "admin" or obj["doctor"] == town.doctor_id(actor)


def sees_record(town: Town, actor: str, obj: dict[str, Any]) -> bool:
    return (
        actor == "admin"
        or obj["patient"] == town.patient_id(actor)
        or (town.doctor_id(actor), obj["patient"]) in town.care
    )


def own_feed(town: Town, actor: str, obj: dict[str, Any]) -> bool:
    return actor == "admin" or obj["owner"] == town.actor(actor).user_id


def author(town: Town, actor: str, obj: dict[str, Any]) -> bool:
    return obj["doctor"] == town.doctor_id(actor)


@dataclass(frozen=True)
class Ownership:
    """SPEC section 4 for one collection."""

    objects: Callable[[Town], list[dict[str, Any]]]
    sees: Sees
    #: (method, action or None) -> who may do it; absent: only "who may not see, hears 404".
    may: dict[tuple[str, str | None], Sees] = field(default_factory=dict)
    #: The roles every endpoint of the collection admits (others: 403 before any look-up).
    roles: tuple[str, ...] = ("admin", "doctor", "patient")
    #: The audit trail's name for the collection, when access to it is audited.
    audited_as: str | None = None


def _read_all(collection: str, ids: Callable[[Town], list[int]]) -> Callable[[Town], list[Any]]:
    def objects(town: Town) -> list[dict[str, Any]]:
        return [expect(town.clinic.admin.get(f"/api/{collection}/{i}/"), 200) for i in ids(town)]

    return objects


def _user_ids(town: Town) -> list[int]:
    return [town.actor(name).user_id for name in ACTORS]


OWNERSHIP: dict[str, Ownership] = {
    "doctors": Ownership(
        _read_all("doctors", lambda t: [t.doctor_id("doctor"), t.doctor_id("other_doctor")]),
        anyone,
        {("PATCH", None): admin, ("DELETE", None): admin},
    ),
    "availabilities": Ownership(
        lambda town: town.windows,
        anyone,
        {("PATCH", None): own_window, ("DELETE", None): own_window},
    ),
    "patients": Ownership(
        _read_all(
            "patients",
            lambda t: [t.patient_id("patient"), t.patient_id("other_patient")],
        ),
        sees_patient,
        {("PATCH", None): self_patient},
        audited_as="patient",
    ),
    "appointments": Ownership(
        lambda town: town.appointments,
        party,
        {
            ("PATCH", None): its_patient,
            ("POST", "confirm"): its_doctor,
            ("POST", "complete"): its_doctor,
            ("POST", "no-show"): its_doctor,
            ("POST", "cancel"): party,
        },
    ),
    "medical-records": Ownership(
        lambda town: town.records,
        sees_record,
        {("PATCH", None): author},
        audited_as="medical_record",
    ),
    "users": Ownership(_read_all("users", _user_ids), admin, {("PATCH", None): admin}, ("admin",)),
    "availability-rules": Ownership(
        lambda town: _per_doctor(
            town,
            "/api/availability-rules/",
            {"weekday": 2, "start_time": "13:00", "end_time": "15:00"},
        ),
        anyone,
        {("PATCH", None): own_window, ("DELETE", None): own_window},
    ),
    "availability-exceptions": Ownership(
        lambda town: _per_doctor(
            town,
            "/api/availability-exceptions/",
            {
                "start_time": "2030-01-09T09:00:00Z",
                "end_time": "2030-01-09T10:00:00Z",
                "reason": "Conference",
            },
        ),
        anyone,
        {("PATCH", None): own_window, ("DELETE", None): own_window},
    ),
    "webhooks": Ownership(
        lambda town: [
            expect(town.clinic.admin.post("/api/webhooks/", {"url": url, "events": ["*"]}), 201)
            for url in ("http://127.0.0.1:9/crm", "http://127.0.0.1:9/billing")
        ],
        admin,
        {("PATCH", None): admin, ("DELETE", None): admin, ("POST", "rotate-secret"): admin},
        ("admin",),
    ),
    # Section 8: a hold is its patient's (doctors see none); a waitlist entry its patient's and
    # its doctor's, removed by its patient.
    "holds": Ownership(
        lambda town: [
            expect(
                town.actor(name).post(
                    "/api/holds/", {"doctor": town.doctor_id("doctor"), "datetime": when}
                ),
                201,
            )
            for name, when in (
                ("patient", "2030-01-08T10:00:00Z"),
                ("other_patient", "2030-01-08T10:30:00Z"),
            )
        ],
        its_patient,
        {("POST", "book"): its_patient, ("DELETE", None): its_patient},
    ),
    "waitlist": Ownership(
        lambda town: [
            expect(
                town.actor(name).post(
                    "/api/waitlist/",
                    {
                        "doctor": town.doctor_id(doctor),
                        "start": "2030-01-08T09:00:00Z",
                        "end": "2030-01-08T12:00:00Z",
                    },
                ),
                201,
            )
            for name, doctor in (("patient", "doctor"), ("other_patient", "other_doctor"))
        ],
        party,
        {("DELETE", None): its_patient},
    ),
    "calendar-feeds": Ownership(
        lambda town: [
            expect(town.actor(name).post("/api/calendar-feeds/"), 201)
            for name in ("doctor", "patient", "other_patient")
        ],
        own_feed,
        {("DELETE", None): own_feed},
    ),
}


def _per_doctor(town: Town, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """One object made by each doctor for themself."""
    return [expect(town.actor(name).post(path, body), 201) for name in ("doctor", "other_doctor")]


#: A harmless-looking change per (collection, action): what an attacker would slip through.
CHANGES: dict[tuple[str, str | None], dict[str, Any]] = {
    ("doctors", None): {"name": "Dr. Mallory"},
    ("doctors", "policy"): {"buffer_minutes": 5},
    ("availabilities", None): {"end_time": "2030-01-08T17:00:00Z"},
    ("availability-rules", None): {"end_time": "16:00"},
    ("patients", None): {"phone": "+1 555 0666"},
    ("appointments", None): {"reason": "hijacked"},
    ("medical-records", None): {"diagnosis": "tampered"},
    ("users", None): {"is_active": False},
    ("webhooks", None): {"description": "hijacked"},
}
#: Values for required query parameters of item sub-resources (the slots' range).
QUERY_VALUES = {"date-time": ("2030-01-08T00:00:00Z", "2030-01-09T00:00:00Z")}


@pytest.fixture
def town(clinic: Clinic) -> Town:
    return build_town(clinic)


def _query(method: str, path: str) -> str:
    """Values for the required query parameters (a slot range), so only access can refuse."""
    pairs = []
    for index, (name, parameter) in enumerate(
        (n, p) for n, p in query_parameters(method, path).items() if p.get("required")
    ):
        values = QUERY_VALUES[parameter["schema"].get("format", "")]
        pairs.append(f"{name}={values[min(index, len(values) - 1)]}")
    return "?" + "&".join(pairs) if pairs else ""


def _expected(
    town: Town,
    owner: Ownership,
    method: str,
    action: str | None,
    actor: str,
    obj: dict[str, Any],
) -> int | None:
    """The status SPEC section 4 gives, or None where it allows the attempt."""
    if ROLE[actor] not in owner.roles:
        return 403
    if not owner.sees(town, actor, obj):
        return 404
    if method == "GET":
        return None
    may = owner.may.get((method, action))
    if may is None or may(town, actor, obj):
        return None
    return 403


@pytest.mark.parametrize(
    "method,path", item_operations(), ids=[f"{m} {p}" for m, p in item_operations()]
)
def test_nobody_reads_or_changes_an_object_that_is_not_theirs(
    town: Town, method: str, path: str
) -> None:
    match = ITEM_PATH.match(path)
    assert match is not None
    collection, param, action = match["collection"], match["param"], match["action"]
    assert collection in OWNERSHIP, (
        f"{method} {path}: write down who may see and change {collection} in OWNERSHIP"
    )
    owner = OWNERSHIP[collection]
    admin_caller = town.clinic.admin
    objects = owner.objects(town)
    assert len(objects) >= 2, "every collection needs objects of two owners"
    refused, audited = [], []
    readable = {p for m, p in item_operations() if m == "GET"}
    for obj in objects:
        url = path.replace("{" + param + "}", str(obj["id"]))
        # The object, and the sub-resource when it can be read: what must not change.
        watched = [f"/api/{collection}/{obj['id']}/"]
        if action and method != "GET" and path in readable:
            watched.append(url + _query("GET", path))
        for actor in ACTORS:
            expected = _expected(town, owner, method, action, actor, obj)
            if expected is None:
                continue
            before = [expect(admin_caller.get(w), 200) for w in watched]
            body = CHANGES.get((collection, action)) if method in ("PATCH", "PUT") else None
            response = town.actor(actor).request(method, url + _query(method, path), json=body)
            if response.status_code != expected:
                refused.append((actor, obj["id"], response.status_code, expected))
                continue
            expect(response, expected)  # the common error body
            after = [expect(admin_caller.get(w), 200) for w in watched]
            assert after == before, (actor, method, url, "changed the object")
            if owner.audited_as and method in ("GET", "PATCH") and expected in (403, 404):
                audited.append((town.actor(actor).user_id, obj["id"], method))
    assert not refused, f"{method} {path}: (actor, id, got, expected) {refused}"
    _assert_denials_audited(town, owner, audited)


def _assert_denials_audited(town: Town, owner: Ownership, attempts: list[tuple]) -> None:
    if not attempts:
        return
    events = expect(
        town.clinic.admin.get(
            f"/api/audit-events/?resource={owner.audited_as}&outcome=denied&page_size=100"
        ),
        200,
    )
    logged = {
        (
            e["actor"],
            e["resource_id"],
            {"read": "GET", "update": "PATCH"}.get(e["action"]),
        )
        for e in events
    }
    missing = [attempt for attempt in attempts if attempt not in logged]
    assert not missing, f"refused attempts missing from the audit trail: {missing}"


@pytest.mark.parametrize("path", list_operations())
def test_no_list_shows_another_owners_objects_whatever_the_filter(town: Town, path: str) -> None:
    collection = path.split("/")[2]
    owner = OWNERSHIP[collection]
    everything = owner.objects(town)
    ids = {key: sorted({o.get(key) for o in everything} - {None}) for key in ("doctor", "patient")}
    ids["appointment"] = [a["id"] for a in town.appointments]
    filters = [""] + [
        f"&{name}={value}" for name in query_parameters("GET", path) for value in ids.get(name, [])
    ]
    for actor in ACTORS:
        if ROLE[actor] not in owner.roles:
            expect(town.actor(actor).get(path), 403)
            continue
        visible = {o["id"] for o in everything if owner.sees(town, actor, o)}
        for extra in filters:
            listed = expect(town.actor(actor).get(f"{path}?page_size=100{extra}"), 200)
            shown = {item["id"] for item in listed}
            assert shown <= visible, (actor, extra, "shows", shown - visible)
            if not extra:
                assert shown == visible, (actor, "misses", visible - shown)
