"""The production server's log: one JSON object per line, and an access line for every request
that carries its request id, the client's or the one the app chose (docs/OPERATIONS.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.security.servers import call, served, wait_until

pytestmark = pytest.mark.slow


def _lines(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def test_every_request_has_an_access_line_with_its_request_id(sqlite_url: str, tmp_path: Path) -> None:
    with served(sqlite_url, tmp_path, workers=1) as server:
        status, _, _ = call(server.base, "GET", "/healthz", headers={"X-Request-ID": "probe-17.a"})
        assert status == 200
        status, headers, _ = call(server.base, "GET", "/api/doctors/?page_size=1")
        assert status == 401
        generated = headers["X-Request-ID"]

        def access_lines() -> list[dict[str, object]]:
            return [line for line in _lines(server.output) if line["name"] == "healthcare.access"]

        assert wait_until(lambda: len(access_lines()) >= 2, timeout=5), server.output.read_text()
    by_id = {line["request_id"]: line["message"] for line in access_lines()}
    assert '"GET /healthz" 200' in str(by_id["probe-17.a"])
    assert '"GET /api/doctors/?page_size=1" 401' in str(by_id[generated])


def test_a_request_id_that_is_not_a_short_token_is_replaced_in_the_log(
    sqlite_url: str, tmp_path: Path
) -> None:
    forged = 'x" "levelname": "CRITICAL'
    with served(sqlite_url, tmp_path, workers=1) as server:
        status, headers, _ = call(server.base, "GET", "/healthz", headers={"X-Request-ID": forged})
        assert status == 200 and headers["X-Request-ID"] != forged
    lines = _lines(server.output)  # every line parses: nothing was injected
    assert any(line["request_id"] == headers["X-Request-ID"] for line in lines)
    assert all(line["levelname"] != "CRITICAL" for line in lines)
