"""The README's example session runs as pasted, against the real server.

Every ``sh`` block from "An example session" up to "Configuration" is taken from README.md
verbatim and run, in order, by one ``bash -euo pipefail`` (its variables carry from block to
block, as in one terminal) beside a ``.venv`` that is this test's, against ``healthcare serve``
(``make run``'s command: it migrates, then serves) on a new SQLite file. ``curl`` is wrapped only
to log each answer (status, method, URL, body) and hand it on unchanged; the test then checks
every step's status and the fields that matter. The dates are the README's own (a week from
today), so this test fails the day an example goes stale.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.security.servers import served, server_environment

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"

#: Logs ``status METHOD URL<tab>body`` per request and hands the body on unchanged.
CURL_LOGGING_STATUS = r"""
curl() {
  local answer method=GET url=""
  answer=$(command curl -sS -w '\n%{http_code}' "$@")
  local previous=""
  for argument in "$@"; do
    [[ "$previous" == "-X" ]] && method="$argument"
    [[ "$argument" == http* ]] && url="$argument"
    previous="$argument"
  done
  printf '%s %s %s\t%s\n' "${answer##*$'\n'}" "$method" "$url" \
    "$(printf '%s' "${answer%$'\n'*}" | tr -d '\n')" >> "$README_STEPS"
  printf '%s' "${answer%$'\n'*}"
}
"""


def session_blocks(readme: str) -> list[str]:
    session = readme[readme.index("## An example session") : readme.index("## Configuration")]
    return re.findall(r"```sh\n(.*?)```", session, flags=re.DOTALL)


def test_the_session_blocks_are_found() -> None:
    blocks = session_blocks(README.read_text())
    assert len(blocks) >= 5
    assert "create-user" in blocks[0] and "/fhir/R4" in blocks[1] and "/api/holds/" in blocks[2]


def test_the_example_session_runs_as_pasted(tmp_path: Path) -> None:
    blocks = session_blocks(README.read_text())
    url = f"sqlite:///{tmp_path / 'healthcare.db'}"
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    steps = tmp_path / "steps.log"
    with served(url, tmp_path, workers=1, upgrade=True) as server:
        env = {
            **server_environment(url, tmp_path / "instance"),
            "B": server.base,
            "README_STEPS": str(steps),
        }
        ran = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", CURL_LOGGING_STATUS + "\n".join(blocks)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    log = steps.read_text() if steps.exists() else ""
    assert ran.returncode == 0, f"{ran.stderr[-3000:]}\n{log}"
    answers = [_answer(line, server.base) for line in log.splitlines()]
    assert len(answers) == sum(block.count("curl -s") for block in blocks), log
    assert [a for a in answers if not a.status.startswith("2")] == [], log
    day = (date.today() + timedelta(days=7)).isoformat()

    def body(method: str, path: str, nth: int = 0) -> Any:
        """The ``nth`` answer to that method and path (ids read as ``<id>``)."""
        found = [a for a in answers if (a.method, a.path) == (method, path)]
        assert len(found) > nth, (method, path, log)
        return found[nth].body

    assert any(s["start"] == f"{day}T10:30:00Z" for s in body("GET", "/api/doctors/<id>/slots/"))
    booked = body("POST", "/api/appointments/")
    assert (booked["status"], booked["datetime"]) == ("pending", f"{day}T10:30:00Z")
    assert body("POST", "/api/appointments/<id>/confirm/")["status"] == "confirmed"
    record = body("POST", "/api/medical-records/")
    assert (record["appointment"], record["diagnosis"]) == (booked["id"], "Stable angina")
    assert [r["id"] for r in body("GET", "/api/medical-records/")] == [record["id"]]
    audited = body("GET", "/api/audit-events/")
    assert {(e["resource"], e["action"]) for e in audited} >= {("medical_record", "create"), ("medical_record", "list")}, audited
    assert body("GET", "/fhir/R4/metadata")["resourceType"] == "CapabilityStatement"
    assert body("GET", "/fhir/R4/Practitioner")["total"] == 1
    free = body("GET", "/fhir/R4/Slot")
    assert free["resourceType"] == "Bundle" and free["total"] > 0
    fhir_booked = body("POST", "/fhir/R4/Appointment")
    assert (fhir_booked["resourceType"], fhir_booked["start"]) == ("Appointment", f"{day}T11:00:00Z")
    listed = body("GET", "/fhir/R4/Appointment")
    assert {e["resource"]["id"] for e in listed["entry"]} >= {fhir_booked["id"]}
    assert body("PATCH", "/fhir/R4/Appointment/<id>")["status"] == "cancelled"
    held = body("POST", "/api/holds/")
    assert (held["start"], held["patient"]) == (f"{day}T15:00:00Z", booked["patient"])
    from_hold = body("POST", "/api/holds/<id>/book/")
    assert (from_hold["status"], from_hold["datetime"]) == ("pending", f"{day}T15:00:00Z")
    assert body("POST", "/api/appointments/", nth=1)["datetime"] == f"{day}T09:00:00Z"
    assert body("POST", "/api/waitlist/")["status"] == "waiting"
    assert body("POST", "/api/appointments/<id>/cancel/")["status"] == "cancelled"
    offer = body("GET", "/api/waitlist/<id>/")
    assert offer["status"] == "offered" and offer["hold"] is not None
    from_offer = body("POST", "/api/holds/<id>/book/", nth=1)
    assert (from_offer["patient"], from_offer["datetime"]) == (
        booked["patient"], f"{day}T09:00:00Z")
    assert body("POST", "/api/webhooks/")["secret"].startswith("whsec_")
    assert "/api/calendar/" in body("POST", "/api/calendar-feeds/")["url"]


@dataclass(frozen=True)
class Answer:
    status: str
    method: str
    path: str
    body: Any


def _answer(line: str, base: str) -> Answer:
    head, _, text = line.partition("\t")
    status, method, url = head.split(" ", 2)
    path = re.sub(r"/\d+", "/<id>", url.removeprefix(base).split("?")[0])
    return Answer(status, method, path, json.loads(text) if text else None)
