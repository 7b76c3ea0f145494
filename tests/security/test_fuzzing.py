"""Schemathesis against the app's own OpenAPI document, once per role, with every default check.

Each operation of ``/api/openapi.json`` is a test per role (anonymous, patient, doctor, admin,
each with a real token of a seeded clinic). Schemathesis generates valid and invalid requests
(positive and negative modes) and runs all its default checks on every answer: no 5xx; the status
code, content type, headers and body are the documented ones; invalid input is refused; an
operation that declares a security requirement refuses the same request without a token or with
a wrong one. The operations are read from the document, so a new endpoint is fuzzed without
touching this file.

One default check is made exact rather than dropped: a request the document calls valid may
still break a rule the document cannot express (SPEC section 3: a time in the past, outside the
doctor's availability, an end before its start), which SPEC section 5 answers with 422. So a 422
to valid data passes only when it names the rule's fields; a 422 from input validation (errors
under ``json``/``query``) means the document promised more than the app accepts, and fails.
"""

from __future__ import annotations

import json
from typing import Any

import hypothesis
import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from healthcare.entrypoints.api.routing import PAGINATION_HEADER
from tests.e2e.conftest import Clinic
from tests.security.surface import operations

ROLES = ("anonymous", "patient", "doctor", "admin")
SHORT_EXAMPLES = 25
LONG_EXAMPLES = 1000
#: Where webargs files input-validation errors (``errors.json.<field>``).
LOCATIONS = {"json", "query", "path", "headers", "cookies", "form", "files"}
ACCEPTED = {401, 403, 404, 409, 422, 429}
PAGINATION_KEYS = {
    "total",
    "total_pages",
    "first_page",
    "last_page",
    "page",
    "previous_page",
    "next_page",
}


OPERATIONS = [f"{method} {path}" for method, path in operations()]


def valid_data_meets_only_rules(ctx: Any, response: Any, case: schemathesis.Case) -> None:
    """``positive_data_acceptance``, exact for this API (see the module docstring)."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    status = response.status_code
    if 200 <= status < 400 or status >= 500:  # 5xx is not_a_server_error's to report
        return
    assert status in ACCEPTED, f"valid data refused with {status}: {response.text[:500]}"
    if status == 422:
        errors = response.json().get("errors") or {}
        assert not set(errors) & LOCATIONS, (
            "the document calls this request valid, but input validation refused it: "
            f"{response.text[:500]}"
        )


def pagination_is_json(ctx: Any, response: Any, case: schemathesis.Case) -> None:
    """``X-Pagination`` is a JSON object with the documented keys and integer values."""
    raw = response.headers.get(PAGINATION_HEADER.lower())
    if raw is None:
        return
    meta = json.loads(raw[0])
    assert isinstance(meta, dict) and set(meta) <= PAGINATION_KEYS, raw
    assert {"total", "total_pages"} <= set(meta), raw
    assert all(isinstance(v, int) and v >= 0 for v in meta.values()), raw


def _sign_as(schema: Any, token: str) -> None:
    """The caller's token on every case, as schemathesis' own auth: a negative case that drops
    the credentials on purpose goes without them, and ``ignored_auth`` probes the rest."""

    @schema.auth(refresh_interval=None)
    class Bearer:
        def get(self, case: schemathesis.Case, context: Any) -> str:
            return token

        def set(self, case: schemathesis.Case, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """SQLite: thousands of requests per run; the matrices run on both databases."""
    return sqlite_url


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_operation_answers_as_documented_to_every_role(
    app: Flask, clinic: Clinic, role: str, operation: str, long_mode: bool
) -> None:
    method, path = operation.split(" ", 1)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    if role != "anonymous":
        _sign_as(schema, clinic.caller(role).token)
    api_operation = schema[path][method]
    cases = st.one_of(
        api_operation.as_strategy(mode, auth_storage=schema.auth if role != "anonymous" else None)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    )

    @hypothesis.settings(
        max_examples=LONG_EXAMPLES if long_mode else SHORT_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not long_mode,  # CI: the same cases every run; --long explores
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def attack(case: schemathesis.Case) -> None:
        case.call_and_validate(
            excluded_checks=[positive_data_acceptance],
            additional_checks=[valid_data_meets_only_rules, pagination_is_json],
        )

    attack()
