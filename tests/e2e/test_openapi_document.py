"""The OpenAPI document says exactly what the API does, in terms a client generator can use.

Read from a live app's ``/api/openapi.json``: answers list their fields as ``required``, a
nullable model is that model or null, fixed values are enums, the bounds the server enforces are
in the schema, every operation has a readable unique id and every request body an example that
its own schema accepts.
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import available_timezones

import pytest
from flask.testing import FlaskClient

from healthcare.domain.appointments import Status
from healthcare.domain.audit import Action, Outcome
from healthcare.domain.users import Role
from healthcare.entrypoints.api.schemas.doctors import TIME_ZONE_PATTERN
from healthcare.entrypoints.api.schemas.fields import BLANK, DATETIME_PATTERN
from tests.e2e.conftest import expect
from tests.support.contract import Contract


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The document does not depend on the database."""
    return sqlite_url


@pytest.fixture
def contract(client: FlaskClient) -> Contract:
    return Contract(expect(client.get("/api/openapi.json"), 200))


def _schema(contract: Contract, name: str) -> dict[str, Any]:
    return contract.document["components"]["schemas"][name]  # type: ignore[no-any-return]


def _answer_schemas(contract: Contract) -> set[str]:
    """Every component schema a success answer can contain, nested ones included."""
    found: set[str] = set()
    todo = [
        response
        for method, path in contract.operations()
        for status, response in contract.operation(method, path)["responses"].items()  # type: ignore[index]
        if status.startswith("2")
    ]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/components/schemas/") and ref not in found:
                found.add(ref)
                todo.append(_schema(contract, ref.rsplit("/", 1)[1]))
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return {ref.rsplit("/", 1)[1] for ref in found}


# -- item 7: answers list every field as required -------------------------------------------


def test_every_answer_schema_requires_each_of_its_fields(contract: Contract) -> None:
    answers = _answer_schemas(contract)
    assert {"AppointmentOut", "AccountOut", "PolicyChoicesOut", "TokensOut"} <= answers
    for name in answers - {"PaginationMetadata"}:  # a header's, not a body's: keys come and go
        schema = _schema(contract, name)
        assert set(schema.get("required", [])) == set(schema["properties"]), name
        assert schema["additionalProperties"] is False, name


def test_the_error_schema_requires_code_status_and_message(contract: Contract) -> None:
    error = _schema(contract, "ErrorOut")
    assert set(error["required"]) == {"code", "status", "message"}
    assert set(error["properties"]) == {"code", "status", "message", "errors"}
    assert error["additionalProperties"] is False


# -- item 8: a nullable profile is the profile's model or null ------------------------------


def test_an_accounts_profiles_are_their_models_or_null(contract: Contract) -> None:
    assert contract.document["openapi"].startswith("3.1.")
    account = _schema(contract, "AccountOut")["properties"]
    assert account["patient"] == {
        "anyOf": [{"$ref": "#/components/schemas/PatientOut"}, {"type": "null"}]
    }
    assert account["doctor"] == {
        "anyOf": [{"$ref": "#/components/schemas/DoctorOut"}, {"type": "null"}]
    }


# -- item 9: fixed values are enums ---------------------------------------------------------


def test_fixed_values_are_enums_on_input_and_output(contract: Contract) -> None:
    def enum(schema: str, field: str) -> list[str]:
        return _schema(contract, schema)["properties"][field]["enum"]  # type: ignore[no-any-return]

    assert enum("AppointmentIn", "status") == ["pending"]
    assert enum("AppointmentOut", "status") == [str(s) for s in Status]
    assert enum("AppointmentPatch", "status") == [str(s) for s in Status]
    assert enum("UserOut", "role") == [str(r) for r in Role]
    assert enum("UserIn", "role") == [str(r) for r in Role]
    assert enum("AuditEventOut", "action") == [str(a) for a in Action]
    assert enum("AuditEventOut", "outcome") == [str(o) for o in Outcome]


# -- item 10: the bounds the server enforces are in the schema ------------------------------


def test_names_and_diagnoses_are_documented_as_not_blank(contract: Contract) -> None:
    for schema, field in (
        ("DoctorIn", "name"),
        ("DoctorIn", "specialization"),
        ("DoctorPatch", "name"),
        ("PatientIn", "name"),
        ("PatientPatch", "name"),
        ("RegisterIn", "name"),
        ("UserIn", "name"),
        ("MedicalRecordIn", "diagnosis"),
        ("MedicalRecordPatch", "diagnosis"),
    ):
        pattern = _schema(contract, schema)["properties"][field]["pattern"]
        assert not re.fullmatch(pattern, " \t\u00a0\u3000"), (schema, field)
        assert not re.fullmatch(pattern, ""), (schema, field)
        assert re.fullmatch(pattern, " Dr. Adams "), (schema, field)


def test_the_blank_characters_are_exactly_those_python_strips() -> None:
    blank = re.compile(f"[{BLANK}]")
    assert {c for c in map(chr, range(0x110000)) if blank.fullmatch(c)} == {
        c for c in map(chr, range(0x110000)) if c.isspace()
    }


def test_appointment_length_and_policy_ranges_are_documented(contract: Contract) -> None:
    for schema in ("DoctorIn", "DoctorPatch"):
        minutes = _schema(contract, schema)["properties"]["appointment_minutes"]
        assert (minutes["minimum"], minutes["maximum"]) == (5, 480)
    for schema in ("PolicyPatch", "PolicyOut", "PolicyChoicesOut"):
        policy = _schema(contract, schema)["properties"]
        assert (policy["min_notice_minutes"]["minimum"], policy["horizon_days"]["maximum"]) == (
            0,
            730,
        )
        assert (policy["buffer_minutes"]["maximum"], policy["max_per_day"]["minimum"]) == (480, 1)


def test_every_known_time_zone_has_the_documented_shape() -> None:
    assert all(re.fullmatch(TIME_ZONE_PATTERN, name) for name in available_timezones())


def test_datetimes_are_documented_with_at_most_six_fractional_digits(contract: Contract) -> None:
    when = _schema(contract, "AppointmentIn")["properties"]["datetime"]
    assert when["pattern"] == DATETIME_PATTERN
    assert re.fullmatch(when["pattern"], "2030-01-08T10:00:00.123456Z")
    assert not re.fullmatch(when["pattern"], "2030-01-08T10:00:00.1234567Z")


def test_every_change_body_names_at_least_one_field(contract: Contract) -> None:
    patches = [path for method, path in contract.operations() if method == "PATCH"]
    assert len(patches) == 9  # users, doctors, policy, windows, weekly hours, patients, appointments, records, webhooks
    for path in patches:
        body = contract.request_schema("PATCH", path)
        schema = contract.resolve(body)  # type: ignore[arg-type]
        assert schema["minProperties"] == 1, path
        assert contract.operation("PATCH", path)["requestBody"]["required"] is True  # type: ignore[index]


# -- item 11: one documented shape of errors ------------------------------------------------


def test_errors_are_documented_as_messages_by_field(contract: Contract) -> None:
    errors = _schema(contract, "ErrorOut")["properties"]["errors"]
    assert errors["additionalProperties"] == {"type": "array", "items": {"type": "string"}}
    assert "field" in errors["description"]
    assert contract.errors_in(errors, {"datetime": ["In the past."]}) == []
    assert contract.errors_in(errors, {"json": {"datetime": ["Not a valid datetime."]}})


# -- item 12: readable, unique operation ids ------------------------------------------------


def test_every_operation_has_a_unique_readable_id(contract: Contract) -> None:
    ids = {
        (method, path): contract.operation(method, path).get("operationId")  # type: ignore[union-attr]
        for method, path in contract.operations()
    }
    assert all(ids.values()), [key for key, value in ids.items() if not value]
    assert len(set(ids.values())) == len(ids)
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z]*)*", name) for name in ids.values()), ids
    assert ids[("GET", "/api/appointments/")] == "listAppointments"
    assert ids[("POST", "/api/appointments/")] == "bookAppointment"
    assert ids[("POST", "/api/appointments/{appointment_id}/confirm/")] == "confirmAppointment"


# -- item 13: every request body has an example its schema accepts --------------------------


def test_every_request_body_has_an_example_its_own_schema_accepts(contract: Contract) -> None:
    bodies = 0
    for method, path in contract.operations():
        operation = contract.operation(method, path)
        if "requestBody" not in operation:  # type: ignore[operator]
            continue
        bodies += 1
        media = operation["requestBody"]["content"]["application/json"]  # type: ignore[index]
        assert "example" in media, (method, path)
        assert contract.errors_in(media["schema"], media["example"]) == [], (method, path)
    assert bodies >= 20

