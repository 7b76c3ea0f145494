"""Swagger UI and ReDoc render the API in a real browser with the internet cut off.

The real server (``healthcare serve``) runs on a free loopback port; headless Chromium
may reach loopback only (every other host resolves nowhere and goes to a dead proxy), so a page
that needed a CDN would render nothing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def _chromium() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    message = (
        "Chromium is not installed (Debian: apt-get install -y chromium); "
        "the docs pages are untested"
    )
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``healthcare serve`` on SQLite in a scratch directory, until the module's tests end."""
    workdir = tmp_path_factory.mktemp("server")
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'healthcare.db'}",
        "JWT_SECRET_KEY": "browser-test-secret-long-enough-for-hs256",
        "HEALTHCARE_ENV": "test",
        "WEB_CONCURRENCY": "1",
    }
    healthcare = Path(sys.executable).with_name("healthcare")
    process = subprocess.Popen(
        [str(healthcare), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "server.log").open("w"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(base, process, workdir / "server.log")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:  # pragma: no cover
            process.kill()
            process.wait()


def _wait_until_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the server did not become ready: {log.read_text()[-2000:]}")


def _rendered_dom(url: str, tmp_path: Path) -> str:
    chromium = _chromium()
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
        # Offline except loopback: other hosts resolve nowhere, and any request that still
        # leaves goes to a proxy port nobody listens on. Loopback bypasses proxies by default.
        "--proxy-server=127.0.0.1:9",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--virtual-time-budget=20000",
        "--dump-dom",
        url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


OPERATIONS = (
    "/api/appointments/",
    "/api/appointments/{appointment_id}/confirm/",
    "/api/doctors/{doctor_id}/slots/",
    "/api/medical-records/",
    "/api/auth/jwt/token/",
)


def test_swagger_ui_renders_the_operations_offline(server: str, tmp_path: Path) -> None:
    dom = _rendered_dom(f"{server}/api/swagger/", tmp_path)
    assert "swagger-ui" in dom
    for path in OPERATIONS:
        assert f'data-path="{path}"' in dom, path


#: Values of the document's request examples (sign-in, the seed's doctor, the booking).
EXAMPLE_VALUES = ("pat@example.com", "Dr. Smith", "2031-04-03T10:30:00Z")


def test_redoc_renders_the_operations_and_their_examples_offline(
    server: str, tmp_path: Path
) -> None:
    dom = _rendered_dom(f"{server}/api/redoc/", tmp_path)
    assert "Book an appointment inside the doctor" in dom  # an operation summary
    for path in OPERATIONS:
        assert path in dom, path
    for value in EXAMPLE_VALUES:  # the request samples are the examples, not pattern noise
        assert value in dom, value


def test_swagger_ui_shows_an_operations_request_example(server: str, tmp_path: Path) -> None:
    dom = _rendered_dom(f"{server}/api/swagger/#/auth/getTokens", tmp_path)  # opened by its id
    assert 'id="operations-auth-getTokens"' in dom
    assert "pat@example.com" in dom and "patient-password-1" in dom
