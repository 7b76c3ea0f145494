"""Generated malformed FHIR input against the interface's two writes: ``POST Appointment`` and
``PATCH Appointment/<id>``. The schemathesis run covers the OpenAPI document only, and FHIR
has none here, so hypothesis makes the bodies: bytes that are not JSON, JSON that is not an
Appointment, and a valid booking of a free slot broken in one place. Whatever arrives, the
answer is a 4xx OperationOutcome (never a 5xx: the app fixture also fails the test on any
logged server error) and nothing is stored or changed.
"""

from __future__ import annotations

import json
import re
from typing import Any

import hypothesis
import pytest
from fhir.resources.R4B.appointment import Appointment
from hypothesis import HealthCheck, assume, given
from hypothesis import strategies as st

from tests.e2e.conftest import Clinic, expect
from tests.support.fhir import BASE, expect_fhir

SHORT_EXAMPLES = 60
LONG_EXAMPLES = 1000
MEDIA_TYPES = ("application/fhir+json", "application/json")
PATCH_TYPES = ("application/json-patch+json", "application/json")
#: A free slot of Dr. Adams's window: the valid booking would succeed but for what breaks it.
FREE_SLOT = "2030-01-08T10:00:00Z"
ELEMENTS = {field.alias or name for name, field in Appointment.model_fields.items()} | {
    "resourceType"
}
#: What a booking needs; removing one of them breaks it.
REQUIRED = ("resourceType", "status", "start", "participant")
OUR_REFERENCE = re.compile(r"^((Patient|Practitioner)/)?\d+$")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def valid_booking(doctor_id: int) -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "status": "proposed",
        "start": FREE_SLOT,
        "end": "2030-01-08T10:30:00Z",
        "participant": [
            {"actor": {"reference": f"Practitioner/{doctor_id}"}, "status": "accepted"}
        ],
        "reasonCode": [{"text": "Check-up"}],
    }


@st.composite
def broken_bookings(draw: st.DrawFn, doctor_id: int) -> dict[str, Any]:
    """A valid booking of a free slot with one thing broken."""
    body = valid_booking(doctor_id)
    how = draw(
        st.sampled_from(
            ["unknown element", "missing", "wrong type", "resource type", "start", "reference"]
        )
    )
    if how == "unknown element":
        name = draw(st.text(min_size=1, max_size=15).filter(lambda n: n not in ELEMENTS))
        body[name] = draw(json_values)
    elif how == "missing":
        del body[draw(st.sampled_from(REQUIRED))]
    elif how == "wrong type":
        element = draw(st.sampled_from(["status", "start", "end", "participant", "reasonCode"]))
        wrong = st.integers() | st.booleans() | st.dictionaries(st.text(max_size=5), json_values, max_size=2)
        body[element] = draw(wrong)
    elif how == "resource type":
        body["resourceType"] = draw(json_values.filter(lambda v: v != "Appointment"))
    elif how == "start":
        body["start"] = draw(st.text(max_size=30).filter(lambda t: not t.startswith("2030-01-08T10:00")))
    else:
        reference = draw(st.text(max_size=20).filter(lambda r: not OUR_REFERENCE.match(r)))
        body["participant"][0]["actor"]["reference"] = reference
    return body


post_bodies = st.one_of(
    st.binary(max_size=80).map(lambda raw: ("raw", raw)),
    json_values.map(lambda value: ("json", value)),
)


def settings(long_mode: bool) -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=LONG_EXAMPLES if long_mode else SHORT_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not long_mode,
        suppress_health_check=list(HealthCheck),
    )


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """SQLite: hundreds of requests per test (the reads matrices run on both databases)."""
    return sqlite_url


def appointments_stored(clinic: Clinic) -> list[dict[str, Any]]:
    return expect(clinic.admin.get("/api/appointments/?history=true&page_size=100"), 200)  # type: ignore[no-any-return]


def test_malformed_appointments_posted_are_refused_and_store_nothing(
    clinic: Clinic, long_mode: bool
) -> None:
    before = appointments_stored(clinic)

    @settings(long_mode)
    @given(
        body=post_bodies | broken_bookings(clinic.doctor.doctor_id).map(lambda b: ("json", b)),
        media_type=st.sampled_from(MEDIA_TYPES),
    )
    def attack(body: tuple[str, Any], media_type: str) -> None:
        kind, value = body
        data = value if kind == "raw" else json.dumps(value).encode()
        response = clinic.patient.request(
            "POST", f"{BASE}/Appointment", data=data, headers={"Content-Type": media_type}
        )
        assert 400 <= response.status_code < 500, response.get_data(as_text=True)
        expect_fhir(response, response.status_code)

    attack()
    assert appointments_stored(clinic) == before


@st.composite
def patches(draw: st.DrawFn) -> Any:
    """JSON Patch-like documents, right in shape or not, that never mention "cancelled"."""
    operation = st.fixed_dictionaries(
        {
            "op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test"]) | st.text(max_size=8),
            "path": st.sampled_from(
                ["/status", "/start", "/participant/0/actor/reference", "/meta", "", "/-", "/x/y", "~1", "/participant/9"]
            ) | st.text(max_size=12),
        },
        optional={"value": json_values, "from": st.sampled_from(["/start", "/status", "/end"]) | st.text(max_size=8)},
    )
    document = draw(st.lists(operation | json_values, max_size=4) | json_values)
    assume("cancelled" not in json.dumps(document))
    return document


def test_malformed_json_patches_are_refused_or_change_nothing(
    clinic: Clinic, long_mode: bool
) -> None:
    path = f"{BASE}/Appointment/{clinic.appointment_id}"
    before = expect(clinic.patient.get(f"/api/appointments/{clinic.appointment_id}/"), 200)

    @settings(long_mode)
    @given(
        document=patches() | st.binary(max_size=60),
        media_type=st.sampled_from(PATCH_TYPES),
    )
    def attack(document: Any, media_type: str) -> None:
        data = document if isinstance(document, bytes) else json.dumps(document).encode()
        response = clinic.patient.request(
            "PATCH", path, data=data, headers={"Content-Type": media_type}
        )
        assert response.status_code < 500, response.get_data(as_text=True)
        expect_fhir(response, response.status_code)
        if response.status_code == 200:  # a patch that changes nothing (a passing test op)
            assert response.get_json()["status"] == "proposed"

    attack()
    after = expect(clinic.patient.get(f"/api/appointments/{clinic.appointment_id}/"), 200)
    assert after == before
    assert len(appointments_stored(clinic)) == 1


SEARCHES = ("Practitioner", "Patient", "Schedule", "Slot", "Appointment")
PARAMETER_NAMES = (
    *("name", "actor", "schedule", "start", "status"),
    *("patient", "practitioner", "date", "_count", "page"),
)
DATES = ["2030-01-08", "2030-01-08T09:00:00Z", "2030-01-08T09:00:00 01:00", "2030-02-30", "2030"]
values = st.one_of(
    st.text(max_size=30),
    st.tuples(
        st.sampled_from(["ge", "lt", "gt", ""]), st.sampled_from(DATES) | st.text(max_size=25)
    ).map("".join),
    st.sampled_from(
        ["Patient/1", "Practitioner/1", "Schedule/1", "free", "proposed", "0", "-1", "9" * 25]
    ),
)


def test_generated_searches_are_answered_never_failed(clinic: Clinic, long_mode: bool) -> None:
    """Any query on any search: a Bundle, or a 400/422 OperationOutcome."""
    @settings(long_mode)
    @given(
        resource=st.sampled_from(SEARCHES),
        query=st.lists(
            st.tuples(st.sampled_from(PARAMETER_NAMES) | st.text(max_size=8), values), max_size=5
        ),
    )
    def attack(resource: str, query: list[tuple[str, str]]) -> None:
        response = clinic.patient.get(f"{BASE}/{resource}", query_string=query)
        assert response.status_code in (200, 400, 422), response.get_data(as_text=True)
        expect_fhir(response, response.status_code)

    attack()
