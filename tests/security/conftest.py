"""Attacks on the API: fixtures shared by the security suite.

The suite reuses the e2e fixtures (the app on a fresh database, the seeded ``clinic`` with real
tokens for every role) and adds a budget: a short run in CI, thousands of cases with ``--long``
(``pytest tests/security --long``) or ``HEALTHCARE_SECURITY_LONG=1`` (which also works when the
whole suite is run, where this directory's options are not yet known).
"""

from __future__ import annotations

import os

import pytest

from tests.e2e.conftest import app, client, clinic, settings  # noqa: F401 - shared fixtures

LONG_ENV = "HEALTHCARE_SECURITY_LONG"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--long",
        action="store_true",
        default=False,
        help="security suite: thousands of generated cases instead of the CI budget",
    )


def long_run(config: pytest.Config) -> bool:
    try:
        option = bool(config.getoption("--long"))
    except ValueError:  # the option is registered only when this directory is named
        option = False
    return option or os.environ.get(LONG_ENV, "").strip().lower() in {
        "1",
        "true",
        "yes",
        "on",
    }


@pytest.fixture(scope="session")
def long_mode(pytestconfig: pytest.Config) -> bool:
    return long_run(pytestconfig)


@pytest.fixture(
    params=[
        pytest.param("sqlite"),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest) -> str:
    """Both databases: ownership filters are SQL, so each backend is attacked."""
    return request.getfixturevalue(f"{request.param}_url")
