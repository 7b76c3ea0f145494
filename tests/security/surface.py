"""The attack surface, read from the app itself: its OpenAPI document and its clinic.

Everything the security suite enumerates (operations, item endpoints, list endpoints, their
filters) comes from ``/api/openapi.json``, so a new endpoint is attacked without editing a list.
``Town`` extends the e2e clinic to two sides that must never see each other's data:
Dr. Adams with Pat (appointment, record) and Dr. Baker with Olive (appointment, record).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from typing import Any

from healthcare.bootstrap import create_app
from healthcare.config import Settings
from tests.e2e.conftest import Caller, Clinic, expect

METHODS = ("get", "put", "post", "patch", "delete")
#: ``/api/<collection>/{<name>_id}/`` optionally followed by ``<action>/``.
ITEM_PATH = re.compile(
    r"^/api/(?P<collection>[a-z-]+)/\{(?P<param>\w+)\}/(?:(?P<action>[a-z-]+)/)?$"
)
ACTORS = ("admin", "doctor", "other_doctor", "patient", "other_patient")


def document() -> dict[str, Any]:
    """The OpenAPI document (read once, when this module is imported)."""
    return _DOCUMENT


def _read_document() -> dict[str, Any]:
    """From an app that never opens its database. Making an app wires the views to its
    container, so this runs at import (collection), never while a test's app is serving."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(
            {},
            env="test",
            database_url=f"sqlite:///{tmp}/unused.db",
            jwt_secret_key="collection-only-secret-of-enough-length",
            instance_path=tmp,
        )
        return create_app(settings).test_client().get("/api/openapi.json").get_json()  # type: ignore[no-any-return]


_DOCUMENT = _read_document()


def operations() -> list[tuple[str, str]]:
    """Every ``(METHOD, path)`` the document lists."""
    return [
        (method.upper(), path)
        for path, item in document()["paths"].items()
        for method in item
        if method in METHODS
    ]


def item_operations() -> list[tuple[str, str]]:
    """Operations on one object: its path names the object's id."""
    return [(method, path) for method, path in operations() if ITEM_PATH.match(path)]


def list_operations() -> list[str]:
    """``GET /api/<collection>/`` for every collection that also has item endpoints."""
    collections = {ITEM_PATH.match(path)["collection"] for _, path in item_operations()}  # type: ignore[index]
    return [
        path
        for method, path in operations()
        if method == "GET"
        and re.fullmatch(r"/api/([a-z-]+)/", path)
        and path.split("/")[2] in collections
    ]


def query_parameters(method: str, path: str) -> dict[str, dict[str, Any]]:
    operation = document()["paths"][path][method.lower()]
    return {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}


# -- two clinics in one ----------------------------------------------------------------------

SECOND_WINDOW = ("2030-01-08T13:00:00Z", "2030-01-08T16:00:00Z")


@dataclass
class Town:
    """The e2e clinic plus a second doctor-patient pair with their own appointment and record."""

    clinic: Clinic
    appointments: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    windows: list[dict[str, Any]] = field(default_factory=list)

    def actor(self, name: str) -> Caller:
        return self.clinic.caller(name)

    #: The ids an actor owns, the way the rules of SPEC section 4 name them.
    def patient_id(self, name: str) -> int | None:
        return self.actor(name).ids.get("patient_id")

    def doctor_id(self, name: str) -> int | None:
        return self.actor(name).ids.get("doctor_id")

    @property
    def care(self) -> set[tuple[int, int]]:
        """(doctor, patient) pairs with an appointment: who treats whom."""
        return {(a["doctor"], a["patient"]) for a in self.appointments}


def build_town(clinic: Clinic) -> Town:
    town = Town(clinic)
    baker, olive = clinic.other_doctor, clinic.other_patient
    town.windows = [
        expect(clinic.admin.get(f"/api/availabilities/{clinic.window_id}/"), 200),
        expect(
            baker.post(
                "/api/availabilities/",
                {"start_time": SECOND_WINDOW[0], "end_time": SECOND_WINDOW[1]},
            ),
            201,
        ),
    ]
    second = expect(
        olive.post(
            "/api/appointments/",
            {"doctor": baker.doctor_id, "datetime": SECOND_WINDOW[0]},
        ),
        201,
    )
    town.appointments = [
        expect(clinic.admin.get(f"/api/appointments/{clinic.appointment_id}/"), 200),
        second,
    ]
    town.records = [
        expect(
            author.post(
                "/api/medical-records/",
                {
                    "appointment": appointment["id"],
                    "diagnosis": "Hypertension",
                    "notes": "n",
                },
            ),
            201,
        )
        for author, appointment in (
            (clinic.doctor, town.appointments[0]),
            (baker, second),
        )
    ]
    return town
