"""A client generated from the live document by openapi-python-client books, cancels and reads
an error, with typed models all the way (how most integrators will call the API).

The client is generated into a temporary directory from this app's ``/api/openapi.json``,
imported, and given an httpx client whose transport is the app itself (WSGI), so the calls go
through the whole HTTP stack without a server.
"""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.e2e.conftest import PASSWORD, Clinic, expect

PACKAGE = "clinic_client"
BASE_URL = "http://clinic.test"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """What is under test is the document and the HTTP layer, not the database."""
    return sqlite_url


@pytest.fixture
def generated(client: FlaskClient, tmp_path: Path) -> Iterator[ModuleType]:
    """The package openapi-python-client generates from the live document, imported."""
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(expect(client.get("/api/openapi.json"), 200)))
    config = tmp_path / "generator.yml"
    config.write_text("post_hooks: []\n")  # no formatter run: it is not what is tested
    generator = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(document),
            "--output-path",
            str(tmp_path / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _module(package: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{package.__name__}.{name}")


def _signed_in(package: ModuleType, app: Flask, email: str) -> Any:
    """An authenticated generated client for ``email``, signed in through the generated API."""
    models = _module(package, "models")
    anonymous = package.Client(
        base_url=BASE_URL,
        raise_on_unexpected_status=True,
        httpx_args={"transport": httpx.WSGITransport(app=app)},
    )
    tokens = _module(package, "api.auth.get_tokens").sync(
        client=anonymous, body=models.CredentialsIn(email=email, password=PASSWORD)
    )
    assert isinstance(tokens, models.TokensOut)
    return package.AuthenticatedClient(
        base_url=BASE_URL,
        token=tokens.access,
        raise_on_unexpected_status=True,
        httpx_args={"transport": httpx.WSGITransport(app=app)},
    )


def test_a_generated_client_books_cancels_and_reads_errors_with_typed_models(
    app: Flask, clinic: Clinic, generated: ModuleType
) -> None:
    models = _module(generated, "models")
    appointments = "api.appointments."
    book = _module(generated, appointments + "book_appointment")
    cancel = _module(generated, appointments + "cancel_appointment")
    olive = _signed_in(generated, app, "olive@example.test")

    me = _module(generated, "api.auth.get_my_account").sync(client=olive)
    assert isinstance(me, models.AccountOut)
    assert isinstance(me.patient, models.PatientOut) and me.doctor is None
    assert me.user.role is models.UserOutRole.PATIENT

    slot = datetime(2030, 1, 8, 10, 0, tzinfo=UTC)
    booked = book.sync(
        client=olive,
        body=models.AppointmentIn(doctor=clinic.doctor.doctor_id, datetime_=slot),
        idempotency_key="olive-first-visit",
    )
    assert isinstance(booked, models.AppointmentOut)
    assert booked.status is models.AppointmentOutStatus.PENDING
    assert (booked.patient, booked.doctor) == (me.patient.id, clinic.doctor.doctor_id)
    assert booked.datetime_ == slot and booked.cancellation_reason is None

    taken = book.sync(
        client=olive, body=models.AppointmentIn(doctor=clinic.doctor.doctor_id, datetime_=slot)
    )
    assert isinstance(taken, models.ErrorOut)
    assert (taken.code, taken.status) == (409, "Conflict")

    outside = book.sync(
        client=olive,
        body=models.AppointmentIn(
            doctor=clinic.doctor.doctor_id, datetime_=datetime(2030, 1, 8, 13, 0, tzinfo=UTC)
        ),
    )
    assert isinstance(outside, models.ErrorOut) and outside.code == 422
    assert list(outside.errors.additional_properties) == ["datetime"]

    cancelled = cancel.sync(
        client=olive, appointment_id=booked.id, body=models.CancelIn(reason="Feeling better")
    )
    assert isinstance(cancelled, models.AppointmentOut)
    assert cancelled.status is models.AppointmentOutStatus.CANCELLED
    assert cancelled.cancellation_reason == "Feeling better"


def test_generated_answer_models_have_no_optional_fields(generated: ModuleType) -> None:
    models = _module(generated, "models")
    answers = [
        cls
        for name, cls in inspect.getmembers(models, inspect.isclass)
        if name.endswith("Out") and attrs.has(cls)
    ]
    assert len(answers) >= 15
    for model in answers:
        optional = {
            field.name
            for field in attrs.fields(model)
            if field.name != "additional_properties" and "Unset" in str(field.type)
        }
        expected = {"errors"} if model is models.ErrorOut else set()
        assert optional == expected, model.__name__
