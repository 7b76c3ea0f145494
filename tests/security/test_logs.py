"""No PHI or secret in the logs (OWASP API3/API8, HIPAA): a whole clinic day, failures included,
logged with the production logging configuration, mentions no patient's name, email, phone,
insurance id, diagnosis, treatment, note, password or token.
"""

from __future__ import annotations

import logging
import logging.config
from collections.abc import Iterator

import pytest

from healthcare.entrypoints import server
from tests.e2e.conftest import PASSWORD, Caller, Clinic, expect, sign_in

PHI = {
    "name": "Penelope Quartermaine",
    "email": "penelope.quartermaine@example.test",
    "phone": "+1 555 0177 321",
    "insurance_id": "INS-77-QUARTER",
    "diagnosis": "Creutzfeldt-Jakob suspicion",
    "treatment": "Referral to neurology unit",
    "notes": "Lives alone at 12 Quarter Lane",
}


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.formatter = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        text = [record.getMessage(), repr(record.args), repr(vars(record))]
        if record.exc_info:
            text.append(self.formatter.formatException(record.exc_info))
        self.lines.append("\n".join(text))


@pytest.fixture
def production_logs() -> Iterator[Everything]:
    """The logging configuration the server runs with, at debug level, plus a handler that keeps
    every record."""
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    # As verbose as an operator can make it (LOG_LEVEL=debug).
    config = server.logging_config("debug")
    logging.config.dictConfig(config)
    handler = Everything()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for extra in list(root.handlers):
            root.removeHandler(extra)
        root.setLevel(saved[0])
        for original in saved[1]:
            root.addHandler(original)


def test_a_clinic_day_with_failures_logs_no_phi_and_no_token(
    clinic: Clinic, production_logs: Everything
) -> None:
    client = clinic.client
    body = {
        "password": PASSWORD,
        **{k: PHI[k] for k in ("name", "email", "phone", "insurance_id")},
    }
    account = expect(client.post("/api/auth/register/", json=body), 201)
    expect(client.post("/api/auth/register/", json=body), 409)
    expect(
        client.post("/api/auth/register/", json={**body, "email": PHI["name"] + " <at> x"}),
        422,
    )
    for wrong in ("wrong-password-1", "wrong-password-2"):
        expect(
            client.post("/api/auth/login/", json={"email": PHI["email"], "password": wrong}),
            401,
        )
    tokens = sign_in(client, PHI["email"])
    penelope = Caller(client, tokens["access"])
    patient_id = account["patient"]["id"]
    booking = {"doctor": clinic.doctor.doctor_id, "datetime": "2030-01-08T10:00:00Z"}
    appointment = expect(
        penelope.post("/api/appointments/", {**booking, "reason": PHI["diagnosis"]}),
        201,
    )
    expect(penelope.post("/api/appointments/", booking), 409)
    expect(
        penelope.post("/api/appointments/", {**booking, "datetime": "2030-01-08T20:00:00Z"}),
        422,
    )
    record = expect(
        clinic.doctor.post(
            "/api/medical-records/",
            {
                "appointment": appointment["id"],
                **{k: PHI[k] for k in ("diagnosis", "treatment", "notes")},
            },
        ),
        201,
    )
    expect(clinic.other_doctor.get(f"/api/medical-records/{record['id']}/"), 404)
    expect(
        clinic.other_doctor.patch(f"/api/medical-records/{record['id']}/", {"notes": PHI["notes"]}),
        404,
    )
    expect(clinic.other_patient.get(f"/api/patients/{patient_id}/"), 404)
    expect(
        penelope.patch(f"/api/patients/{patient_id}/", {"insurance_id": PHI["insurance_id"]}),
        403,
    )
    expect(penelope.patch(f"/api/patients/{patient_id}/", {"email": PHI["name"]}), 422)
    expect(clinic.admin.get(f"/api/patients/{patient_id}/"), 200)
    expect(clinic.admin.get(f"/api/audit-events/?patient={patient_id}"), 200)
    rotated = expect(
        client.post("/api/auth/jwt/refresh/", json={"refresh": tokens["refresh"]}), 200
    )
    expect(client.post("/api/auth/jwt/refresh/", json={"refresh": tokens["refresh"]}), 401)
    expect(Caller(client, tokens["access"] + "x").get("/api/auth/me/"), 401)
    expect(Caller(client, rotated["access"]).post("/api/auth/logout/"), 401)

    secrets = {**PHI, "password": PASSWORD}
    for token in (
        *tokens.values(),
        *rotated.values(),
        clinic.admin.token,
        clinic.doctor.token,
    ):
        secrets[f"token {token[:12]}"] = token.split(".")[2]  # the signature identifies a token
    logging.getLogger("healthcare.probe").debug("probe")
    assert any("probe" in line for line in production_logs.lines), "the capture is not working"
    leaks = {
        what: line[:300]
        for line in production_logs.lines
        for what, value in secrets.items()
        if value.lower() in line.lower()
    }
    assert not leaks, leaks
