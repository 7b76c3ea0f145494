"""The README's example session runs as pasted, against the real server.

Every ``sh`` block from "An example session" up to "Configuration" is taken from README.md
verbatim and run, in order, by one ``bash -euo pipefail`` (its variables carry from block to
block, as in one terminal) beside a ``.venv`` that is this test's, against ``healthcare serve``
on a fresh SQLite database. ``curl`` is wrapped only to log each answer's status, so the test
can say which step failed; the dates are the README's own (a week from today), so this test
fails the day an example goes stale.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.security.servers import migrate, served, server_environment

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"

#: Logs ``status METHOD URL`` per request and hands the body on unchanged.
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
  printf '%s %s %s\n' "${answer##*$'\n'}" "$method" "$url" >> "$README_STEPS"
  printf '%s' "${answer%$'\n'*}"
}
"""


def session_blocks(readme: str) -> list[str]:
    session = readme[readme.index("## An example session") : readme.index("## Configuration")]
    return re.findall(r"```sh\n(.*?)```", session, flags=re.DOTALL)


def test_the_session_blocks_are_found() -> None:
    blocks = session_blocks(README.read_text())
    assert len(blocks) >= 4
    assert "create-user" in blocks[0] and "/fhir/R4" in blocks[1]


def test_the_example_session_runs_as_pasted(tmp_path: Path) -> None:
    blocks = session_blocks(README.read_text())
    url = f"sqlite:///{tmp_path / 'healthcare.db'}"
    migrate(url)
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    steps = tmp_path / "steps.log"
    with served(url, tmp_path, workers=1) as server:
        env = {
            **server_environment(url, tmp_path / "instance"),
            "B": server.base,
            "README_STEPS": str(steps),
        }
        script = CURL_LOGGING_STATUS + "\n".join(blocks)
        ran = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    log = steps.read_text() if steps.exists() else ""
    assert ran.returncode == 0, f"{ran.stderr[-3000:]}\n{log}"
    answered = [line.split(" ", 2) for line in log.splitlines()]
    assert len(answered) == sum(block.count("curl -s") for block in blocks), log
    refused = [line for line in answered if not line[0].startswith("2")]
    assert refused == [], log
    statuses = {(method, re.sub(r"/\d+", "/<id>", u.split("?")[0].removeprefix(server.base))):
                status for status, method, u in answered}
    assert statuses[("POST", "/api/appointments/")] == "201"
    assert statuses[("POST", "/api/appointments/<id>/confirm/")] == "200"
    assert statuses[("POST", "/api/medical-records/")] == "201"
    assert statuses[("POST", "/fhir/R4/Appointment")] == "201"
    assert statuses[("PATCH", "/fhir/R4/Appointment/<id>")] == "200"
    assert statuses[("POST", "/api/webhooks/")] == "201"
    assert statuses[("POST", "/api/calendar-feeds/")] == "201"
