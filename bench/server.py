"""The server under test: the production command, ``healthcare serve``, on the bench database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.database import RESULTS, SECRET

VENV_BIN = Path(sys.executable).parent


class Server:
    """``healthcare serve --no-upgrade`` with ``HEALTHCARE_ENV=production``; ``workers`` and
    ``threads`` override ``WEB_CONCURRENCY`` and ``WEB_THREADS`` (default: the packaged ones)."""

    def __init__(self, url: str, workers: int | None, threads: int | None, port: int) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.env = {
            **os.environ,
            "HEALTHCARE_ENV": "production",
            "DATABASE_URL": url,
            "JWT_SECRET_KEY": SECRET,
            "HEALTHCARE_INSTANCE_PATH": str(RESULTS / "instance"),
            "LOG_LEVEL": "warning",
            # The bench signs in once and must not see its tokens expire mid-run.
            "ACCESS_TOKEN_MINUTES": "240",
        }
        if threads:
            self.env["WEB_THREADS"] = str(threads)
        self.command = [
            str(VENV_BIN / "healthcare"), "serve", "--no-upgrade", "--host", "127.0.0.1",
            "--port", str(port), *(["--workers", str(workers)] if workers else []),
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.log = open(RESULTS / "server.log", "wb")  # noqa: SIM115 - closed in __exit__
        self.process = subprocess.Popen(
            self.command, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base}/readyz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"the server did not start; see {RESULTS / 'server.log'}")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=60)
        self.log.close()

    def workers(self) -> list[int]:
        """The worker processes' ids (children of the server's main process)."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def describe(self) -> dict[str, Any]:
        from healthcare.entrypoints import server

        return {
            "command": " ".join(self.command[:3] + self.command[3:]).replace(str(VENV_BIN) + "/", ""),
            "workers": int(self.command[-1]) if "--workers" in self.command
            else int(self.env.get("WEB_CONCURRENCY", server.default_workers())),
            "threads": int(self.env.get("WEB_THREADS", server.THREADS)),
        }

    def post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]
