"""Schemathesis against the app's own OpenAPI document, once per role, with every check.

Each operation of ``/api/openapi.json`` is a test per role (anonymous, patient, doctor, admin,
each with a real token of a seeded clinic). Schemathesis generates valid and invalid requests
(positive and negative modes) and runs every built-in check on every answer: no 5xx; the status
code, content type, headers and body are the documented ones; what the document calls invalid
is refused (``negative_data_rejection``); what it calls valid is accepted
(``positive_data_acceptance``); an operation that declares a security requirement refuses the
same request without a token or with a wrong one. The operations are read from the document, so
a new endpoint is fuzzed without touching this file.

``positive_data_acceptance`` accepts 422 besides its defaults, and ``valid_data_meets_only_rules``
makes that exact: a request the document calls valid may still break a rule OpenAPI cannot
express (SPEC section 3: a time in the past, outside the doctor's availability, an end before
its start; the list is in the document's description), which SPEC section 5 answers with 422 and
the rule's own message. A 422 from input validation (``errors.INVALID_INPUT``) means the document
promised more than the app accepts, and fails.
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
from schemathesis.config import SchemathesisConfig

from healthcare.entrypoints.api.errors import INVALID_INPUT
from healthcare.entrypoints.api.routing import PAGINATION_HEADER
from tests.e2e.conftest import Clinic
from tests.security.surface import operations

ROLES = ("anonymous", "patient", "doctor", "admin")
SHORT_EXAMPLES = 25
LONG_EXAMPLES = 1000
#: Schemathesis' own list for valid data, and 422 for the rules (``valid_data_meets_only_rules``).
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
            }
        }
    }
)
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
    """A 422 to valid data is a rule's, never input validation's (see the module docstring)."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if response.status_code == 422:
        assert response.json()["message"] != INVALID_INPUT, (
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
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=CONFIG)
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
        case.call_and_validate(additional_checks=[valid_data_meets_only_rules, pagination_is_json])

    attack()
